import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SafeEmitter } from '../events.js';
import type { Logger } from '../log.js';
import type { BackoffPolicy } from '../backoff.js';
import { buildIngestArgs, type LiveTranscodeSettings, type RecordingOutput } from './ingestArgs.js';
import type { SharedEncoderSettings } from './maskingArgs.js';
import { isDemoSource } from '../domain/index.js';
import { DEMO_STREAM_INFO } from './demoSource.js';
import { needsProbe } from './probeCache.js';
import { hostPortOf, type HostPort } from './reachability.js';
import { SharedTier, type SharedStream, type SharedTierSpec, type SharedTierSnapshot } from './sharedTier.js';
import type { Prober, TierEndpoints } from './tiers.js';
import { liveNeedsVideoTranscode, type StreamInfo } from './streamInfo.js';
import { StreamSupervisor, type StateChange, type StreamSnapshot, type SupervisorOptions } from './supervisor.js';
import type { PushSnapshot, UpstreamFactory, UpstreamLinks } from './upstream.js';
import type { DesensitizerFactory } from './liveMask.js';

/** A camera as the pipeline sees it: its source URL(s) (credentials included) and push targets. */
export interface CameraSource {
  id: string;
  /** RTSP URL with credentials inserted; never logged. */
  sourceUrl: string;
  pushTargets: string[];
  /** Privacy masks and encoder override of the shared tier; no masks and no sub stream: shared mirrors raw. */
  shared: SharedTierSpec;
  /**
   * The sub stream that feeds the shared tier (a second pull, chosen by the integrator),
   * credentials inserted, never logged; absent: the shared tier derives from the raw tier.
   */
  sharedSourceUrl?: string | undefined;
}

export interface PipelineSettings {
  ffmpegPath: string;
  rtspTransport: 'tcp' | 'udp';
  socketTimeoutSeconds: number;
  stallMs: number;
  startTimeoutMs: number;
  backoff: BackoffPolicy;
  maxRestartsPerMinute: number;
  liveTranscode: LiveTranscodeSettings;
  sharedEncoder: SharedEncoderSettings;
  /** The gateway's data directory; mask images go under `<dataDir>/masks`. */
  dataDir: string;
  /** drawtext's font for the clock of demo cameras (null: no clock). */
  demoFont?: string | null;
  /** The recorder: names each ingest run's segment output (null: not recording that run). */
  recording?: { prepareRun(cameraId: string): RecordingOutput | null };
  /**
   * Relays the shared tier to the camera's push targets (src/platform's `platformUpstream`).
   * Without it a camera's push targets are not served.
   */
  upstream?: UpstreamFactory;
  /** Takes the original video of cameras whose live tiers re-encode it (see originalVideoTaps.ts). */
  originalVideo?: { outputUrl(cameraId: string): Promise<string> };
  /**
   * Starts the desensitizer of a desensitized camera (src/desensitize's `startDesensitizer`,
   * passed in by the composition root). Without it such a camera's shared tier stays hidden whole.
   */
  desensitizer?: DesensitizerFactory;
}

/** A desensitized camera's live mask showing detections (up), hiding the whole frame (down), or turned off (null). */
export interface DesensitizeChange {
  cameraId: string;
  up: boolean | null;
  reason: string | null;
}

export interface PipelineSnapshot {
  cameraId: string;
  ingest: StreamSnapshot;
  pushes: PushSnapshot[];
  shared: SharedTierSnapshot & { up: boolean };
  info: StreamInfo | null;
}

export interface PipelineStateChange extends StateChange {
  cameraId: string;
  /** 'ingest', 'masking', 'shared' (the sub stream's relay) or the push target's label. */
  stream: string;
}

/**
 * Everything that runs for one camera: the ingest pull feeding the live tiers (and, when
 * the integrator chose a sub stream for sharing, a second pull feeding the shared tier),
 * and its upstream links (src/platform: one supervised relay per push target reading the
 * shared tier), woken whenever the shared tier's source goes live.
 */
