/**
 * The access register as the form a filing police station asks for (视频图像信息调取登记表):
 * one line per retrieval with recorder, retriever, time, method, purpose, destination,
 * cameras, footage range, bytes and the request or exemption it ran under. CSV and JSON
 * keep ISO UTC times and raw values; HTML prints in the reader's language and zone; PDF
 * is Latin-1 only (English labels; Chinese names print as "?": use HTML for them).
 */
import type { NewRegisterEntry, RegisterEntry } from '../domain/index.js';
import { toCsv } from './csv.js';
import { htmlPage } from './html.js';
import { label, registerTerm, type LabelKey, type ReportLang } from './labels.js';
import { renderPdf } from './pdf.js';
import { checkChoice, jsonReport, localTime, type RenderedReport, type RenderOptions } from './render.js';

export const REGISTER_FORMATS = ['json', 'csv', 'html', 'pdf'] as const;

/** A retrieval still running when the register was read. */
export type OngoingRegisterEntry = Omit<NewRegisterEntry, 'endedAt'> & { endedAt: null };

export interface AccessRegisterReport {
  generatedAt: string;
  /** The period asked for (ISO). */
  from: string;
  to: string;
  cameraId: string | null;
  profile: string;
  items: RegisterEntry[];
  ongoing: OngoingRegisterEntry[];
}

type Row = RegisterEntry | (OngoingRegisterEntry & { id?: undefined });

const CSV_HEADER = [
  'id',
  'status',
  'method',
  'tier',
  'recorder',
  'retriever_username',
  'retriever_name',
  'retriever_unit',
  'retriever_credential_no',
  'staff',
  'started_at',
  'ended_at',
  'purpose',
  'destination',
  'camera_ids',
  'footage_from',
  'footage_to',
  'bytes',
  'request_id',
  'exemption',
  'protocol',
  'client_address',
];

/** Staff as `name (unit, credential no.)`, joined by `; `. */
function staffText(r: Row): string {
  return r.retriever.staff.map((s) => `${s.name} (${s.unit}, ${s.credentialNo})`).join('; ');
}

export function renderAccessRegister(report: AccessRegisterReport, format: string, opts: RenderOptions): RenderedReport {
  const fmt = checkChoice('format', format, REGISTER_FORMATS);
  const base = `access-register-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}`;
  if (fmt === 'json') return jsonReport(report, `${base}.json`);
  const rows: Row[] = [...report.items, ...report.ongoing];
  if (fmt === 'csv') {
    const body = toCsv(
      CSV_HEADER,
      rows.map((r) => [
        r.id ?? null,
        r.endedAt === null ? 'ongoing' : 'ended',
        r.method,
        r.tier,
        r.recorder,
        r.retriever.username,
        r.retriever.displayName,
        r.retriever.unit,
        r.retriever.credentialNo,
        staffText(r),
        r.startedAt,
        r.endedAt,
        r.purpose,
        r.destination,
        r.cameraIds.join(' '),
        r.footageFrom,
        r.footageTo,
        r.bytes,
        r.requestId,
        r.exemption,
        r.protocol,
        r.clientAddress,
      ]),
    );
    return { contentType: 'text/csv; charset=utf-8', filename: `${base}.csv`, body: Buffer.from(body) };
  }
  const lang: ReportLang = fmt === 'pdf' ? 'en' : opts.lang;
  const t = (k: LabelKey) => label(k, lang);
  const when = (iso: string | null) => (iso === null ? t('ongoing') : localTime(iso, opts.timeZone));
  const retriever = (r: Row) => {
    const user = r.retriever.username === null ? '' : [r.retriever.displayName, r.retriever.username].filter(Boolean).join(' / ');
    return [user, staffText(r)].filter((x) => x !== '').join('; ');
  };
  const table = {
    caption: t('registerRows'),
    header: [
      t('registerNo'),
      t('method'),
      t('tier'),
      t('recorder'),
      t('retriever'),
      t('start'),
      t('end'),
      t('purpose'),
      t('destination'),
      t('camera'),
      t('footage'),
      t('bytes'),
      t('basis'),
      t('client'),
    ],
    rows: rows.map((r) => [
      r.id === undefined ? '-' : String(r.id),
      registerTerm(r.method, lang),
      registerTerm(r.tier, lang),
      r.recorder,
      retriever(r),
      when(r.startedAt),
      when(r.endedAt),
      r.purpose ?? '',
      r.destination ?? '',
      r.cameraIds.join(' '),
      `${when(r.footageFrom)} - ${when(r.footageTo)}`,
      String(r.bytes),
      r.requestId ?? r.exemption ?? '',
      r.clientAddress ?? '',
    ]),
  };
  const range = `${localTime(report.from, opts.timeZone)} - ${localTime(report.to, opts.timeZone)} (${opts.timeZone})`;
  const camera = report.cameraId ?? t('allCameras');
  if (fmt === 'pdf') {
    const heading = [
      t('registerTitle'),
      `${t('range')}: ${range}`,
      `${t('camera')}: ${camera}`,
      `${t('profile')}: ${report.profile}`,
      `${t('generatedAt')}: ${localTime(report.generatedAt, opts.timeZone)}`,
    ];
    return {
      contentType: 'application/pdf',
      filename: `${base}.pdf`,
      body: renderPdf(heading, [{ title: table.caption, header: table.header, rows: table.rows }]),
    };
  }
  const html = htmlPage({
    lang,
    title: 'registerTitle',
    facts: [
      ['range', range],
      ['camera', camera],
      ['profile', report.profile],
      ['generatedAt', localTime(report.generatedAt, opts.timeZone)],
    ],
    tables: [table],
  });
  return { contentType: 'text/html; charset=utf-8', filename: `${base}.html`, body: Buffer.from(html) };
}
