import type { Request, Response } from 'express';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import { candidateOf, coveringAmong, type AccessRegister } from '../access/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import type { ExportJob, Principal } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { ExportService } from '../exports/index.js';
import { parseRange } from '../recording/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import { decideFor, permit, principalOf } from './permit.js';
import type { SegmentRelay } from './recordingRelay.js';

export interface ExportRoutesDeps {
  exports: ExportService;
  store: Store;
  profile: JurisdictionProfile;
  /** Where a downloaded clip is registered as a copy of the footage. */
  register?: Pick<AccessRegister, 'record'>;
  logger?: Pick<Logger, 'error'>;
  /** Cluster mode: a clip kept on another node is downloaded through it. */
  relay?: SegmentRelay;
}

const relayedFile = (job: ExportJob, which: 'clip' | 'manifest') => ({
  cameraId: job.cameraId,
  tier: 'export',
  file: `export:${job.id}:${which}`,
});

/** The body of POST /exports, checked: 400 naming the field otherwise. */
function exportBody(req: Request): { requestId: string; cameraId: string; fromMs: number; toMs: number } {
  const body = (req.body ?? {}) as Record<string, unknown>;
  for (const field of ['requestId', 'cameraId'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      throw new GatewayError('VALIDATION_FAILED', `"${field}" is required: the id of the approved export request and of its camera.`);
    }
  }
  const { fromMs, toMs } = parseRange(body.from, body.to);
  if (toMs === fromMs) throw new GatewayError('VALIDATION_FAILED', '"to" must be after "from": an export needs a range.');
  return { requestId: String(body.requestId), cameraId: String(body.cameraId), fromMs, toMs };
}

/**
 * /api/v1/exports: watermarked, signed clips of recordings. Creating and downloading are the
 * policy's `export` action over the camera and range, under the named request, which the
 * caller must have filed; the job list is each requester's own (all for those who read all requests).
 */
export function exportRoutes(deps: ExportRoutesDeps): Router {
  const router = Router();
  const jobOf = async (id: string): Promise<ExportJob> => {
    const job = await deps.exports.get(id);
    if (job === undefined) throw new GatewayError('NOT_FOUND', `No export job ${id}.`);
    return job;
  };
  const jobRange = async (req: Request<{ id: string }>) => {
    const job = await jobOf(req.params.id);
    return { cameraId: job.cameraId, fromMs: Date.parse(job.from), toMs: Date.parse(job.to) };
  };

  router.post(
    '/',
    permit('export', (req) => {
      const { cameraId, fromMs, toMs } = exportBody(req);
      return { cameraId, fromMs, toMs };
    }),
    async (req, res) => {
      const principal = principalOf(res);
      const body = exportBody(req);
      const request = await deps.store.accessRequests.get(body.requestId);
      if (request === undefined) throw new GatewayError('NOT_FOUND', `No access request ${body.requestId}.`);
      if (request.filedBy.userId !== principal.userId) {
        throw new GatewayError('FORBIDDEN', `Only the filer of request ${request.id} (${request.filedBy.username}) may export under it.`);
      }
      const covers = coveringAmong([candidateOf(request)], 'export', { profile: deps.profile, ...body });
      if (covers === null) {
        throw new GatewayError(
          'FORBIDDEN',
          `Request ${request.id} (kind ${request.kind}, ${request.state}) does not cover camera ${body.cameraId} from ${new Date(body.fromMs).toISOString()} to ${new Date(body.toMs).toISOString()} now: an export needs an approved export request covering that camera and range, used within its window.`,
        );
      }
      const job = await deps.exports.create(principal, { request, ...body });
      res.status(202).location(`/api/v1/exports/${job.id}`).json(job);
    },
  );

  router.get('/', permit('requests.read'), async (req, res) => {
    const principal = principalOf(res);
    res.json({ items: await deps.exports.list((await readsAll(req, res)) ? undefined : principal.userId) });
  });

  router.get('/:id', permit('requests.read'), async (req, res) => {
    const job = await jobOf(req.params.id);
    if (job.userId !== principalOf(res).userId && !(await readsAll(req, res))) {
      throw new GatewayError('NOT_FOUND', `No export job ${job.id}.`);
    }
    res.json(job);
  });

  // Downloads: the requester only, and only while the request still allows the export.
  for (const which of ['clip', 'manifest'] as const) {
    router.get(`/:id/${which}`, permit('export', jobRange), async (req, res) => {
      const principal = principalOf(res);
      const job = await jobOf(req.params.id);
      requireRequester(job, principal);
      const path = deps.exports.fileOf(job, which);
      if (job.state !== 'done' || path === null) {
        throw new GatewayError(
          'REQUEST_STATE',
          `Export ${job.id} is ${job.state}${job.error === null ? '' : ` (${job.error})`}; only a finished export can be downloaded.`,
        );
      }
      const remote = await remoteFile(deps.relay, job, which);
      await deps.store.audit.append({
        at: new Date().toISOString(),
        actor: principal.username,
        action: 'export.download',
        cameraId: job.cameraId,
        outcome: 'ok',
        details: { jobId: job.id, requestId: job.requestId, file: which },
      });
      const startedAt = new Date();
      const sent = (err: unknown) => {
        // A clip sent whole is a copy of the footage (a manifest holds none): registered once it has gone.
        if (err !== undefined || which !== 'clip' || deps.register === undefined) return;
        void deps.register
          .record({
            method: 'copy',
            tier: 'raw',
            userId: principal.userId,
            requestId: job.requestId,
            cameraIds: [job.cameraId],
            startedAt,
            endedAt: new Date(),
            footageFrom: job.from,
            footageTo: job.to,
            bytes: job.clipBytes ?? 0,
            protocol: 'http',
            clientAddress: req.ip ?? null,
          })
          .catch((e: unknown) => deps.logger?.error({ err: e, jobId: job.id }, 'could not register an export download'));
      };
      if (remote === null) res.download(path, basename(path), sent);
      else await relayDownload(res, remote, basename(path)).then(() => sent(undefined), sent);
    });
  }
  return router;
}

