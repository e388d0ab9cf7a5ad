import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import NodeMediaServer, { type NmsSession } from 'node-media-server';
import { Counter, Gauge, type Registry } from 'prom-client';
import { startOrClose } from '../lifecycle.js';
import { redactSecretsInText, type Logger } from '../log.js';
import type { Tier, TierEndpoints } from '../pipeline/index.js';
import { type ConnectionGate } from './connectionGate.js';
import { GovernedSessions, refusalOf, type ExemptionActive, type RequestActive } from './governedViews.js';
import { InternalTokens } from './internalTokens.js';
import { LiveFeeds, type LiveFeedRun } from './liveFeeds.js';
import { authorise, hardenNms, muteFlvInput, trustPublisher, unsubscribeRefused, type Cutoff, type MediaLimits } from './nmsHardening.js';
import { alignResumeOffsets, fixMetadataOf, nmsInternals, subscriberCount } from './nmsInternals.js';
import {
  claimedPurpose,
  isLoopbackPeer,
  signPlayToken,
  verifyPlayToken,
  type PlayBinding,
  type PlayGrant,
  type TokenCheck,
} from './playToken.js';
import { assertPortFree } from './ports.js';
import { TierMirrors } from './tierMirror.js';

export interface MediaServerOptions {
  /** Address of HTTP-FLV / WS-FLV playback. */
  bindHost: string;
  /** Address of RTMP, which only the gateway's own ffmpegs use (loopback by default). */
  rtmpHost: string;
  rtmpPort: number;
  limits: MediaLimits;
  httpPort: number;
  dataDir: string;
  /** Key of the playback-token HMAC. */
  tokenKey: Buffer;
  /** Tag put on the gateway's own stream URLs, so leftover children can be recognised. */
  instanceMarker: string;
  /** Lifetime of the gateway's own play and publish URLs (see InternalTokens). */
  internalTokenSeconds: number;
  /** Whether an access request named by a viewer token is still approved and in its window; absent: none is. */
  requestActive?: RequestActive;
  /** Told of every viewer's play and every platform push's read, start and end (the access register). */
  onPlay?: PlayObserver;
  /** Whether a viewer playing under the profile's exemption still holds it; absent: always. */
  exemptionActive?: ExemptionActive;
  logger: Logger;
}

/** One play the access register records: a viewer (bound to a user on every tier) or a platform push (`reader`). */
export interface PlayStart {
  id: string;
  cameraId: string;
  tier: 'raw' | 'shared';
  protocol: 'http-flv' | 'ws-flv' | 'rtmp';
  clientAddress: string;
  userId: string | null;
  requestId: string | null;
  /** The platform target a push relays to. */
  reader: string | null;
  /** Bytes sent so far. */
  bytes: () => number;
}

export interface PlayObserver {
  started(play: PlayStart): void;
  ended(id: string): void;
}

export interface PlaybackUrls {
  httpFlv: string;
  wsFlv: string;
  expiresAt: string;
}

const BITRATE_SAMPLE_MS = 2000;
const CUTOFF_LOG_INTERVAL_MS = 10_000;
/** How often running viewers are checked against their access request (a revoked one ends them within this). */
const GOVERNED_SWEEP_MS = 1000;
/**
 * A viewer whose connection holds more than this unsent misses frames until it has drained
 * and a keyframe comes (about 16 s of a 2 Mbit/s camera): its memory stays bounded.
 */
const MAX_VIEWER_BACKLOG_BYTES = 4 << 20;

/**
 * The embedded node-media-server: each camera publishes its tiers here over RTMP on
 * loopback, viewers play them as HTTP-FLV / WS-FLV. Publishing needs the per-run secret
 * and a loopback peer; playing needs a signed, expiring token checked in prePlay.
 */
