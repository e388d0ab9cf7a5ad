/**
 * The parts of the dossier, one builder each. A part is a name, a title and a builder that
 * reads the store for the period and returns its machine-readable JSON and printable HTML
 * (and PDF where the reports module renders one). A new part is one more entry in
 * DOSSIER_PARTS; the bundle, the manifest and verification need no change.
 */
import { allCameras } from '../cameras/index.js';
import { isDemoSource } from '../domain/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import { verifyAuditLog, verifyRecordings, type KeyRing } from '../recording/index.js';
import {
  buildFilingReport,
  buildOutageReport,
  printablePage,
  renderFilingReport,
  buildPublicRequestReport,
  renderAccessRegister,
  renderOutageReport,
  renderPublicRequestReport,
  type RenderedReport,
  type ReportLang,
} from '../reports/index.js';
import type { Store } from '../store/index.js';
import { cameraHours, type CameraHour } from './cameraHours.js';

/** What every part builder reads: the store, the period, and the keys verification trusts. */
export interface DossierContext {
  store: Store;
  profile: JurisdictionProfile;
  from: Date;
  to: Date;
  now: Date;
  lang: ReportLang;
  timeZone: string;
  recordingsDir: string;
  keys: KeyRing;
  keyFilePublicPem: string | undefined;
  expectedPublicPem: string | undefined;
  /** The gateway signs chain heads this often (recording.checkpointSeconds). */
  checkpointIntervalMs: number;
}

export interface PartOutput {
  json: unknown;
  html: string;
  pdf?: Buffer;
}

export interface DossierPart {
  /** File stem in the bundle and the name verification reports (lower case, no spaces). */
  name: string;
  title: string;
  build(ctx: DossierContext): Promise<PartOutput>;
}

/** A report's renderer from the reports module (json, csv, html, pdf…). */
type Render<R> = (report: R, format: string, opts: { lang: ReportLang; timeZone: string }) => RenderedReport;

/** A report as a part: its JSON, its printable HTML and, where the reports module prints one, its PDF. */
function reportPart<R>(report: R, render: Render<R>, ctx: DossierContext, pdf: boolean): PartOutput {
  const opts = { lang: ctx.lang, timeZone: ctx.timeZone };
  const html = render(report, 'html', opts).body.toString('utf8');
  return pdf ? { json: report, html, pdf: render(report, 'pdf', opts).body } : { json: report, html };
}

/** The checkpoints signed in the period and the newest one (which covers all before it). */
function inPeriod<T extends { signedAt: string }>(checkpoints: readonly T[], ctx: DossierContext): T[] {
  const from = ctx.from.toISOString();
  const to = ctx.to.toISOString();
  const newest = checkpoints.at(-1);
  return checkpoints.filter((c) => (c.signedAt >= from && c.signedAt <= to) || c === newest);
}

const filingPart: DossierPart = {
  name: 'filing-report',
  title: 'Camera filing report (备案)',
  async build(ctx) {
    const [cameras, filings] = await Promise.all([allCameras(ctx.store.cameras), ctx.store.filings.list()]);
    return reportPart(buildFilingReport({ cameras, filings, profile: ctx.profile, now: ctx.now }), renderFilingReport, ctx, false);
  },
};

const outagePart: DossierPart = {
  name: 'outage-ledger',
  title: 'Outage ledger',
  async build(ctx) {
    const range = { from: ctx.from.toISOString(), to: ctx.to.toISOString() };
    const [outages, cameras, maintenance] = await Promise.all([
      ctx.store.outages.list(range),
      allCameras(ctx.store.cameras),
      ctx.store.maintenance.list(range),
    ]);
    const report = buildOutageReport({ from: ctx.from, to: ctx.to, now: ctx.now, outages, cameras, maintenance });
    return reportPart(report, renderOutageReport, ctx, true);
  },
};

const auditPart: DossierPart = {
  name: 'audit-verification',
  title: 'Audit chain verification',
  async build(ctx) {
    const verification = await verifyAuditLog({
      store: ctx.store,
      keys: ctx.keys,
      nowMs: ctx.now.getTime(),
      maxUnsignedMs: 2 * ctx.checkpointIntervalMs,
    });
    const checkpoints = inPeriod(await ctx.store.audit.checkpoints(), ctx);
    const html = printablePage({
      lang: ctx.lang,
      title: 'Audit chain verification / 审计日志校验',
      facts: [
        ['Result', verification.ok ? 'verified' : `FAILED: ${verification.problems.length} finding(s)`],
        ['Entries', String(verification.entries)],
        ['Head', verification.head === null ? 'empty chain' : `seq ${verification.head.seq} ${verification.head.entryHash}`],
        ['Signed up to seq', String(verification.signedSeq)],
        ['Trusted keys', verification.trustedKeys.join(', ')],
      ],
      tables: [
        {
          caption: 'Findings',
          header: ['kind', 'seq', 'id', 'message'],
          rows: verification.problems.map((p) => [p.kind, String(p.seq ?? ''), String(p.id ?? ''), p.message]),
        },
        {
          caption: 'Signed checkpoints',
          header: ['seq', 'head hash', 'signed at', 'key', 'signature'],
          rows: checkpoints.map((c) => [String(c.seq), c.headHash, c.signedAt, c.keyFingerprint ?? '', c.signature]),
        },
      ],
    });
    return { json: { verification, checkpoints }, html };
  },
};

