import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import type { AccessRegister } from '../access/index.js';
import type { CameraRegistry } from '../cameras/index.js';
import { GatewayError } from '../errors.js';
import { refusalOf, signPlayToken, verifyPlayToken, type ExemptionActive, type PlayGrant, type RequestActive } from '../media/index.js';
import { hlsPlaylist, holdView, parseRange, requireCameraOrFootage, type RecordingSystem } from '../recording/index.js';
import type { ChainEntry } from '../domain/index.js';
import type { Store } from '../store/index.js';
import type { FourEyes } from '../changes/index.js';
import { footageGrant, type FootageGrant } from './footageGrant.js';
import { SegmentRelay, segmentFile, type RecordingNodes } from './recordingRelay.js';
import { permit, principalOf } from './permit.js';

export interface RecordingRoutesDeps {
  registry: CameraRegistry;
  store: Store;
  recording: RecordingSystem;
  /** Key of the signed playback tokens (the live ones' key; the tier `recording` keeps them apart). */
  tokenKey: Buffer;
  playTokenTtlSeconds: number;
  /** Whether an access request named by a playback token is still approved and in its window. */
  requestActive: RequestActive;
  /** The access register: the fetches of one token add up to one recorded view. */
  register?: Pick<AccessRegister, 'fetched'>;
  /** Four eyes: a hold lift waits for a second admin (absent: it applies at once). */
  fourEyes?: FourEyes;
  /** Whether a viewer under the profile's exemption still holds it; absent: always. */
  exemptionActive?: ExemptionActive;
  /** Cluster mode: segments other nodes hold are served through them (absent: all are on this disk). */
  cluster?: RecordingNodes;
}

const TIER = 'recording';
const actorOf = (res: { locals: Record<string, unknown> }) => String(res.locals.actor ?? 'unknown');

/** Routes under /api/v1 (bearer auth applies): the recordings list, deletion requests, holds. */
export function recordingApiRoutes(deps: RecordingRoutesDeps): Router {
  const router = Router();

  // A removed camera's recordings stay listed (and playable) while they are kept.
  router.get('/cameras/:id/recordings', permit('recordings.list'), async (req, res) => {
    const camera = { id: req.params.id };
    await requireCameraOrFootage(deps.store, camera.id);
    const { fromMs, toMs } = rangeOf(req);
    const segments = await liveSegments(deps.store, camera.id, fromMs, toMs);
    const gaps = await deps.store.recordings.gaps(camera.id, fromMs, toMs);
    // The list is metadata; playing it is recorded.view, under a request covering this camera and range.
    const grant = await footageGrant(req, res, 'recorded.view', { cameraId: camera.id, fromMs, toMs }, deps.store.audit);
    res.json({
      cameraId: camera.id,
      from: iso(fromMs),
      to: iso(toMs),
      retentionDays: deps.recording.policy.rule(camera.id).days,
      segments: segments.map((s) => ({
        seq: s.seq,
        start: iso(s.startMs),
        end: iso(s.endMs),
        durationMs: s.endMs - s.startMs,
        bytes: s.bytes,
        sha256: s.sha256,
        partial: s.partial,
        path: s.path,
        ...(s.node === undefined ? {} : { node: s.node }),
      })),
      gaps: gaps.map((g) => ({ start: iso(g.startMs), end: g.endMs === null ? null : iso(g.endMs), cause: g.cause })),
      playback: 'refused' in grant ? { refused: grant.refused } : hlsPlayback(req, deps, camera.id, fromMs, toMs, grant),
    });
  });

  // Footage leaves only through the retention rules: inside retention or under a hold the request is refused whole.
  router.delete('/cameras/:id/recordings', permit('recordings.delete'), async (req, res) => {
    const camera = await deps.registry.get(req.params.id);
    const { fromMs, toMs } = rangeOf(req);
    const deleted = await deps.recording.sweeper.deleteRange(camera.id, fromMs, toMs, actorOf(res));
    res.json({ deleted: deleted.length });
  });

  // After a clock_jump the sweeper deletes nothing until an operator confirms the gateway's time (audited).
  router.post('/recordings/clock/confirm', permit('recordings.clock'), async (_req, res) => {
    const { jumpMs } = await deps.recording.sweeper.confirmClock(actorOf(res));
    res.json({ confirmed: new Date().toISOString(), jumpMs, paused: deps.recording.clockGuard.paused });
  });

  // The recordings disk as last measured: free space and the retention it can hold at the measured rate.
  router.get('/recordings/disk', permit('incidents.read'), (_req, res) => {
    res.json({ disk: deps.recording.disk.status(), holdRetentionDays: deps.recording.policy.holdRetentionDays });
  });

  router.get('/holds', permit('holds.read'), async (_req, res) => {
    res.json({ items: (await deps.recording.holds.list()).map(holdView) });
  });
  router.post('/holds', permit('holds.write'), async (req, res) => {
    res.status(201).json(holdView(await deps.recording.holds.create(req.body, actorOf(res))));
  });
  router.post('/holds/:id/lift', permit('holds.write'), async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id)) throw new GatewayError('VALIDATION_FAILED', 'A hold id is a whole number.');
    if (deps.fourEyes !== undefined) {
      const pending = await deps.fourEyes.holdLift(principalOf(res), id, req.body);
      res.status(202).location(`/api/v1/pending-changes/${pending.id}`).json(pending);
      return;
    }
    res.json(holdView(await deps.recording.holds.lift(id, req.body, actorOf(res))));
  });

  return router;
}