export class CameraPipeline extends SafeEmitter<{ state: [PipelineStateChange]; desensitize: [DesensitizeChange] }> {
  private readonly ingest: StreamSupervisor;
  private readonly upstream: UpstreamLinks | null;
  private readonly shared: SharedTier;
  private info: StreamInfo | null = null;
  /** A demo camera's outage on demand: its source stays away until then (ms since the epoch). */
  private demoOutageUntil = 0;

  constructor(
    public camera: CameraSource,
    private readonly deps: { settings: PipelineSettings; media: TierEndpoints; probe: Prober; logger: Logger },
  ) {
    super(deps.logger);
    const log = deps.logger.child({ cameraId: camera.id });
    this.shared = new SharedTier(
      {
        cameraId: camera.id,
        media: deps.media,
        encoder: deps.settings.sharedEncoder,
        maskDir: join(deps.settings.dataDir, 'masks'),
        streamInfo: () => this.info,
        probe: deps.probe,
        input: {
          rtspTransport: deps.settings.rtspTransport,
          socketTimeoutSeconds: deps.settings.socketTimeoutSeconds,
          liveTranscode: deps.settings.liveTranscode,
        },
        supervise: (stream, prepare, reachability) => this.superviseShared(stream, log, prepare, reachability),
        logger: log,
        desensitizer: deps.settings.desensitizer,
        onDesensitize: (up, reason) => {
          if (up === false) log.error({ reason }, 'desensitization cannot vouch for the picture: the shared tier hides the whole frame');
          else if (up) log.info('desensitization back: faces and plates hidden where detected');
          this.emit('desensitize', { cameraId: camera.id, up, reason });
        },
      },
      camera.shared,
      camera.sharedSourceUrl ?? null,
    );
    this.ingest = this.supervise('ingest', log, (signal) => this.prepareIngest(signal), hostPortOf(camera.sourceUrl));
    this.upstream =
      deps.settings.upstream?.({
        cameraId: camera.id,
        pushTargets: camera.pushTargets,
        sharedPlayUrl: (reader) => deps.media.internalPlayUrl('shared', camera.id, reader),
        logger: log,
        supervise: (stream, logger, prepare) => this.supervise(stream, logger, prepare),
      }) ?? null;
    if (!this.upstream && camera.pushTargets.length > 0)
      log.warn({ targets: camera.pushTargets.length }, 'push targets not served: no upstream links');
    this.ingest.on('state', (change) => {
      if (change.to !== 'live') return;
      this.shared.ingestLive();
      this.upstream?.sourceLive();
    });
  }

  start(): void {
    this.ingest.start();
    this.shared.start();
  }

  /** Restarts the ingest (e.g. to start or stop recording); the live tiers resume within the backoff. */
  restartIngest(): void {
    this.ingest.restartNow();
  }

  /**
   * Stops a demo camera's source for `seconds`, then lets it come back by itself: the outage
   * is seen as a real camera's would be (incident, ledger, offline tiles). False: not a demo.
   */
  demoOutage(seconds: number): boolean {
    if (!isDemoSource(this.camera.sourceUrl)) return false;
    this.demoOutageUntil = Date.now() + seconds * 1000;
    this.ingest.restartNow();
    return true;
  }

  /** New masks, encoder settings or sub stream for the shared tier: restarts only the shared side, never the ingest. */
  async updateShared(spec: SharedTierSpec, sharedSourceUrl: string | undefined): Promise<void> {
    this.camera = { ...this.camera, shared: spec, sharedSourceUrl };
    await this.shared.apply(spec, sharedSourceUrl ?? null);
  }

  async close(): Promise<void> {
    await Promise.all([this.ingest.close(), this.shared.close(), this.upstream?.close()]);
    this.deps.media.unmirrorTier('shared', this.camera.id);
  }

