import { describe, expect, it } from 'vitest';
import { maskDocumentNumber, type PublicRequest } from '../../../src/domain/index.js';
import { buildPublicRequestReport, renderPublicRequestReport } from '../../../src/reports/index.js';

const ID_NUMBER = '430202198001011234';

function request(over: Partial<PublicRequest>): PublicRequest {
  return {
    id: 'pr-1',
    category: 'missing_person',
    applicant: { name: '王芳', contact: '13800000000', relationship: '女儿', idDocument: { type: 'resident_id', number: ID_NUMBER } },
    reason: 'father missing',
    cameraIds: ['cam-1'],
    from: '2026-05-01T00:00:00.000Z',
    to: '2026-05-01T02:00:00.000Z',
    profile: 'zhuzhou',
    state: 'filed',
    filedBy: { userId: 'u1', username: 'desk' },
    filedAt: '2026-05-01T03:00:00.000Z',
    decision: null,
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
    accessRequestId: null,
    result: null,
    resultNotes: null,
    resultBy: null,
    resultAt: null,
    ...over,
  };
}

const released = request({
  id: 'pr-2',
  filedAt: '2026-05-01T01:00:00.000Z',
  state: 'closed',
  decision: 'release',
  decidedBy: 'officer',
  decidedAt: '2026-05-01T04:00:00.000Z',
  decisionReason: 'guardian verified',
  accessRequestId: 'ar-9',
  result: 'handed_over',
  resultNotes: 'watermarked clip handed over',
  resultAt: '2026-05-01T05:00:00.000Z',
});

const report = buildPublicRequestReport({
  from: new Date('2026-05-01T00:00:00Z'),
  to: new Date('2026-05-02T00:00:00Z'),
  now: new Date('2026-05-02T00:00:00Z'),
  profile: 'zhuzhou',
  requests: [request({}), released],
});
const opts = { lang: 'zh' as const, timeZone: 'Asia/Shanghai' };

describe('public request report', () => {
  it('orders by filing time, counts decisions and masks the identity document', () => {
    expect(report.rows.map((r) => r.id)).toEqual(['pr-2', 'pr-1']);
    expect(report.totals).toEqual({ filed: 2, released: 1, refused: 0, referred: 0, undecided: 1, closed: 1 });
    expect(maskDocumentNumber({ type: 'resident_id', number: ID_NUMBER })).toBe('resident_id ****1234');
  });

  it('renders JSON, CSV and HTML (zh default, en option) without the full document number', () => {
    for (const format of ['json', 'csv', 'html']) {
      const body = renderPublicRequestReport(report, format, opts).body.toString();
      expect(body).not.toContain(ID_NUMBER);
      expect(body).toContain('ar-9');
    }
    const zh = renderPublicRequestReport(report, 'html', opts).body.toString();
    expect(zh).toContain('群众申请查阅视频图像信息登记表');
    expect(zh).toContain('同意提供: guardian verified');
    expect(zh).toContain('2026-05-01 12:00:00'); // decidedAt in Asia/Shanghai
    const en = renderPublicRequestReport(report, 'html', { ...opts, lang: 'en' }).body.toString();
    expect(en).toContain('Public requests for footage');
    expect(en).toContain('footage handed over: watermarked clip handed over');
    const csv = renderPublicRequestReport(report, 'csv', opts);
    expect(csv.contentType).toContain('text/csv');
    expect(csv.body.toString().split('\r\n')[0]).toContain('id,filed_at,filed_by,category');
  });

  it('refuses an unknown format, naming the choices', () => {
    expect(() => renderPublicRequestReport(report, 'pdf', opts)).toThrow('format must be one of json, csv, html');
  });
});