/**
 * HLS playback of recordings, outside the bearer-token API: players cannot send headers,
 * so the playlist and each segment carry the signed, expiring token of the list call.
 */
export function playbackRoutes(deps: RecordingRoutesDeps): Router {
  const router = Router();
  const relay = new SegmentRelay(deps.tokenKey, deps.cluster, deps.cluster === undefined ? undefined : deps.recording.dir);
  /** The token's grant (the viewer, request and signed range) once it is let in. */
  const check = (req: Request, cameraId: string): PlayGrant => {
    const verdict = verifyPlayToken(
      req.query.token,
      { cameraId, tier: TIER, purpose: 'view' },
      deps.tokenKey,
      Math.floor(Date.now() / 1000),
    );
    const refusal = verdict.ok ? refusalOf(verdict.grant, deps.requestActive, deps.exemptionActive) : verdict.reason;
    if (refusal !== null || !verdict.ok) throw refused(refusal ?? 'bad token');
    return verdict.grant;
  };
  /** Counts what a fetch served toward the token's recorded view, once it is sent. */
  const registered = (req: Request, res: Response, grant: PlayGrant): void => {
    const register = deps.register;
    if (register === undefined || grant.binding === undefined) return;
    const { userId, requestId, range } = grant.binding;
    const clientAddress = req.socket.remoteAddress ?? null;
    res.once('finish', () => {
      if (res.statusCode >= 300) return;
      register.fetched(
        `${grant.cameraId}|${String(req.query.token)}|${clientAddress}`,
        {
          method: 'view_recorded',
          tier: 'raw',
          userId,
          requestId,
          cameraIds: [grant.cameraId],
          startedAt: new Date(),
          ...(range === undefined ? {} : { footageFrom: new Date(range.fromMs), footageTo: new Date(range.toMs) }),
          protocol: 'hls',
          clientAddress,
        },
        Number(res.getHeader('Content-Length') ?? 0),
      );
    });
  };
  router.get('/:id/index.m3u8', async (req, res) => {
    const grant = check(req, req.params.id);
    const signed = grant.binding?.range ?? null;
    const { fromMs, toMs } = rangeOf(req);
    if (signed !== null && (fromMs < signed.fromMs || toMs > signed.toMs)) {
      throw refused(`the token plays ${iso(signed.fromMs)} to ${iso(signed.toMs)}, not ${iso(fromMs)} to ${iso(toMs)}`);
    }
    const token = encodeURIComponent(String(req.query.token));
    const segments = await liveSegments(deps.store, req.params.id, fromMs, toMs);
    if (segments.length === 0) throw new GatewayError('NOT_FOUND', 'Nothing was recorded in this time range.');
    await relay.requireReachable(req.params.id, segments);
    registered(req, res, grant);
    res
      .type('application/vnd.apple.mpegurl')
      .set('Cache-Control', 'no-store')
      .send(hlsPlaylist(segments, (s) => `${s.seq}.ts?token=${token}`));
  });
  router.get('/:id/:seq.ts', async (req, res) => {
    const seq = Number(req.params.seq);
    const segment = async () => {
      const entry = Number.isSafeInteger(seq) ? await deps.store.recordings.entry(req.params.id, seq) : undefined;
      if (!entry || entry.kind !== 'segment' || entry.deletedAt !== null) throw new GatewayError('NOT_FOUND', 'No such segment.');
      return entry;
    };
    // Another node relaying a viewer it checked (and registers): the file from this disk, nothing registered here.
    if (relay.isRelay(req.query.token, { cameraId: req.params.id, tier: TIER, file: segmentFile(seq) })) {
      const entry = await segment();
      res.type('video/mp2t').set('Cache-Control', 'no-store');
      res.sendFile(join(deps.recording.dir, entry.path));
      return;
    }
    const grant = check(req, req.params.id);
    const signed = grant.binding?.range ?? null;
    const entry = await segment();
    // A segment is served when it overlaps the signed range (a playlist's first and last segments reach past it).
    if (signed !== null && (entry.endMs <= signed.fromMs || entry.startMs >= signed.toMs)) {
      throw refused(`segment ${seq} lies outside the range the token plays`);
    }
    const place = await relay.placeSegment(entry);
    if (place.at === 'unreachable') await relay.requireReachable(req.params.id, [entry]);
    const remote = place.at === 'node' ? await relay.openSegment(entry, place) : null;
    registered(req, res, grant);
    res.type('video/mp2t').set('Cache-Control', 'no-store');
    if (remote === null) {
      res.sendFile(join(deps.recording.dir, entry.path));
      return;
    }
    if (remote.bytes !== null) res.set('Content-Length', String(remote.bytes));
    // A relay cut short (the holder stopped) ends the response early; both streams are destroyed.
    await pipeline(remote.body, res).catch(() => undefined);
  });
  return router;
}

