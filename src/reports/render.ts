import { GatewayError } from '../errors.js';
import { toCsv } from './csv.js';
import { formatDuration } from './duration.js';
import { filingGeoJson, type FilingDeadline, type FilingReport } from './filingReport.js';
import { htmlPage } from './html.js';
import { causeLabel, label, REPORT_LANGS, type LabelKey, type ReportLang } from './labels.js';
import type { OutageReport } from './outageReport.js';
import { renderPdf } from './pdf.js';

export const OUTAGE_FORMATS = ['csv', 'html', 'pdf', 'json'] as const;
export const FILING_FORMATS = ['csv', 'geojson', 'html', 'json'] as const;

export interface RenderedReport {
  contentType: string;
  filename: string;
  body: Buffer;
}

export interface RenderOptions {
  lang: ReportLang;
  /** IANA zone the HTML and PDF print times in (CSV and JSON keep ISO UTC). */
  timeZone: string;
}

export function checkChoice<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new GatewayError('VALIDATION_FAILED', `${what} must be one of ${allowed.join(', ')} (got "${value}")`);
}

export function checkLang(value: string | undefined): ReportLang {
  return checkChoice('lang', value ?? 'zh', REPORT_LANGS);
}

export function checkTimeZone(value: string | undefined): string {
  const zone = value ?? 'Asia/Shanghai';
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    throw new GatewayError('VALIDATION_FAILED', `unknown time zone "${zone}"`, { hint: 'Use an IANA zone name such as Asia/Shanghai.' });
  }
}

