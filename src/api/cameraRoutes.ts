import type { CameraView } from '../domain/index.js';
import { Router, type Request } from 'express';
import type { AccessRegister, Action, Decision } from '../access/index.js';
import { redactedView, restoreRedactedTargets, type CameraRegistry } from '../cameras/index.js';
import { GatewayError } from '../errors.js';
import type { MediaServer } from '../media/index.js';
import { footageGrant, type AuditSink } from './footageGrant.js';
import { permit, principalOf } from './permit.js';
import type { FourEyes } from '../changes/index.js';
import type { NodeRoutesDeps } from './nodeRoutes.js';
import type { IncidentBoard } from '../health/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import { buildFilingReport } from '../reports/index.js';
import type { OnvifDeviceRepository, Store } from '../store/index.js';
import { CAMERA_STATES, type CameraHealth, type CameraPage, type FilingState } from './contract.js';
import { streamDark, TIERS, type PipelineManager, type PipelineSnapshot, type Tier } from '../pipeline/index.js';

export interface CameraRoutesDeps {
  registry: CameraRegistry;
  pipelines: PipelineManager;
  media: MediaServer;
  playTokenTtlSeconds: number;
  publicHost: string | undefined;
  /** Where an exempt view of footage is audited. */
  footageAudit: AuditSink;
  /** One JPEG of a tier's current picture; throws STREAM_DARK when it has none. */
  grabSnapshot: (tier: Tier, cameraId: string) => Promise<Buffer>;
  /** Where a snapshot, a view of live footage, is registered. */
  accessRegister?: Pick<AccessRegister, 'record'>;
  /** Four eyes: removing or shrinking masks waits for a second admin (absent: it applies at once). */
  fourEyes?: FourEyes;
  /** What ONVIF onboarding stored (the PTZ capability); absent: no camera has any. */
  onvif?: { devices: Pick<OnvifDeviceRepository, 'get'> };
  /** Cluster mode: which node runs a camera, so any node hands out play URLs of the owner's media server. */
  nodes?: Pick<NodeRoutesDeps, 'placeOf'> | undefined;
}

/**
 * What the list's health and filing columns read, when the gateway has them (the API always
 * passes them): the incident board, and the filings with the profile's deadlines.
 */
export interface CameraListExtras {
  incidents?: Pick<IncidentBoard, 'active'>;
  store?: Pick<Store, 'filings'>;
  profile?: JurisdictionProfile;
}

