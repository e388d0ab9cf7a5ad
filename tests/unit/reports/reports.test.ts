import { describe, expect, it } from 'vitest';
import { DEMO_SOURCE_URL, type CameraRecord } from '../../../src/domain/index.js';
import { getProfile } from '../../../src/config/index.js';
import { buildFilingReport, buildOutageReport, renderFilingReport, renderOutageReport, renderPdf } from '../../../src/reports/index.js';
import { toCsv } from '../../../src/reports/csv.js';
import { escapeHtml } from '../../../src/reports/html.js';
import type { OutageRecord } from '../../../src/store/index.js';
import { cameraRecord } from '../../helpers/cameraRecords.js';

function cam(id: string, over: Partial<CameraRecord> = {}): CameraRecord {
  return cameraRecord(id, {
    name: `Cam ${id}`,
    rtspUrl: 'rtsp://x/1',
    siteType: 'road',
    commissionedAt: '2026-01-01',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  });
}

let nextId = 1;
function outage(cameraId: string, startedAt: string, endedAt: string | null, planned = false, cause = 'unreachable'): OutageRecord {
  return { id: nextId++, cameraId, kind: 'camera_down', cause, startedAt, endedAt, planned, details: {} };
}

const opts = { lang: 'en' as const, timeZone: 'Asia/Shanghai' };

describe('outage report', () => {
  const from = new Date('2026-11-01T00:00:00Z');
  const to = new Date('2026-11-02T00:00:00Z');
  const now = new Date('2026-11-05T00:00:00Z');

  it('counts unplanned downtime once where outages overlap, and leaves planned stops out of uptime', () => {
    const report = buildOutageReport({
      from,
      to,
      now,
      cameras: [cam('a'), cam('b')],
      maintenance: [],
      outages: [
        outage('a', '2026-11-01T01:00:00Z', '2026-11-01T02:00:00Z'),
        { ...outage('a', '2026-11-01T01:30:00Z', '2026-11-01T03:00:00Z'), kind: 'image_black', cause: 'image_black' },
        outage('a', '2026-11-01T10:00:00Z', '2026-11-01T12:00:00Z', true),
        // Started before the range: only its part inside counts.
        outage('b', '2026-10-31T23:00:00Z', '2026-11-01T01:12:00Z'),
      ],
    });
    const a = report.cameras.find((c) => c.cameraId === 'a');
    expect(a).toMatchObject({ observedSeconds: 86400, downSeconds: 7200, plannedDownSeconds: 7200, outages: 3 });
    expect(a?.uptimePercent).toBeCloseTo(91.67, 2);
    expect(report.cameras.find((c) => c.cameraId === 'b')).toMatchObject({ downSeconds: 4320, uptimePercent: 95 });
    // The stop's own duration is whole, from its start to its end.
    expect(report.rows.find((r) => r.cameraId === 'b')?.durationSeconds).toBe(7920);
  });

  it('counts an open outage up to now, and a camera from its commissioning to its removal', () => {
    const report = buildOutageReport({
      from,
      to,
      now: new Date('2026-11-01T12:00:00Z'),
      cameras: [cam('a', { commissionedAt: '2026-11-01', removedAt: null }), cam('c', { commissionedAt: '2026-12-01' })],
      maintenance: [],
      outages: [outage('a', '2026-11-01T06:00:00Z', null)],
    });
    expect(report.rows[0]).toMatchObject({ endedAt: null, durationSeconds: 6 * 3600 });
    expect(report.cameras.find((c) => c.cameraId === 'a')).toMatchObject({
      observedSeconds: 12 * 3600,
      downSeconds: 6 * 3600,
      uptimePercent: 50,
    });
    expect(report.cameras.find((c) => c.cameraId === 'c')).toMatchObject({ observedSeconds: 0, uptimePercent: null });
  });

  it('renders CSV with ISO times, bilingual HTML in local time, and a well-formed PDF', () => {
    const report = buildOutageReport({
      from,
      to,
      now,
      cameras: [cam('a', { name: '南门 <gate>' })],
      maintenance: [],
      outages: [outage('a', '2026-11-01T01:00:00.000Z', '2026-11-01T01:00:42.000Z')],
    });
    const csv = renderOutageReport(report, 'csv', opts).body.toString('utf8');
    expect(csv).toContain('a,南门 <gate>,camera_down,unreachable,2026-11-01T01:00:00.000Z,2026-11-01T01:00:42.000Z,42,false');
    const html = renderOutageReport(report, 'html', { ...opts, lang: 'bilingual' }).body.toString('utf8');
    expect(html).toContain('南门 &lt;gate&gt;');
    expect(html).toContain('2026-11-01 09:00:00');
    expect(html).toContain('网络不通 unreachable');
    expect(html).toContain('00:00:42');
    const pdf = renderOutageReport(report, 'pdf', opts);
    expect(pdf.contentType).toBe('application/pdf');
    expect(pdf.body.toString('latin1')).toContain('(Camera outage report)');
    expect(() => renderOutageReport(report, 'docx', opts)).toThrow(/format must be one of csv, html, pdf, json/);
  });
});