  snapshot(): PipelineSnapshot {
    return {
      cameraId: this.camera.id,
      ingest: this.ingest.snapshot(),
      pushes: this.upstream?.snapshot() ?? [],
      shared: { ...this.shared.snapshot(), up: this.shared.isUp(this.ingest.snapshot().state === 'live') },
      info: this.info,
    };
  }

  private supervise(stream: string, logger: Logger, prepare: SupervisorOptions['prepare'], reachability?: HostPort): StreamSupervisor {
    const s = this.deps.settings;
    const sup = new StreamSupervisor({
      role: stream === 'ingest' || stream === 'masking' || stream === 'shared' ? stream : 'push',
      ffmpegPath: s.ffmpegPath,
      logger,
      prepare,
      stallMs: s.stallMs,
      startTimeoutMs: s.startTimeoutMs,
      backoff: s.backoff,
      maxRestartsPerMinute: s.maxRestartsPerMinute,
      ...(reachability ? { reachability } : {}),
    });
    sup.on('state', (change) => {
      logger.info({ stream, from: change.from, to: change.to, cause: change.cause }, 'stream state');
      this.emit('state', { ...change, cameraId: this.camera.id, stream });
    });
    return sup;
  }

  /**
   * The process publishing the shared tier (masking transcode or sub-stream relay): its
   * failure leaves the shared tier dark (never mirrored back to raw), an incident worth an
   * error line; the upstream links are woken once it publishes again.
   */
  private superviseShared(
    stream: SharedStream,
    logger: Logger,
    prepare: SupervisorOptions['prepare'],
    reachability: HostPort | undefined,
  ): StreamSupervisor {
    const sup = this.supervise(stream, logger, prepare, reachability);
    sup.on('state', (change) => {
      if (change.to === 'live') this.upstream?.sourceLive();
      if (change.to === 'backoff') {
        const what = stream === 'masking' ? 'masking' : 'sub stream';
        logger.error({ cause: change.cause, detail: sup.snapshot().lastError }, `shared tier dark: ${what} failed`);
      }
    });
    return sup;
  }

  private async prepareIngest(signal: AbortSignal) {
    if (isDemoSource(this.camera.sourceUrl)) {
      // The source is away: no run until the outage ends (the ingest stays down, as a dead camera's would).
      const away = this.demoOutageUntil - Date.now();
      if (away > 0) await sleep(away, undefined, { signal }).catch(() => undefined);
      this.info = DEMO_STREAM_INFO;
    } else if (!this.info || needsProbe(this.info, this.ingest.snapshot().lastCause)) {
      this.info = await this.deps.probe(this.camera.sourceUrl, signal);
    }
    const media = this.deps.media;
    media.describeStream('raw', this.camera.id, { hasAudio: this.info.audio !== null });
    // Without privacy masks or sub stream the shared tier carries the raw tier's bytes: publish
    // once and serve both paths from that one stream. Otherwise it is never mirrored.
    this.shared.beforeIngest();
    const s = this.deps.settings;
    const original = s.originalVideo !== undefined && liveNeedsVideoTranscode(this.info);
    const originalVideoUrl = original ? await s.originalVideo!.outputUrl(this.camera.id) : null;
    // The raw tier goes to the media server's fan-out as FLV on the ingest's fd 3: no RTMP hop.
    const feed = media.openFeed('raw', this.camera.id);
    try {
      const args = buildIngestArgs({
        inputUrl: this.camera.sourceUrl,
        rtspTransport: s.rtspTransport,
        socketTimeoutSeconds: s.socketTimeoutSeconds,
        info: this.info,
        liveTargets: [feed.url],
        liveMarker: feed.marker,
        liveTranscode: s.liveTranscode,
        recording: s.recording?.prepareRun(this.camera.id) ?? null,
        demoFont: s.demoFont ?? null,
        originalVideoUrl,
      });
      return { args, reachability: hostPortOf(this.camera.sourceUrl), output: feed };
    } catch (err) {
      feed.end();
      throw err;
    }
  }
}