const integrityPart: DossierPart = {
  name: 'recording-integrity',
  title: 'Recording integrity verification',
  async build(ctx) {
    const fromMs = ctx.from.getTime();
    const toMs = ctx.to.getTime();
    const report = await verifyRecordings({
      store: ctx.store,
      dir: ctx.recordingsDir,
      keys: ctx.keys,
      keyFilePublicPem: ctx.keyFilePublicPem,
      expectedPublicPem: ctx.expectedPublicPem,
      checkpointIntervalMs: ctx.checkpointIntervalMs,
      now: ctx.now.getTime(),
      fromMs,
      toMs,
    });
    const cameras = [];
    const hours: CameraHour[] = [];
    // A demo camera's recordings show the gateway working; they are no camera's record to report.
    const demos = new Set((await allCameras(ctx.store.cameras)).filter((c) => isDemoSource(c.rtspUrl)).map((c) => c.id));
    for (const cameraId of (await ctx.store.recordings.cameraIds()).filter((id) => !demos.has(id)).sort()) {
      const [entries, gaps, checkpoints] = await Promise.all([
        ctx.store.recordings.entries({ cameraId }),
        ctx.store.recordings.gaps(cameraId, fromMs, toMs),
        ctx.store.recordings.checkpoints(cameraId),
      ]);
      const rows = cameraHours({ cameraId, entries, gaps, findings: report.findings, fromMs, toMs: Math.min(toMs, ctx.now.getTime()) });
      hours.push(...rows);
      cameras.push({ cameraId, hours: rows, checkpoints: inPeriod(checkpoints, ctx) });
    }
    const html = printablePage({
      lang: ctx.lang,
      title: 'Recording integrity verification / 录像完整性校验',
      facts: [
        ['Result', report.ok ? 'verified' : `FAILED: ${report.findings.length} finding(s)`],
        ['Period', `${ctx.from.toISOString()} – ${ctx.to.toISOString()}`],
        ['Segments checked', `${report.segments} (${(report.bytes / 1e6).toFixed(1)} MB) of ${report.cameras} camera(s)`],
        ['Signing key (data directory)', report.keys.dataDir.join(', ')],
        ['Trusted keys', `${report.keys.trusted.join(', ')}${report.keys.pinned ? ' (pinned)' : ' (not pinned)'}`],
      ],
      tables: [
        {
          caption: 'Per camera and hour',
          header: ['camera', 'hour (UTC)', 'segments', 'MB', 'gap seconds', 'gap causes', 'findings'],
          rows: hours.map((h) => [
            h.cameraId,
            h.hour,
            String(h.segments),
            (h.bytes / 1e6).toFixed(1),
            String(h.gapSeconds),
            h.gapCauses.join(', '),
            h.findings.map((f) => `${f.kind}: ${f.message}`).join('; '),
          ]),
          flagged: new Set(hours.flatMap((h, i) => (h.findings.length > 0 ? [i] : []))),
        },
        {
          caption: 'Findings',
          header: ['kind', 'camera', 'entry', 'file', 'message'],
          rows: report.findings.map((f) => [f.kind, f.cameraId, String(f.seq ?? ''), f.path ?? '', f.message]),
        },
        {
          caption: 'Signed checkpoints',
          header: ['camera', 'seq', 'head hash', 'signed at', 'key', 'signature'],
          rows: cameras.flatMap((c) =>
            c.checkpoints.map((cp) => [c.cameraId, String(cp.seq), cp.headHash, cp.signedAt, cp.keyFingerprint ?? '', cp.signature]),
          ),
        },
      ],
    });
    return { json: { verification: report, cameras }, html };
  },
};

const registerPart: DossierPart = {
  name: 'access-register',
  title: 'Access register (调阅登记)',
  async build(ctx) {
    // Read from the store: the dossier is written offline too, where no session is running.
    const range = { from: ctx.from.toISOString(), to: ctx.to.toISOString() };
    const items = await ctx.store.accessRegister.list(range);
    const report = { generatedAt: ctx.now.toISOString(), ...range, cameraId: null, profile: ctx.profile.name, items, ongoing: [] };
    return reportPart(report, renderAccessRegister, ctx, true);
  },
};

const publicRequestsPart: DossierPart = {
  name: 'public-requests',
  title: 'Public requests (群众调阅申请)',
  async build(ctx) {
    // The report masks the applicants' identity documents: the dossier leaves the unit.
    const requests = await ctx.store.publicRequests.list({ from: ctx.from.toISOString(), to: ctx.to.toISOString() });
    const report = buildPublicRequestReport({ from: ctx.from, to: ctx.to, now: ctx.now, profile: ctx.profile.name, requests });
    return reportPart(report, renderPublicRequestReport, ctx, false);
  },
};

/** The parts in the order they are printed. */
export const DOSSIER_PARTS: readonly DossierPart[] = [filingPart, outagePart, registerPart, publicRequestsPart, auditPart, integrityPart];