/** `YYYY-MM-DD HH:mm:ss` in the zone. */
export function localTime(iso: string | null, zone: string): string {
  if (iso === null) return '';
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export const json = (value: unknown, filename: string): RenderedReport => ({
  contentType: 'application/json',
  filename,
  body: Buffer.from(`${JSON.stringify(value, null, 2)}\n`),
});

export function renderOutageReport(report: OutageReport, format: string, opts: RenderOptions): RenderedReport {
  const fmt = checkChoice('format', format, OUTAGE_FORMATS);
  const base = `outages-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}`;
  if (fmt === 'json') return json(report, `${base}.json`);
  if (fmt === 'csv') {
    const body = toCsv(
      ['camera_id', 'camera_name', 'kind', 'cause', 'started_at', 'ended_at', 'duration_seconds', 'planned'],
      report.rows.map((r) => [r.cameraId, r.cameraName, r.kind, r.cause, r.startedAt, r.endedAt, Math.round(r.durationSeconds), r.planned]),
    );
    return { contentType: 'text/csv; charset=utf-8', filename: `${base}.csv`, body: Buffer.from(body) };
  }
  // PDF text is Latin-1 only: English labels, camera IDs instead of names.
  const lang: ReportLang = fmt === 'pdf' ? 'en' : opts.lang;
  const t = (k: LabelKey) => label(k, lang);
  const yesNo = (b: boolean) => t(b ? 'yes' : 'no');
  const when = (iso: string | null) => (iso === null ? t('ongoing') : localTime(iso, opts.timeZone));
  const stops = {
    caption: t('stops'),
    header: [t('camera'), ...(fmt === 'pdf' ? [] : [t('name')]), t('cause'), t('start'), t('end'), t('duration'), t('planned')],
    rows: report.rows.map((r) => [
      r.cameraId,
      ...(fmt === 'pdf' ? [] : [r.cameraName]),
      causeLabel(r.cause, lang),
      when(r.startedAt),
      when(r.endedAt),
      formatDuration(r.durationSeconds),
      yesNo(r.planned),
    ]),
  };
  const uptime = {
    caption: t('uptime'),
    header: [
      t('camera'),
      ...(fmt === 'pdf' ? [] : [t('name')]),
      t('outageCount'),
      t('observed'),
      t('downtime'),
      t('plannedDowntime'),
      t('uptimePercent'),
    ],
    rows: report.cameras.map((c) => [
      c.cameraId,
      ...(fmt === 'pdf' ? [] : [c.cameraName]),
      String(c.outages),
      formatDuration(c.observedSeconds),
      formatDuration(c.downSeconds),
      formatDuration(c.plannedDownSeconds),
      c.uptimePercent === null ? '-' : `${c.uptimePercent.toFixed(2)}%`,
    ]),
  };
  const maintenance = {
    caption: t('maintenance'),
    header: [t('camera'), t('start'), t('end'), t('reason')],
    rows: report.maintenance.map((w) => [w.cameraId ?? t('allCameras'), when(w.startsAt), when(w.endsAt), w.reason]),
  };
  const range = `${localTime(report.from, opts.timeZone)} - ${localTime(report.to, opts.timeZone)} (${opts.timeZone})`;
  if (fmt === 'pdf') {
    const heading = [t('outageTitle'), `${t('range')}: ${range}`, `${t('generatedAt')}: ${localTime(report.generatedAt, opts.timeZone)}`];
    const tables = [stops, uptime, maintenance].map((x) => ({ title: x.caption, header: x.header, rows: x.rows }));
    return { contentType: 'application/pdf', filename: `${base}.pdf`, body: renderPdf(heading, tables) };
  }
  const html = htmlPage({
    lang,
    title: 'outageTitle',
    facts: [
      ['range', range],
      ['generatedAt', localTime(report.generatedAt, opts.timeZone)],
    ],
    tables: [stops, uptime, maintenance],
  });
  return { contentType: 'text/html; charset=utf-8', filename: `${base}.html`, body: Buffer.from(html) };
}

function statusText(d: FilingDeadline, lang: ReportLang): string {
  const key: Record<FilingDeadline['status'], LabelKey> = { filed: 'filed', filed_late: 'filedLate', due: 'due', overdue: 'overdue' };
  return `${label(key[d.status], lang)}${d.filedAt ? ` (${d.filedAt})` : ''}`;
}

export function renderFilingReport(report: FilingReport, format: string, opts: RenderOptions): RenderedReport {
  const fmt = checkChoice('format', format, FILING_FORMATS);
  const base = `filing-${report.generatedAt.slice(0, 10)}`;
  if (fmt === 'json') return json(report, `${base}.json`);
  if (fmt === 'geojson')
    return {
      contentType: 'application/geo+json',
      filename: `${base}.geojson`,
      body: Buffer.from(`${JSON.stringify(filingGeoJson(report), null, 2)}\n`),
    };
  const due = (r: FilingReport['rows'][number], event: FilingDeadline['event']) => r.deadlines.find((d) => d.event === event);
  if (fmt === 'csv') {
    const body = toCsv(
      [
        'camera_id',
        'name',
        'site_type',
        'address',
        'lat',
        'lon',
        'owner_unit',
        'signage_installed',
        'commissioned_at',
        'removed_at',
        'commissioning_filing_due',
        'commissioning_filing_status',
        'removal_filing_due',
        'removal_filing_status',
        'overdue',
      ],
      report.rows.map((r) => [
        r.cameraId,
        r.name,
        r.siteType,
        r.address,
        r.lat,
        r.lon,
        r.ownerUnit,
        r.signageInstalled,
        r.commissionedAt,
        r.removedAt,
        due(r, 'commissioning')?.dueDate ?? null,
        due(r, 'commissioning')?.status ?? null,
        due(r, 'removal')?.dueDate ?? null,
        due(r, 'removal')?.status ?? null,
        r.overdue,
      ]),
    );
    return { contentType: 'text/csv; charset=utf-8', filename: `${base}.csv`, body: Buffer.from(body) };
  }
  const lang = opts.lang;
  const t = (k: LabelKey) => label(k, lang);
  const cell = (d: FilingDeadline | undefined) => (d === undefined ? '' : `${d.dueDate} ${statusText(d, lang)}`);
  const rule =
    report.deadlineDays === null
      ? `${t('notRequired')} (${report.source})`
      : `${report.deadlineDays} (${report.source}; removal ${report.removalRule === 'before' ? 'before' : 'after'})`;
  const html = htmlPage({
    lang,
    title: 'filingTitle',
    facts: [
      ['profile', report.profile],
      ['deadlineRule', rule],
      ['generatedAt', localTime(report.generatedAt, opts.timeZone)],
    ],
    tables: [
      {
        caption: t('filingTitle'),
        header: [
          t('camera'),
          t('name'),
          t('siteType'),
          t('address'),
          t('location'),
          t('owner'),
          t('signage'),
          t('commissioned'),
          t('removed'),
          t('commissioningDue'),
          t('removalDue'),
        ],
        rows: report.rows.map((r) => [
          r.cameraId,
          r.name,
          r.siteType,
          r.address ?? '',
          r.lat === null || r.lon === null ? '' : `${r.lat}, ${r.lon}`,
          r.ownerUnit ?? '',
          t(r.signageInstalled ? 'yes' : 'no'),
          r.commissionedAt ?? '',
          r.removedAt ?? '',
          cell(due(r, 'commissioning')),
          cell(due(r, 'removal')),
        ]),
        flagged: new Set(report.rows.flatMap((r, i) => (r.overdue ? [i] : []))),
      },
    ],
  });
  return { contentType: 'text/html; charset=utf-8', filename: `${base}.html`, body: Buffer.from(html) };
}