export class MediaServer implements TierEndpoints {
  private nms: NodeMediaServer | null = null;
  private readonly publishSecret = randomBytes(24).toString('hex');
  private readonly viewers = new Map<string, number>();
  /** The gateway's own readers per stream path: counted apart, never as viewers. */
  private readonly internalConsumers = new Map<string, number>();
  private readonly internalTokens: InternalTokens;
  /** Whether each stream path carries audio, as the ingest's probe found. */
  private readonly layouts = new Map<string, { hasAudio: boolean }>();
  /** Publishing sessions by stream path, for bitrate sampling. */
  private readonly publishers = new Map<string, { inBytes: number }>();
  /** The live tiers the ingests write as FLV to a pipe (no RTMP hop): see liveFeeds.ts. */
  private readonly feeds: LiveFeeds;
  private readonly bitrates = new Map<string, number>();
  private sampler: NodeJS.Timeout | null = null;
  /** Sessions that passed prePlay, by what they count as. */
  private readonly counted = new WeakMap<NmsSession, 'view' | 'internal'>();
  private readonly mirrors = new TierMirrors();
  private gates: { rtmp: ConnectionGate; http: ConnectionGate } | null = null;
  /** Connections cut off or refused, by server and reason. */
  private readonly cutoffs = new Map<string, number>();
  private readonly cutoffLoggedAt = new Map<string, number>();
  private readonly requestActive: RequestActive;
  /** Viewers playing under an access request: ended when it is revoked or expires. */
  private readonly governed: GovernedSessions<NmsSession>;
  private governedSweeper: NodeJS.Timeout | null = null;
  /** The grant each playing session was let in with, for the play observer. */
  private readonly grants = new WeakMap<NmsSession, PlayGrant>();

  constructor(private readonly opts: MediaServerOptions) {
    this.internalTokens = new InternalTokens(opts.internalTokenSeconds);
    this.feeds = new LiveFeeds({
      maxTagBytes: opts.limits.mediaMessageBytes,
      maxBacklogBytes: MAX_VIEWER_BACKLOG_BYTES,
      header: (path) => nmsInternals().createFlvHeader(this.layouts.get(path)?.hasAudio ?? true, true),
      published: (path, publisher) => {
        this.publishers.set(path, publisher);
        this.mirrors.published(path);
      },
      unpublished: (path, publisher) => {
        if (this.publishers.get(path) === publisher) this.publishers.delete(path);
      },
      logger: opts.logger.child({ component: 'media' }),
    });
    this.requestActive = opts.requestActive ?? (() => false);
    this.governed = new GovernedSessions(
      this.requestActive,
      (session, requestId) => {
        const why = requestId === null ? 'viewer cut off: its exemption ended' : 'viewer cut off: its access request ended';
        this.opts.logger.info({ ip: session.ip, stream: session.streamPath, requestId }, why);
        session.close();
      },
      opts.exemptionActive,
    );
  }

  async start(): Promise<void> {
    const { bindHost, rtmpHost, rtmpPort, httpPort } = this.opts;
    await assertPortFree(rtmpHost, rtmpPort, 'RTMP', 'media.rtmpPort / PSVGW_RTMP_PORT');
    await assertPortFree(bindHost, httpPort, 'HTTP-FLV', 'media.httpPort / PSVGW_MEDIA_HTTP_PORT');
    routeNmsLogs(this.opts.logger.child({ component: 'media' }));
    const nms = new NodeMediaServer({
      bind: bindHost,
      rtmp: { port: rtmpPort },
      http: { port: httpPort },
      auth: { play: false, publish: true, secret: this.publishSecret },
      webadmin: { enable: false },
      store: { path: join(this.opts.dataDir, 'media-server') },
      record: { auto: false },
    });
    this.gates = hardenNms(nms, { rtmpHost, limits: this.opts.limits, onCutoff: (c) => this.onCutoff(c) });
    nms.on('prePublish', (s) => this.onPrePublish(s));
    nms.on('postPublish', (s) => this.onPostPublish(s));
    nms.on('donePublish', (s) => {
      if (this.publishers.get(s.streamPath) === s) this.publishers.delete(s.streamPath);
    });
    nms.on('prePlay', (s) => this.onPrePlay(s));
    nms.on('postPlay', (s) => {
      this.countPlayer(s, +1);
      this.reportPlay(s);
    });
    nms.on('donePlay', (s) => {
      this.governed.forget(s);
      this.countPlayer(s, -1);
      if (this.grants.delete(s)) this.opts.onPlay?.ended(s.id);
    });
    this.nms = nms;
    await nms.run();
    this.sampler = setInterval(() => this.sampleBitrates(), BITRATE_SAMPLE_MS);
    this.sampler.unref();
    this.governedSweeper = setInterval(() => this.governed.sweep(), GOVERNED_SWEEP_MS);
    this.governedSweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    if (this.governedSweeper) clearInterval(this.governedSweeper);
    this.governedSweeper = null;
    const nms = this.nms;
    this.nms = null;
    await nms?.stop();
  }