export function cameraRoutes(deps: CameraRoutesDeps & CameraListExtras): Router {
  const router = Router();
  const actor = (res: { locals: Record<string, unknown> }) => String(res.locals.actor ?? 'unknown');

  router.get('/', permit('cameras.read'), async (req, res) => {
    const limit = intParam(req.query.limit, 100, 1, 10_000, 'limit');
    const offset = intParam(req.query.offset, 0, 0, Number.MAX_SAFE_INTEGER, 'offset');
    const filter = listFilter(req);
    const incidents = openIncidents(deps.incidents);
    const listed = (c: CameraView) => {
      const camera = withStatus(c, deps);
      return { ...camera, health: healthOf(c.id, deps, incidents), filing: null as FilingState | null };
    };
    let page: CameraPage<ReturnType<typeof listed>>;
    if (filter === null) {
      const [items, total] = await Promise.all([deps.registry.list({ limit, offset }), deps.registry.count()]);
      page = { items: items.map(listed), total, limit, offset };
    } else {
      // The live state is known only in memory, so a filtered list is filtered here, over every camera.
      const all = (await deps.registry.list({ limit: Number.MAX_SAFE_INTEGER })).filter((c) => filter.matches(c));
      const matching = filter.state === undefined ? all : all.filter((c) => statusOf(c, deps).state === filter.state);
      page = { items: matching.slice(offset, offset + limit).map(listed), total: matching.length, limit, offset };
    }
    await withFiling(page.items, deps);
    res.json(page);
  });

  router.post('/', permit('cameras.write'), async (req, res) => {
    const skipProbe = req.query.skipProbe === 'true' || req.query.skipProbe === '1';
    const camera = await deps.registry.create(req.body, actor(res), { skipProbe });
    res.status(201).location(`/api/v1/cameras/${camera.id}`).json(withStatus(camera, deps));
  });

  router.get('/:id', permit('cameras.read'), async (req, res) => {
    const camera = withStatus(await deps.registry.get(req.params.id), deps);
    // The PTZ capability read at ONVIF onboarding; null for cameras added by hand.
    res.json({ ...camera, ptz: (await deps.onvif?.devices.get(camera.id))?.ptz ?? null });
  });

  router.patch('/:id', permit(cameraChange), async (req, res) => {
    const skipProbe = req.query.skipProbe === 'true' || req.query.skipProbe === '1';
    const pending = await deps.fourEyes?.cameraPatch(principalOf(res), req.params.id, req.body);
    if (pending) {
      res.status(202).location(`/api/v1/pending-changes/${pending.id}`).json(pending);
      return;
    }
    const patch = await withStoredTargets(req.body, req.params.id, deps.registry);
    res.json(withStatus(await deps.registry.update(req.params.id, patch, actor(res), { skipProbe }), deps));
  });

  router.delete('/:id', permit('cameras.write'), async (req, res) => {
    await deps.registry.remove(req.params.id, actor(res));
    res.status(204).end();
  });

  router.get('/:id/status', permit('cameras.read'), async (req, res) => {
    const camera = await deps.registry.get(req.params.id);
    res.json({ id: camera.id, ...statusOf(camera, deps), pipeline: deps.pipelines.snapshot(camera.id) ?? null });
  });

  router.get('/:id/streams', permit('live.shared'), async (req, res) => {
    const camera = await deps.registry.get(req.params.id);
    const owner = await ownerMedia(deps, camera.id);
    const host = deps.publicHost ?? hostnameOf(req);
    const ttl = deps.playTokenTtlSeconds;
    // The raw tier is unmasked footage: a URL only under the policy's live.raw, bound to the viewer and request.
    const raw = await footageGrant(req, res, 'live.raw', { cameraId: camera.id, tier: 'raw' }, deps.footageAudit);
    // The shared tier's token names its viewer too, for the access register.
    const viewer = { binding: { userId: principalOf(res).userId, requestId: null } };
    const tiers = Object.fromEntries(
      TIERS.map((tier) => {
        if (tier !== 'raw') return [tier, deps.media.playbackUrls(tier, camera.id, host, ttl, viewer)];
        if ('refused' in raw) return [tier, { refused: raw.refused }];
        return [tier, deps.media.playbackUrls(tier, camera.id, host, ttl, { binding: raw.binding, notAfter: raw.notAfterSeconds })];
      }),
    );
    res.json({ cameraId: camera.id, ...(owner === null ? tiers : onOwner(tiers, owner)) });
  });

  // A raw snapshot is raw live footage: the policy asks for an approved request (or the profile's exemption).
  router.get(
    '/:id/snapshot',
    permit(snapshotAction, (req) => ({ cameraId: String(req.params.id) })),
    async (req, res) => {
      const tier = req.query.tier ?? 'shared';
      if (tier !== 'shared' && tier !== 'raw') {
        throw new GatewayError('VALIDATION_FAILED', 'Query parameter "tier" must be shared or raw.');
      }
      const camera = await deps.registry.get(req.params.id);
      const snap = deps.pipelines.snapshot(camera.id);
      const live = tier === 'raw' ? snap?.ingest.state === 'live' : snap?.shared.up === true;
      if (!live) throw streamDark(`${tier} tier of camera ${camera.id}`);
      const startedAt = new Date();
      const jpeg = await deps.grabSnapshot(tier, camera.id);
      // Registered before it is sent: a snapshot that cannot be registered does not leave.
      const decision = (res.locals.permit as Decision[] | undefined)?.[0];
      await deps.accessRegister?.record({
        method: 'view_live',
        tier,
        userId: principalOf(res).userId,
        requestId: decision?.allowed === true ? (decision.requestId ?? null) : null,
        cameraIds: [camera.id],
        startedAt,
        endedAt: new Date(),
        bytes: jpeg.length,
        protocol: 'snapshot',
        clientAddress: req.socket.remoteAddress ?? null,
      });
      res.status(200).type('image/jpeg').set('Cache-Control', 'no-store').send(jpeg);
    },
  );

  return router;
}

