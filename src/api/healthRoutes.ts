import type { CameraRecord } from '../domain/index.js';
import { Router, type Request, type Response } from 'express';
import type { JurisdictionProfile } from '../config/index.js';
import { GatewayError } from '../errors.js';
import { permit } from './permit.js';
import type { IncidentBoard } from '../health/index.js';
import {
  buildFilingReport,
  buildOutageReport,
  checkLang,
  checkTimeZone,
  renderFilingReport,
  renderOutageReport,
  type RenderedReport,
} from '../reports/index.js';
import type { FilingEvent, Store } from '../store/index.js';

export interface HealthRoutesDeps {
  store: Pick<Store, 'outages' | 'platformOutages' | 'maintenance' | 'filings' | 'audit' | 'alertOutbox'>;
  incidents: IncidentBoard;
  profile: JurisdictionProfile;
  /** Every registered camera (removed ones included while their record is kept). */
  allCameras: () => Promise<CameraRecord[]>;
  /** Flushes pending ledger writes, so a report asked for right after a change includes it. */
  ledgerSettled: () => Promise<void>;
}

const DAY_MS = 86_400_000;

/** A date (YYYY-MM-DD, taken as UTC midnight) or an ISO time with its zone; undefined when absent. */
export function parseTime(name: string, value: unknown): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value);
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(text) || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text);
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!ok || Number.isNaN(date.getTime())) {
    throw new GatewayError('VALIDATION_FAILED', `${name} must be a date (YYYY-MM-DD) or an ISO time with a zone (got "${text}")`, {
      hint: 'e.g. 2026-11-01 or 2026-11-01T08:00:00+08:00',
    });
  }
  return date;
}

function requireTime(name: string, value: unknown): Date {
  const date = parseTime(name, value);
  if (date === undefined) throw new GatewayError('VALIDATION_FAILED', `${name} is required`);
  return date;
}

/** from/to of a report: default the last 30 days; from must come before to. */
export function reportRange(query: Record<string, unknown>, now: Date): { from: Date; to: Date } {
  const to = parseTime('to', query.to) ?? now;
  const from = parseTime('from', query.from) ?? new Date(to.getTime() - 30 * DAY_MS);
  if (from.getTime() >= to.getTime()) throw new GatewayError('VALIDATION_FAILED', 'from must be before to');
  return { from, to };
}

export function send(res: Response, report: RenderedReport, download: boolean): void {
  res.status(200).type(report.contentType);
  if (download) res.set('Content-Disposition', `attachment; filename="${report.filename}"`);
  res.send(report.body);
}

export const text = (req: Request, key: string): string | undefined => {
  const v = req.query[key];
  return typeof v === 'string' ? v : undefined;
};