  /** Tells the server what a tier will carry before it is published (see onPostPublish). */
  describeStream(tier: Tier, cameraId: string, layout: { hasAudio: boolean }): void {
    this.layouts.set(`/${tier}/${cameraId}`, layout);
  }

  /** Serves `tier` of the camera from the `from` tier's stream (see TierMirrors). */
  mirrorTier(from: Tier, tier: Tier, cameraId: string): void {
    this.mirrors.mirror(`/${from}/${cameraId}`, `/${tier}/${cameraId}`);
  }

  unmirrorTier(tier: Tier, cameraId: string): void {
    this.mirrors.unmirror(`/${tier}/${cameraId}`);
  }

  /** Bits per second received from each stream's publisher over the last sample period. */
  inboundBitrates(): ReadonlyMap<string, number> {
    return this.bitrates;
  }

  publishUrl(tier: Tier, cameraId: string): string {
    const streamPath = `/${tier}/${cameraId}`;
    const exp = Math.floor(Date.now() / 1000) + this.opts.internalTokenSeconds;
    const sign = createHash('md5').update(`${streamPath}-${exp}-${this.publishSecret}`).digest('hex');
    return `rtmp://127.0.0.1:${this.opts.rtmpPort}${streamPath}?sign=${exp}-${sign}&${this.opts.instanceMarker}`;
  }

  /**
   * A publish of the tier by one ingest run that writes FLV to its fd 3 (`url`); feed it
   * the run's bytes and end it when the run exits. Viewers who stay see the next run.
   */
  openFeed(tier: Tier, cameraId: string): LiveFeedRun & { marker: string } {
    return Object.assign(this.feeds.open(`/${tier}/${cameraId}`), { marker: this.opts.instanceMarker });
  }

  /** A fresh URL for one of the gateway's own readers; ask again at every (re)start of it. */
  internalPlayUrl(tier: Tier, cameraId: string, reader?: string): string {
    const token = this.internalTokens.mint(tier, cameraId, reader);
    return `rtmp://127.0.0.1:${this.opts.rtmpPort}/${tier}/${cameraId}?token=${token}&${this.opts.instanceMarker}`;
  }

  /**
   * Absolute playback URLs for a viewer, valid for `ttlSeconds` (never past `notAfter`,
   * unix seconds); `binding` names the viewer and request for the raw tier.
   */
  playbackUrls(
    tier: Tier,
    cameraId: string,
    publicHost: string,
    ttlSeconds: number,
    bound?: { binding: PlayBinding; notAfter?: number },
  ): PlaybackUrls {
    const expiresAt = Math.min(Math.floor(Date.now() / 1000) + ttlSeconds, bound?.notAfter ?? Infinity);
    const grant = { cameraId, tier, expiresAt, purpose: 'view' as const, ...(bound ? { binding: bound.binding } : {}) };
    const token = signPlayToken(grant, this.opts.tokenKey);
    const path = `/${tier}/${cameraId}.flv?token=${token}`;
    const host = `${publicHost}:${this.opts.httpPort}`;
    return {
      httpFlv: `http://${host}${path}`,
      wsFlv: `ws://${host}${path}`,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
    };
  }