/** A change that touches masks needs masks.write besides cameras.write. */
function cameraChange(req: Request): Action[] {
  const body: unknown = req.body;
  const masks = typeof body === 'object' && body !== null && 'masks' in body;
  return masks ? ['cameras.write', 'masks.write'] : ['cameras.write'];
}

/** An unknown tier falls through to the route, which names the valid ones. */
function snapshotAction(req: Request): Action {
  return req.query.tier === 'raw' ? 'live.raw' : 'live.shared';
}

/** Every camera the API returns goes through here: push targets never carry their stream keys. */
function withStatus(camera: CameraView, deps: CameraRoutesDeps): CameraView & { status: { state: string; reason: string | null } } {
  return { ...redactedView(camera), status: statusOf(camera, deps) };
}

/** A change that sends back redacted push targets (as read) means the stored ones. */
async function withStoredTargets(body: unknown, id: string, registry: CameraRegistry): Promise<unknown> {
  if (typeof body !== 'object' || body === null || !('pushTargets' in body) || !Array.isArray(body.pushTargets)) return body;
  const stored = (await registry.get(id)).pushTargets;
  return { ...body, pushTargets: restoreRedactedTargets(body.pushTargets, stored) };
}

function statusOf(camera: CameraView, deps: CameraRoutesDeps): { state: string; reason: string | null } {
  const refused = deps.pipelines.refusedCameras().get(camera.id);
  if (refused) return { state: 'refused', reason: refused };
  const snap: PipelineSnapshot | undefined = deps.pipelines.snapshot(camera.id);
  // A camera just created or enabled has its pipeline started a moment after the reply.
  if (!snap) return camera.enabled && camera.removedAt === null ? { state: 'starting', reason: null } : { state: 'stopped', reason: null };
  return { state: snap.ingest.state, reason: snap.ingest.state === 'live' ? null : snap.ingest.lastError };
}

interface ListFilter {
  state: string | undefined;
  matches(c: CameraView): boolean;
}

/** The list's q, state and siteType filters, or null when none is given. */
function listFilter(req: Request): ListFilter | null {
  const text = (name: string): string | undefined => {
    const raw = req.query[name];
    if (raw === undefined || raw === '') return undefined;
    if (typeof raw !== 'string') throw new GatewayError('VALIDATION_FAILED', `Query parameter "${name}" must be given once.`);
    return raw;
  };
  const q = text('q')?.toLowerCase();
  const state = text('state');
  const siteType = text('siteType');
  if (state !== undefined && !(CAMERA_STATES as readonly string[]).includes(state)) {
    throw new GatewayError('VALIDATION_FAILED', `Query parameter "state" must be one of ${CAMERA_STATES.join(', ')}.`);
  }
  if (q === undefined && state === undefined && siteType === undefined) return null;
  return {
    state,
    matches: (c) =>
      (siteType === undefined || c.siteType === siteType) &&
      (q === undefined || [c.name, c.id, c.address ?? ''].some((field) => field.toLowerCase().includes(q))),
  };
}

const FILING_URGENCY: readonly FilingState[] = ['overdue', 'due', 'filed_late', 'filed'];