function refused(why: string): GatewayError {
  return new GatewayError('FORBIDDEN', `Playback refused: ${why}.`, {
    hint: 'Get a fresh URL from GET /api/v1/cameras/:id/recordings (it needs an approved view_recorded request covering the range).',
  });
}

async function liveSegments(store: Store, cameraId: string, fromMs: number, toMs: number): Promise<ChainEntry[]> {
  const entries = await store.recordings.entries({ cameraId, kind: 'segment', fromMs, toMs });
  return entries.filter((e) => e.deletedAt === null);
}

/** `from`/`to` query parameters; the last 24 hours by default. */
function hlsPlayback(
  req: Request,
  deps: RecordingRoutesDeps,
  cameraId: string,
  fromMs: number,
  toMs: number,
  grant: Exclude<FootageGrant, { refused: string }>,
): { hls: string; expiresAt: string } {
  const expiresAt = Math.min(Math.floor(Date.now() / 1000) + deps.playTokenTtlSeconds, grant.notAfterSeconds ?? Infinity);
  // The range is signed in: the URL's from/to cannot be widened past what the policy allowed.
  const binding = { ...grant.binding, range: { fromMs, toMs } };
  const token = signPlayToken({ cameraId, tier: TIER, expiresAt, purpose: 'view', binding }, deps.tokenKey);
  const query = new URLSearchParams({ from: String(fromMs), to: String(toMs), token });
  return {
    hls: `${baseUrl(req)}/playback/${encodeURIComponent(cameraId)}/index.m3u8?${query.toString()}`,
    expiresAt: iso(expiresAt * 1000),
  };
}

function rangeOf(req: Request): { fromMs: number; toMs: number } {
  const now = Date.now();
  return parseRange(req.query.from ?? String(now - 86_400_000), req.query.to ?? String(now));
}

function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