/**
 * Cluster mode, on the node that made an export: its clip and manifest for another node
 * relaying a download it checked and registers (relay token only; outside the bearer API).
 */
export function exportRelayRoutes(deps: { exports: ExportService; relay: SegmentRelay }): Router {
  const router = Router();
  router.get('/:id/:which', async (req, res) => {
    const which = req.params.which === 'clip' ? 'clip' : req.params.which === 'manifest' ? 'manifest' : null;
    const job = await deps.exports.get(req.params.id);
    if (which === null || job === undefined || !deps.relay.isRelay(req.query.token, relayedFile(job, which))) {
      throw new GatewayError('FORBIDDEN', 'Export relay refused: not a relay token for this file.');
    }
    const path = deps.exports.fileOf(job, which);
    if (job.state !== 'done' || path === null) throw new GatewayError('NOT_FOUND', `Export ${job.id} is ${job.state} on this node.`);
    res.sendFile(path);
  });
  return router;
}

/** The clip or manifest when another node keeps it (null: it is on this disk); 503 when that node cannot be reached. */
async function remoteFile(
  relay: SegmentRelay | undefined,
  job: ExportJob,
  which: 'clip' | 'manifest',
): Promise<{ bytes: number | null; body: Readable } | null> {
  if (relay === undefined || job.node === undefined) return null;
  const unreachable = (reason: string) =>
    new GatewayError('RECORDING_UNREACHABLE', `Export ${job.id} is kept on node ${job.node}, which ${reason}: unreachable, not missing.`, {
      hint: `Download it again once node ${job.node} is back, or from node ${job.node} itself; GET /api/v1/nodes says which nodes are alive.`,
      details: { jobId: job.id, node: job.node },
    });
  const place = await relay.place({ node: job.node });
  if (place.at === 'here') return null;
  if (place.at === 'unreachable') throw unreachable(place.reason);
  return relay.open(place.apiUrl, `/relay/exports/${encodeURIComponent(job.id)}/${which}`, relayedFile(job, which), unreachable);
}

async function relayDownload(res: Response, remote: { bytes: number | null; body: Readable }, name: string): Promise<void> {
  res.attachment(name);
  if (remote.bytes !== null) res.set('Content-Length', String(remote.bytes));
  await pipeline(remote.body, res);
}

function requireRequester(job: ExportJob, principal: Principal): void {
  if (job.userId !== principal.userId)
    throw new GatewayError('FORBIDDEN', `Only ${job.username}, who asked for export ${job.id}, may download it.`);
}

async function readsAll(req: Request, res: Parameters<typeof principalOf>[0]): Promise<boolean> {
  return (await decideFor(req, res, 'requests.readAll')).allowed;
}