  /** Gauges and counters of the media server's connections and readers, read at scrape time. */
  registerMetrics(registry: Registry): void {
    const registers = [registry];
    new Gauge({
      name: 'psvgw_media_subscribers',
      help: "Sessions subscribed to a live stream: viewers and the gateway's own readers.",
      registers,
      collect() {
        this.set(subscriberCount());
      },
    });
    const internal = () => this.internalConsumers;
    new Gauge({
      name: 'psvgw_internal_consumers',
      help: "The gateway's own readers of a camera tier (masking, diagnostics sampler, snapshot, platform push); not viewers.",
      labelNames: ['camera_id', 'tier'],
      registers,
      collect() {
        this.reset();
        for (const [path, count] of internal()) {
          const [, tier, cameraId] = path.split('/');
          if (tier && cameraId) this.set({ camera_id: cameraId, tier }, count);
        }
      },
    });
    const feeds = this.feeds;
    new Counter({
      name: 'psvgw_live_feed_tags_total',
      help: "FLV tags of the ingests' live feeds: read (every tag), fanned_out (written to a subscriber), rtmp_built, skipped (a slow viewer's).",
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        const stats = feeds.stats();
        this.inc({ kind: 'read' }, stats.tags);
        this.inc({ kind: 'fanned_out' }, stats.fannedOut);
        this.inc({ kind: 'rtmp_built' }, stats.rtmpBuilt);
        this.inc({ kind: 'skipped' }, stats.skipped);
      },
    });
    const gates = () => this.gates;
    new Gauge({
      name: 'psvgw_media_connections',
      help: 'Open connections to the media server, by server (rtmp, http).',
      labelNames: ['server'],
      registers,
      collect() {
        this.set({ server: 'rtmp' }, gates()?.rtmp.openConnections ?? 0);
        this.set({ server: 'http' }, gates()?.http.openConnections ?? 0);
      },
    });
    const cutoffs = this.cutoffs;
    new Counter({
      name: 'psvgw_media_connections_cut_total',
      help: 'Media server connections refused or cut off by a limit (total, per_address, message_size, ws_protocol).',
      labelNames: ['server', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [key, count] of cutoffs) {
          const [server = '', reason = ''] = key.split('/');
          this.inc({ server, reason }, count);
        }
      },
    });
  }

  /** Current external viewers per stream path (`/tier/cameraId`). */
  viewerCounts(): ReadonlyMap<string, number> {
    return this.viewers;
  }

  /**
   * node-media-server announces audio in every FLV header, and wraps metadata in
   * "@setDataFrame", which ffmpeg's FLV reader ignores: a player then waits for audio
   * that never comes (ffprobe hangs until its probe size is read). So the header is set
   * from what the camera really sends.
   */
  private onPostPublish(session: NmsSession): void {
    trustPublisher(session);
    this.publishers.set(session.streamPath, session);
    const layout = this.layouts.get(session.streamPath);
    const broadcast = nmsInternals().broadcasts.get(session.streamPath);
    if (!broadcast) return;
    if (layout) broadcast.flvHeader = nmsInternals().createFlvHeader(layout.hasAudio, true);
    fixMetadataOf(broadcast);
    this.mirrors.published(session.streamPath);
  }

  private lastInBytes = new Map<string, number>();

  private sampleBitrates(): void {
    const next = new Map<string, number>();
    for (const [path, session] of this.publishers) {
      const previous = this.lastInBytes.get(path);
      if (previous !== undefined && session.inBytes >= previous) {
        this.bitrates.set(path, Math.round(((session.inBytes - previous) * 8 * 1000) / BITRATE_SAMPLE_MS));
      }
      next.set(path, session.inBytes);
    }
    for (const path of this.bitrates.keys()) if (!next.has(path)) this.bitrates.delete(path);
    this.lastInBytes = next;
  }

  private onPrePublish(session: NmsSession): void {
    muteFlvInput(session);
    if (session.protocol === 'flv') {
      this.opts.logger.warn(
        { ip: session.ip, stream: session.streamPath },
        'refused an FLV publish (the gateway publishes over RTMP only)',
      );
      refuse(session, 'publishing is reserved to the gateway');
      return;
    }
    if (isLoopbackPeer(session.ip)) {
      alignResumeOffsets(session.streamPath);
      return;
    }
    this.opts.logger.warn({ ip: session.ip, stream: session.streamPath }, 'refused a publish from outside the gateway');
    refuse(session, 'publishing is reserved to the gateway');
  }

  private onPrePlay(session: NmsSession): void {
    muteFlvInput(session);
    const token = this.checkPlayToken(session);
    const refusal = token.ok ? refusalOf(token.grant, this.requestActive, this.opts.exemptionActive) : token.reason;
    if (token.ok && refusal === null) {
      authorise(session);
      this.counted.set(session, token.grant.purpose);
      this.grants.set(session, token.grant);
      this.governed.track(session, token.grant);
      return;
    }
    this.opts.logger.info({ ip: session.ip, stream: session.streamPath, reason: refusal }, 'playback refused');
    refuse(session, `playback token refused: ${refusal}`);
    unsubscribeRefused(session);
  }

  /** Counts a cut-off connection; logs at most one line per server and reason every 10 s (a flood stays quiet). */
  private onCutoff(cutoff: Cutoff): void {
    const key = `${cutoff.server}/${cutoff.reason}`;
    this.cutoffs.set(key, (this.cutoffs.get(key) ?? 0) + 1);
    const now = Date.now();
    if (now - (this.cutoffLoggedAt.get(key) ?? -Infinity) < CUTOFF_LOG_INTERVAL_MS) return;
    this.cutoffLoggedAt.set(key, now);
    this.opts.logger.warn(
      { server: cutoff.server, reason: cutoff.reason, address: cutoff.address, detail: cutoff.detail, total: this.cutoffs.get(key) },
      'media server cut off a connection that broke a limit',
    );
  }

  /**
   * Checked once, when a session starts playing: an internal reader whose token expires
   * later keeps its connection (it renews by getting a fresh URL when it restarts).
   */
  private checkPlayToken(session: NmsSession): TokenCheck {
    const token = first(session.streamQuery.token);
    const stream = { cameraId: session.streamName, tier: session.streamApp };
    if (claimedPurpose(token) === 'internal') return this.internalTokens.check(token, stream, session.ip);
    return verifyPlayToken(token, { ...stream, purpose: 'view' }, this.opts.tokenKey, Date.now() / 1000);
  }

  /** Viewers and platform pushes go to the play observer; the gateway's other readers (masking, sampler) do not. */
  private reportPlay(session: NmsSession): void {
    const grant = this.grants.get(session);
    const tier = session.streamApp;
    const observer = this.opts.onPlay;
    if (!grant || !observer || (tier !== 'raw' && tier !== 'shared') || (grant.purpose === 'internal' && grant.reader === undefined)) {
      this.grants.delete(session);
      return;
    }
    const res = session.res as HttpLikeResponse | undefined;
    observer.started({
      id: session.id,
      cameraId: session.streamName,
      tier,
      protocol: session.protocol === 'rtmp' ? 'rtmp' : res?.setHeader ? 'http-flv' : 'ws-flv',
      clientAddress: session.ip,
      userId: grant.binding?.userId ?? null,
      requestId: grant.binding?.requestId ?? null,
      reader: grant.reader ?? null,
      bytes: () => session.outBytes,
    });
  }

  private countPlayer(session: NmsSession, delta: 1 | -1): void {
    const kind = this.counted.get(session);
    if (!kind) return;
    if (delta < 0) this.counted.delete(session);
    const counts = kind === 'view' ? this.viewers : this.internalConsumers;
    const next = (counts.get(session.streamPath) ?? 0) + delta;
    if (next <= 0) counts.delete(session.streamPath);
    else counts.set(session.streamPath, next);
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

interface HttpLikeResponse {
  headersSent?: boolean;
  statusCode?: number;
  setHeader?: (name: string, value: string) => void;
  end?: (body?: string) => void;
  close?: (code?: number, reason?: string) => void;
}

/** Closes a session with a reason the client can read (HTTP 403, WebSocket 4403, RTMP hang-up). */
function refuse(session: NmsSession, reason: string): void {
  const res = session.res as HttpLikeResponse | undefined;
  if (session.protocol === 'flv' && res?.end && res.setHeader && !res.headersSent) {
    res.statusCode = 403;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    // A refused client gets nothing more on this connection (see unsubscribeRefused).
    res.setHeader('Connection', 'close');
    res.end(`${reason}\n`);
    return;
  }
  if (session.protocol === 'flv' && res?.close) {
    res.close(4403, reason.slice(0, 120));
    return;
  }
  if (session.socket) {
    session.socket.destroy();
    return;
  }
  session.close();
}

type NmsLogger = { log: (message: string, level?: string) => void; level: string };

/** node-media-server logs through console.log at debug level; send it to pino, scrubbed of tokens. */
function routeNmsLogs(logger: Logger): void {
  const require = createRequire(import.meta.url);
  const nmsLogger = require('node-media-server/src/core/logger.js') as NmsLogger;
  nmsLogger.log = (message: string, level = 'info') => {
    const text = redactSecretsInText(String(message));
    switch (level) {
      case 'error':
        logger.error(text);
        break;
      case 'warn':
        logger.warn(text);
        break;
      case 'info':
        logger.debug(text); // its info lines are per-session chatter: debug for the gateway
        break;
      default:
        logger.trace(text);
    }
  };
}

/** Builds the media server from the config and starts it listening; close it with close(). */
export async function startMediaServer(
  config: { host: string; rtmpHost: string; rtmpPort: number; httpPort: number; internalTokenSeconds: number; limits: MediaLimits },
  deps: Omit<MediaServerOptions, 'bindHost' | 'rtmpHost' | 'rtmpPort' | 'httpPort' | 'internalTokenSeconds' | 'limits'>,
): Promise<MediaServer> {
  const { host, rtmpHost, rtmpPort, httpPort, internalTokenSeconds, limits } = config;
  return startOrClose(new MediaServer({ bindHost: host, rtmpHost, rtmpPort, httpPort, internalTokenSeconds, limits, ...deps }));
}
