/**
 * The report of public requests over a period (zhuzhou-2023 Art. 14, yunnan-2016 Art. 16):
 * intake, police decision, the export request a release ran under, and the result. The
 * applicant's identity document appears masked (type and last four characters): the report
 * is printed and handed on, and the full number stays in the gateway's record.
 */
import { maskDocumentNumber, type PublicRequest } from '../domain/index.js';
import { toCsv } from './csv.js';
import { htmlPage } from './html.js';
import { label, type LabelKey, type ReportLang } from './labels.js';
import { checkChoice, jsonReport, localTime, type RenderedReport, type RenderOptions } from './render.js';

export const PUBLIC_REQUEST_FORMATS = ['json', 'csv', 'html'] as const;

export interface PublicRequestRow {
  id: string;
  filedAt: string;
  filedBy: string;
  category: PublicRequest['category'];
  applicant: string;
  relationship: string;
  /** e.g. `resident_id ****1234`. */
  idDocument: string;
  reason: string;
  cameraIds: string[];
  from: string;
  to: string;
  decision: PublicRequest['decision'];
  decisionReason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  accessRequestId: string | null;
  result: PublicRequest['result'];
  resultNotes: string | null;
  resultAt: string | null;
}

export interface PublicRequestReport {
  from: string;
  to: string;
  generatedAt: string;
  profile: string;
  totals: { filed: number; released: number; refused: number; referred: number; undecided: number; closed: number };
  rows: PublicRequestRow[];
}

/** Oldest first, as a register reads. */
export function buildPublicRequestReport(opts: {
  from: Date;
  to: Date;
  now: Date;
  profile: string;
  requests: readonly PublicRequest[];
}): PublicRequestReport {
  const rows = [...opts.requests]
    .sort((a, b) => a.filedAt.localeCompare(b.filedAt))
    .map((r) => ({
      id: r.id,
      filedAt: r.filedAt,
      filedBy: r.filedBy.username,
      category: r.category,
      applicant: r.applicant.name,
      relationship: r.applicant.relationship,
      idDocument: maskDocumentNumber(r.applicant.idDocument),
      reason: r.reason,
      cameraIds: r.cameraIds,
      from: r.from,
      to: r.to,
      decision: r.decision,
      decisionReason: r.decisionReason,
      decidedBy: r.decidedBy,
      decidedAt: r.decidedAt,
      accessRequestId: r.accessRequestId,
      result: r.result,
      resultNotes: r.resultNotes,
      resultAt: r.resultAt,
    }));
  const count = (pred: (r: PublicRequestRow) => boolean) => rows.filter(pred).length;
  return {
    from: opts.from.toISOString(),
    to: opts.to.toISOString(),
    generatedAt: opts.now.toISOString(),
    profile: opts.profile,
    totals: {
      filed: rows.length,
      released: count((r) => r.decision === 'release'),
      refused: count((r) => r.decision === 'refuse'),
      referred: count((r) => r.decision === 'refer'),
      undecided: count((r) => r.decision === null),
      closed: count((r) => r.result !== null),
    },
    rows,
  };
}

export function renderPublicRequestReport(report: PublicRequestReport, format: string, opts: RenderOptions): RenderedReport {
  const fmt = checkChoice('format', format, PUBLIC_REQUEST_FORMATS);
  const base = `public-requests-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}`;
  if (fmt === 'json') return jsonReport(report, `${base}.json`);
  if (fmt === 'csv') {
    const body = toCsv(
      [
        'id',
        'filed_at',
        'filed_by',
        'category',
        'applicant',
        'relationship',
        'id_document',
        'reason',
        'camera_ids',
        'from',
        'to',
        'decision',
        'decision_reason',
        'decided_by',
        'decided_at',
        'access_request_id',
        'result',
        'result_notes',
        'result_at',
      ],
      report.rows.map((r) => [
        r.id,
        r.filedAt,
        r.filedBy,
        r.category,
        r.applicant,
        r.relationship,
        r.idDocument,
        r.reason,
        r.cameraIds.join(' '),
        r.from,
        r.to,
        r.decision,
        r.decisionReason,
        r.decidedBy,
        r.decidedAt,
        r.accessRequestId,
        r.result,
        r.resultNotes,
        r.resultAt,
      ]),
    );
    return { contentType: 'text/csv; charset=utf-8', filename: `${base}.csv`, body: Buffer.from(body) };
  }
  const lang: ReportLang = opts.lang;
  const t = (k: LabelKey) => label(k, lang);
  const when = (iso: string | null) => (iso === null ? '' : localTime(iso, opts.timeZone));
  const range = `${localTime(report.from, opts.timeZone)} - ${localTime(report.to, opts.timeZone)} (${opts.timeZone})`;
  const html = htmlPage({
    lang,
    title: 'publicRequestsTitle',
    facts: [
      ['range', range],
      ['profile', report.profile],
      ['generatedAt', localTime(report.generatedAt, opts.timeZone)],
    ],
    tables: [
      {
        caption: t('publicRequestsTitle'),
        header: [
          t('requestId'),
          t('filedAt'),
          t('filedBy'),
          t('category'),
          t('applicant'),
          t('relationship'),
          t('idDocument'),
          t('reason'),
          t('cameras'),
          t('footageRange'),
          t('decision'),
          t('decidedBy'),
          t('decidedAt'),
          t('accessRequest'),
          t('result'),
          t('resultAt'),
        ],
        rows: report.rows.map((r) => [
          r.id,
          when(r.filedAt),
          r.filedBy,
          t(r.category),
          r.applicant,
          r.relationship,
          r.idDocument,
          r.reason,
          r.cameraIds.join(', '),
          `${when(r.from)} - ${when(r.to)}`,
          r.decision === null ? t('pendingDecision') : `${t(r.decision)}: ${r.decisionReason ?? ''}`,
          r.decidedBy ?? '',
          when(r.decidedAt),
          r.accessRequestId ?? '',
          r.result === null ? '' : `${t(r.result)}: ${r.resultNotes ?? ''}`,
          when(r.resultAt),
        ]),
      },
    ],
  });
  return { contentType: 'text/html; charset=utf-8', filename: `${base}.html`, body: Buffer.from(html) };
}