describe('PDF writer', () => {
  it('writes an xref table whose offsets point at each object, over several pages', () => {
    const rows = Array.from({ length: 120 }, (_, i) => [`row ${i}`, '中文', 'a (b) \\ c']);
    const pdf = renderPdf(['Title', 'sub'], [{ title: 'T', header: ['A', 'B', 'C'], rows }]).toString('latin1');
    const xrefAt = Number(/startxref\n(\d+)\n%%EOF/.exec(pdf)?.[1]);
    expect(pdf.slice(xrefAt, xrefAt + 4)).toBe('xref');
    const entries = pdf
      .slice(xrefAt)
      .split('\n')
      .slice(3)
      .filter((l) => / 00000 n $/.test(l));
    entries.forEach((line, i) => expect(pdf.startsWith(`${i + 1} 0 obj\n`, Number(line.slice(0, 10)))).toBe(true));
    expect(Number(/\/Count (\d+)/.exec(pdf)?.[1])).toBeGreaterThan(1);
    // Non-Latin-1 text prints as "?", parentheses and backslashes are escaped.
    expect(pdf).toContain('(??)');
    expect(pdf).toContain('(a \\(b\\) \\\\ c)');
  });
});

describe('filing report', () => {
  const now = new Date('2026-12-01T08:00:00Z');
  const cameras = [
    cam('late', { commissionedAt: '2026-10-01' }),
    cam('fresh', { commissionedAt: '2026-11-20' }),
    cam('filed', { commissionedAt: '2026-10-01' }),
    cam('filedLate', { commissionedAt: '2026-09-01' }),
    cam('removing', { commissionedAt: '2026-01-01', removedAt: '2026-12-20' }),
    cam('noDate', { commissionedAt: null, createdAt: '2026-11-25T10:00:00.000Z' }),
  ];
  const filings = [
    { id: 1, cameraId: 'filed', event: 'commissioning' as const, filedAt: '2026-10-20', reference: 'BA-1', createdAt: '' },
    { id: 2, cameraId: 'filedLate', event: 'commissioning' as const, filedAt: '2026-11-15', reference: null, createdAt: '' },
    { id: 3, cameraId: 'removing', event: 'commissioning' as const, filedAt: '2026-01-10', reference: null, createdAt: '' },
  ];

  it('counts 30 days from going live, flags overdue ones, and files removal 30 days before it under hubei', () => {
    const r = buildFilingReport({ cameras, filings, profile: getProfile('hubei'), now });
    const by = (id: string) => r.rows.find((x) => x.cameraId === id);
    expect(r.deadlineDays).toBe(30);
    expect(r.source).toBe('hubei-2013 Art. 11');
    expect(by('late')?.deadlines).toEqual([
      { event: 'commissioning', eventDate: '2026-10-01', dueDate: '2026-10-31', filedAt: null, status: 'overdue' },
    ]);
    expect(by('late')?.overdue).toBe(true);
    expect(by('fresh')?.deadlines[0]).toMatchObject({ dueDate: '2026-12-20', status: 'due' });
    expect(by('filed')?.deadlines[0]).toMatchObject({ status: 'filed', filedAt: '2026-10-20' });
    expect(by('filedLate')?.deadlines[0]?.status).toBe('filed_late');
    expect(by('filedLate')?.overdue).toBe(false);
    // Removal on 20 Dec: hubei wants it filed by 20 Nov, which has passed.
    expect(by('removing')?.deadlines[1]).toMatchObject({ event: 'removal', dueDate: '2026-11-20', status: 'overdue' });
    expect(by('noDate')?.deadlines[0]).toMatchObject({ eventDate: '2026-11-25', dueDate: '2026-12-25' });
  });

  it('files removal within 30 days after it under qingdao, and sets no deadline under zhuzhou', () => {
    const q = buildFilingReport({ cameras, filings, profile: getProfile('qingdao'), now });
    expect(q.rows.find((x) => x.cameraId === 'removing')?.deadlines[1]).toMatchObject({ dueDate: '2027-01-19', status: 'due' });
    const z = buildFilingReport({ cameras, filings, profile: getProfile('zhuzhou'), now });
    expect(z.deadlineDays).toBeNull();
    expect(z.rows.every((x) => x.deadlines.length === 0 && !x.overdue)).toBe(true);
  });

  it('renders CSV, GeoJSON points and a printable HTML page with overdue rows flagged', () => {
    const withPlace = cameras.map((c) => (c.id === 'late' ? { ...c, lat: 30.5, lon: 114.3, signageInstalled: true } : c));
    const r = buildFilingReport({ cameras: withPlace, filings, profile: getProfile('strict'), now });
    const csv = renderFilingReport(r, 'csv', opts).body.toString('utf8');
    expect(csv.split('\r\n')[1]).toBe('late,Cam late,road,,30.5,114.3,,true,2026-10-01,,2026-10-31,overdue,,,true');
    const geo = JSON.parse(renderFilingReport(r, 'geojson', opts).body.toString('utf8')) as {
      features: Array<{ id: string; geometry: unknown }>;
    };
    expect(geo.features[0]).toMatchObject({ id: 'late', geometry: { type: 'Point', coordinates: [114.3, 30.5] } });
    expect(geo.features[1]?.geometry).toBeNull();
    const html = renderFilingReport(r, 'html', { ...opts, lang: 'zh' }).body.toString('utf8');
    expect(html).toContain('<tr class="flag"><td>late</td>');
    expect(html).toContain('2026-10-31 已逾期');
    expect(html).toContain('@page { size: A4 landscape');
  });
});