/** Incidents, the outage ledger, maintenance windows, filings and the reports built from them. */
export function healthRoutes(deps: HealthRoutesDeps): Router {
  const router = Router();
  const actor = (res: Response) => String(res.locals.actor ?? 'unknown');
  const audit = (res: Response, action: string, cameraId: string | null, details: Record<string, unknown>) =>
    deps.store.audit.append({ at: new Date().toISOString(), actor: actor(res), action, cameraId, outcome: 'ok', details });
  const requireCamera = async (cameraId: string, hint: string) => {
    if (!(await deps.allCameras()).some((c) => c.id === cameraId)) {
      throw new GatewayError('CAMERA_NOT_FOUND', `no camera with id ${cameraId}`, { hint });
    }
  };

  router.get('/incidents', permit('incidents.read'), (req, res) => {
    const cameraId = text(req, 'cameraId');
    res.json({ items: deps.incidents.active(cameraId === undefined ? {} : { cameraId }) });
  });

  // Alerts given up on: what was refused, by whom, with the receiver's last answer.
  router.get('/alerts/dead-letters', permit('incidents.read'), async (req, res) => {
    const target = text(req, 'target');
    const items = await deps.store.alertOutbox.deadLetters(target === undefined ? {} : { target });
    res.json({
      items: items.map((e) => ({
        id: e.id,
        eventId: e.eventId,
        target: e.target,
        createdAt: e.createdAt,
        deadAt: e.deadAt,
        attempts: e.attempts,
        lastStatus: e.lastStatus,
        lastResponse: e.lastResponse,
        lastError: e.lastError,
        body: JSON.parse(e.body) as unknown,
      })),
    });
  });

  router.get('/outages', permit('incidents.read'), async (req, res) => {
    await deps.ledgerSettled();
    const { from, to } = reportRange(req.query, new Date());
    const cameraId = text(req, 'cameraId');
    const range = { from: from.toISOString(), to: to.toISOString() };
    const items = await deps.store.outages.list({ ...range, ...(cameraId ? { cameraId } : {}) });
    // Upper platforms' link outages have no camera: listed apart, and left out when one camera is asked for.
    const platforms = cameraId ? [] : await deps.store.platformOutages.list(range);
    res.json({ ...range, items, platforms });
  });

  router.get('/maintenance', permit('maintenance.read'), async (req, res) => {
    const from = parseTime('from', req.query.from);
    const to = parseTime('to', req.query.to);
    res.json({
      items: await deps.store.maintenance.list({ ...(from ? { from: from.toISOString() } : {}), ...(to ? { to: to.toISOString() } : {}) }),
    });
  });

  router.post('/maintenance', permit('maintenance.write'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const startsAt = requireTime('startsAt', body.startsAt);
    const endsAt = requireTime('endsAt', body.endsAt);
    if (endsAt.getTime() <= startsAt.getTime()) throw new GatewayError('VALIDATION_FAILED', 'endsAt must be after startsAt');
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (reason === '' || reason.length > 500) {
      throw new GatewayError('VALIDATION_FAILED', 'reason is required (1 to 500 characters)', {
        hint: 'Say what the maintenance is, e.g. "replace the switch of building 3"; it is printed in the outage report.',
      });
    }
    const cameraId = body.cameraId === undefined || body.cameraId === null ? null : String(body.cameraId);
    if (cameraId !== null) await requireCamera(cameraId, 'Leave cameraId out for a window that covers every camera.');
    const window = await deps.store.maintenance.add({
      cameraId,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      reason,
      createdBy: actor(res),
      createdAt: new Date().toISOString(),
    });
    await audit(res, 'maintenance.declare', cameraId, { id: window.id, startsAt: window.startsAt, endsAt: window.endsAt, reason });
    res.status(201).json(window);
  });

  router.delete('/maintenance/:id', permit('maintenance.write'), async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || !(await deps.store.maintenance.remove(id))) {
      throw new GatewayError('NOT_FOUND', `no maintenance window ${req.params.id}`, { hint: 'List them with GET /api/v1/maintenance.' });
    }
    await audit(res, 'maintenance.remove', null, { id });
    res.status(204).end();
  });

  router.get('/filings', permit('filings.read'), async (req, res) => {
    const cameraId = text(req, 'cameraId');
    res.json({ items: await deps.store.filings.list(cameraId ? { cameraId } : {}) });
  });

  router.post('/filings', permit('filings.write'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const event = body.event;
    if (event !== 'commissioning' && event !== 'removal') {
      throw new GatewayError('VALIDATION_FAILED', 'event must be commissioning or removal');
    }
    const cameraId = String(body.cameraId ?? '');
    await requireCamera(cameraId, 'List the cameras to see their ids.');
    const filedAt = requireTime('filedAt', body.filedAt).toISOString().slice(0, 10);
    const reference = typeof body.reference === 'string' && body.reference.trim() !== '' ? body.reference.trim().slice(0, 200) : null;
    const filing = await deps.store.filings.add({
      cameraId,
      event: event as FilingEvent,
      filedAt,
      reference,
      createdAt: new Date().toISOString(),
    });
    await audit(res, 'filing.record', cameraId, { event, filedAt, reference });
    res.status(201).json(filing);
  });

  router.get('/reports/outages', permit('reports.read'), async (req, res) => {
    const now = new Date();
    const { from, to } = reportRange(req.query, now);
    const format = text(req, 'format') ?? 'json';
    const opts = { lang: checkLang(text(req, 'lang')), timeZone: checkTimeZone(text(req, 'tz')) };
    await deps.ledgerSettled();
    const range = { from: from.toISOString(), to: to.toISOString() };
    const [outages, cameras, maintenance] = await Promise.all([
      deps.store.outages.list(range),
      deps.allCameras(),
      deps.store.maintenance.list(range),
    ]);
    const report = buildOutageReport({ from, to, now, outages, cameras, maintenance });
    send(res, renderOutageReport(report, format, opts), format !== 'json');
  });

  router.get('/reports/filing', permit('reports.read'), async (req, res) => {
    const format = text(req, 'format') ?? 'json';
    const opts = { lang: checkLang(text(req, 'lang')), timeZone: checkTimeZone(text(req, 'tz')) };
    const [cameras, filings] = await Promise.all([deps.allCameras(), deps.store.filings.list()]);
    const report = buildFilingReport({ cameras, filings, profile: deps.profile, now: new Date() });
    send(res, renderFilingReport(report, format, opts), format !== 'json');
  });

  return router;
}