/** Sets each listed camera's filing state from the filing report of those cameras. */
async function withFiling(items: Array<CameraView & { filing: FilingState | null }>, deps: CameraListExtras): Promise<void> {
  if (deps.store === undefined || deps.profile === undefined || items.length === 0) return;
  const ids = new Set(items.map((c) => c.id));
  const filings = (await deps.store.filings.list()).filter((f) => ids.has(f.cameraId));
  const report = buildFilingReport({ cameras: items, filings, profile: deps.profile, now: new Date() });
  // Typed as the contract's states: a status the report adds that the console does not know fails to compile.
  const byId = new Map<string, FilingState[]>(report.rows.map((r) => [r.cameraId, r.deadlines.map((d) => d.status)]));
  for (const item of items) {
    const statuses = byId.get(item.id) ?? [];
    item.filing = FILING_URGENCY.find((s) => statuses.includes(s)) ?? null;
  }
}

/** Open incidents per camera, counted once per list. */
function openIncidents(board: Pick<IncidentBoard, 'active'> | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const i of board?.active() ?? []) if (i.cameraId !== null) counts.set(i.cameraId, (counts.get(i.cameraId) ?? 0) + 1);
  return counts;
}

function healthOf(id: string, deps: CameraRoutesDeps, incidents: Map<string, number>): CameraHealth {
  const ingest = deps.pipelines.snapshot(id)?.ingest;
  const live = ingest?.state === 'live';
  return { fps: live ? ingest.fps : 0, bitrateBps: live ? ingest.bitrateBps : 0, openIncidents: incidents.get(id) ?? 0 };
}

function hostnameOf(req: Request): string {
  const host = req.hostname || '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function intParam(raw: unknown, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new GatewayError('VALIDATION_FAILED', `Query parameter "${name}" must be an integer from ${min} to ${max}.`);
  }
  return n;
}

/**
 * Cluster mode: the media server of the node running the camera (null: this node's). The
 * play tokens are signed with the key every node derives from the shared secret, so the
 * owner accepts a token this node signs. A camera running nowhere is a 503 naming the node
 * that held it last.
 */
async function ownerMedia(deps: Pick<CameraRoutesDeps, 'nodes'>, cameraId: string): Promise<URL | null> {
  const placeOf = deps.nodes?.placeOf;
  if (placeOf === undefined) return null;
  const place = await placeOf(cameraId);
  if (place.node === null) {
    const why =
      place.lastNode === null
        ? 'no node has taken it yet'
        : `node ${place.lastNode}, which ran it last, is ${place.lastNodeAlive ? 'handing it over' : 'not alive (unreachable)'}`;
    throw new GatewayError(
      'STREAM_DARK',
      `Camera ${cameraId} runs on no node now: ${why}; another node takes it within one lease time, ask again then.`,
    );
  }
  if (place.here) return null;
  if (place.mediaUrl === null) {
    throw new GatewayError(
      'STREAM_DARK',
      `Camera ${cameraId} runs on node ${place.node}, which has not published its media URL; ask node ${place.node} itself.`,
    );
  }
  return new URL(place.mediaUrl);
}

/** The same play URLs, on the owner's media server (scheme, host and port; path and token unchanged). */
function onOwner(tiers: Record<string, unknown>, owner: URL): Record<string, unknown> {
  const move = (url: string, scheme: string) => {
    const u = new URL(url);
    return `${scheme}//${owner.host}${u.pathname}${u.search}`;
  };
  return Object.fromEntries(
    Object.entries(tiers).map(([tier, v]) => {
      const urls = v as { httpFlv?: string; wsFlv?: string };
      if (typeof urls.httpFlv !== 'string' || typeof urls.wsFlv !== 'string') return [tier, v];
      const ws = owner.protocol === 'https:' ? 'wss:' : 'ws:';
      return [tier, { ...urls, httpFlv: move(urls.httpFlv, owner.protocol), wsFlv: move(urls.wsFlv, ws) }];
    }),
  );
}