describe('CSV and HTML escaping', () => {
  it('quotes separators and neutralises spreadsheet formulas', () => {
    expect(toCsv(['a'], [['x,y'], ['say "hi"'], ['=HYPERLINK("x")'], [-3], [null]])).toBe(
      '\uFEFFa\r\n"x,y"\r\n"say ""hi"""\r\n"\'=HYPERLINK(""x"")"\r\n-3\r\n\r\n',
    );
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('demo cameras', () => {
  const demo = cam('demo', { rtspUrl: DEMO_SOURCE_URL });

  it('are left out of the filing report', () => {
    const r = buildFilingReport({
      cameras: [cam('real'), demo],
      filings: [],
      profile: getProfile('hubei'),
      now: new Date('2026-12-01T08:00:00Z'),
    });
    expect(r.rows.map((x) => x.cameraId)).toEqual(['real']);
  });

  it('are left out of the outage report, their outages on demand included', () => {
    const report = buildOutageReport({
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
      now: new Date('2026-11-05T00:00:00Z'),
      cameras: [cam('real'), demo],
      maintenance: [],
      outages: [
        outage('demo', '2026-11-01T01:00:00Z', '2026-11-01T01:00:10Z'),
        outage('real', '2026-11-01T02:00:00Z', '2026-11-01T03:00:00Z'),
      ],
    });
    expect(report.rows.map((r) => r.cameraId)).toEqual(['real']);
    expect(report.cameras.map((c) => c.cameraId)).toEqual(['real']);
  });
});
