import { describe, expect, it } from 'vitest';
import { renderAccessRegister, type AccessRegisterReport } from '../../../src/reports/index.js';
import { registerEntry } from '../store/accessRegisterContract.js';

const request = { id: 1, ...registerEntry() };
const push = {
  id: 2,
  ...registerEntry({
    method: 'platform_play',
    tier: 'shared',
    recorder: 'psv-gateway',
    retriever: { username: null, displayName: null, unit: null, credentialNo: null, staff: [] },
    purpose: null,
    destination: 'rtmp://platform.example:1935/live',
    requestId: null,
    protocol: 'rtmp',
    clientAddress: null,
  }),
};
const { endedAt: _end, ...running } = registerEntry({ method: 'view_live', requestId: 'req-2', bytes: 99 });
const report: AccessRegisterReport = {
  generatedAt: '2026-05-02T00:00:00.000Z',
  from: '2026-05-01T00:00:00.000Z',
  to: '2026-05-02T00:00:00.000Z',
  cameraId: null,
  profile: 'hubei',
  items: [request, push],
  ongoing: [{ ...running, endedAt: null }],
};
const opts = { lang: 'zh' as const, timeZone: 'Asia/Shanghai' };

describe('access register report', () => {
  it('JSON keeps every row whole, the running ones apart', () => {
    const out = renderAccessRegister(report, 'json', opts);
    expect(out.contentType).toBe('application/json');
    expect(JSON.parse(out.body.toString())).toEqual(report);
  });

  it('CSV has one line per retrieval with every field the regulations name', () => {
    const out = renderAccessRegister(report, 'csv', opts);
    expect(out.filename).toBe('access-register-2026-05-01-2026-05-02.csv');
    const lines = out.body
      .toString()
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'id,status,method,tier,recorder,retriever_username,retriever_name,retriever_unit,retriever_credential_no,staff,' +
        'started_at,ended_at,purpose,destination,camera_ids,footage_from,footage_to,bytes,request_id,exemption,protocol,client_address',
    );
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe(
      '1,ended,view_recorded,raw,approver1,officer,张伟,城东派出所,GA-101,' +
        '"张伟 (城东派出所, GA-101); 李娜 (城东派出所, GA-102)",' +
        '2026-05-01T10:00:00.000Z,2026-05-01T10:05:00.000Z,盗窃案 2026-118,viewed on site,34020000001320000001,' +
        '2026-05-01T08:00:00.000Z,2026-05-01T09:00:00.000Z,1234567,req-1,,hls,10.0.0.7',
    );
    expect(lines[2]).toContain('2,ended,platform_play,shared,psv-gateway,,,,,,');
    expect(lines[2]).toContain('rtmp://platform.example:1935/live');
    expect(lines[3]).toMatch(/^,ongoing,view_live,raw,approver1,officer,.*,2026-05-01T10:00:00\.000Z,,盗窃案/);
  });

  it('HTML is the printable form in Chinese by default, English on request', () => {
    const zh = renderAccessRegister(report, 'html', opts).body.toString();
    for (const text of ['视频图像信息调取登记表', '登记人', '调取人', '调取事由', '去向', '回放查看', '平台调用']) {
      expect(zh).toContain(text);
    }
    // Times print in the reader's zone.
    expect(zh).toContain('2026-05-01 18:00:00');
    expect(zh).toContain('张伟 / officer; 张伟 (城东派出所, GA-101); 李娜 (城东派出所, GA-102)');
    const en = renderAccessRegister(report, 'html', { ...opts, lang: 'en' }).body.toString();
    for (const text of [
      'Access register',
      'Recorder',
      'Retriever',
      'Purpose',
      'Destination',
      'view recorded',
      'platform play',
      'ongoing',
    ]) {
      expect(en).toContain(text);
    }
  });

  it('PDF is a Latin-1 document with English labels', () => {
    const pdf = renderAccessRegister(report, 'pdf', opts);
    expect(pdf.contentType).toBe('application/pdf');
    const text = pdf.body.toString('latin1');
    expect(text.startsWith('%PDF-1.4')).toBe(true);
    expect(text).toContain('(Access register)');
    expect(text).toContain('(req-1)');
  });

  it('refuses an unknown format, naming the known ones', () => {
    expect(() => renderAccessRegister(report, 'xlsx', opts)).toThrow(/format must be one of json, csv, html, pdf/);
  });
});
