import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { BackoffPolicy } from './backoff.js';
import { buildIngestArgs, type LiveTranscodeSettings, type RecordingOutput } from './ingestArgs.js';
import type { SharedEncoderSettings } from './maskingArgs.js';
import { buildPushArgs, pushTargetLabel } from './pushArgs.js';
import { hostPortOf, type HostPort } from './reachability.js';
import { SharedTier, type SharedTierSpec, type SharedTierSnapshot } from './sharedTier.js';
import type { StreamInfo } from './streamInfo.js';
import { StreamSupervisor, type StateChange, type StreamSnapshot, type SupervisorOptions } from './supervisor.js';

export type Tier = 'raw' | 'shared';
export const TIERS: readonly Tier[] = ['raw', 'shared'];

/** What the pipeline needs from the embedded media server: where to publish and read tiers. */
export interface TierEndpoints {
  publishUrl(tier: Tier, cameraId: string): string;
  internalPlayUrl(tier: Tier, cameraId: string): string;
  /** Announces what a tier carries before it is published. */
  describeStream(tier: Tier, cameraId: string, layout: { hasAudio: boolean }): void;
  /** Serves `tier` from the `from` tier's stream (a camera without masks: shared = raw). */
  mirrorTier(from: Tier, tier: Tier, cameraId: string): void;
  unmirrorTier(tier: Tier, cameraId: string): void;
}

/** A camera as the pipeline sees it: one source URL (credentials included) and push targets. */
export interface CameraSource {
  id: string;
  /** RTSP URL with credentials inserted; never logged. */
  sourceUrl: string;
  pushTargets: string[];
  /** Privacy masks and encoder override of the shared tier; no masks: shared mirrors raw. */
  shared: SharedTierSpec;
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
  /** The recorder: names each ingest run's segment output (null: not recording that run). */
  recording?: { prepareRun(cameraId: string): RecordingOutput | null };
}

export type Prober = (url: string, signal: AbortSignal) => Promise<StreamInfo>;

export interface PushSnapshot extends StreamSnapshot {
  target: string;
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
  /** 'ingest', 'masking' or the push target's label. */
  stream: string;
}

/**
 * Everything that runs for one camera: the single ingest pull feeding the live tiers,
 * and one supervised relay per platform push target reading the shared tier.
 */
export class CameraPipeline extends EventEmitter<{ state: [PipelineStateChange] }> {
  private readonly ingest: StreamSupervisor;
  private readonly pushes = new Map<string, StreamSupervisor>();
  private readonly shared: SharedTier;
  private info: StreamInfo | null = null;
  private pushesStarted = false;

  constructor(
    public camera: CameraSource,
    private readonly deps: { settings: PipelineSettings; media: TierEndpoints; probe: Prober; logger: Logger },
  ) {
    super();
    const log = deps.logger.child({ cameraId: camera.id });
    this.shared = new SharedTier(
      {
        cameraId: camera.id,
        media: deps.media,
        encoder: deps.settings.sharedEncoder,
        maskDir: join(deps.settings.dataDir, 'masks'),
        streamInfo: () => this.info,
        supervise: (prepare) => this.superviseMasking(log, prepare),
        logger: log,
      },
      camera.shared,
    );
    this.ingest = this.supervise('ingest', log, (signal) => this.prepareIngest(signal), hostPortOf(camera.sourceUrl));
    for (const target of camera.pushTargets) {
      const label = pushTargetLabel(target);
      const source = deps.media.internalPlayUrl('shared', camera.id);
      this.pushes.set(
        label,
        this.supervise(label, log.child({ push: label }), () => Promise.resolve({ args: buildPushArgs(source, target) })),
      );
    }
    this.ingest.on('state', (change) => {
      if (change.to !== 'live') return;
      this.shared.ingestLive();
      // Pushes start once there is something to push, and retry at once when the ingest recovers.
      if (!this.pushesStarted) {
        this.pushesStarted = true;
        for (const push of this.pushes.values()) push.start();
      } else {
        for (const push of this.pushes.values()) push.retryNow();
      }
    });
  }

  start(): void {
    this.ingest.start();
  }

  /** Restarts the ingest (e.g. to start or stop recording); the live tiers resume within the backoff. */
  restartIngest(): void {
    this.ingest.restartNow();
  }

  /** New masks or encoder settings for the shared tier: restarts only the masking transcode, never the ingest. */
  async updateShared(spec: SharedTierSpec): Promise<void> {
    this.camera = { ...this.camera, shared: spec };
    await this.shared.apply(spec);
  }

  async close(): Promise<void> {
    await Promise.all([this.ingest.close(), this.shared.close(), ...[...this.pushes.values()].map((p) => p.close())]);
    this.deps.media.unmirrorTier('shared', this.camera.id);
  }

  snapshot(): PipelineSnapshot {
    return {
      cameraId: this.camera.id,
      ingest: this.ingest.snapshot(),
      pushes: [...this.pushes.entries()].map(([target, sup]) => ({ target, ...sup.snapshot() })),
      shared: { ...this.shared.snapshot(), up: this.shared.isUp(this.ingest.snapshot().state === 'live') },
      info: this.info,
    };
  }

  private supervise(stream: string, logger: Logger, prepare: SupervisorOptions['prepare'], reachability?: HostPort): StreamSupervisor {
    const s = this.deps.settings;
    const sup = new StreamSupervisor({
      role: stream === 'ingest' || stream === 'masking' ? stream : 'push',
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
   * The masking transcode: its failure leaves the shared tier dark (never mirrored back to
   * raw), an incident worth an error line; pushes are woken once it publishes again.
   */
  private superviseMasking(logger: Logger, prepare: SupervisorOptions['prepare']): StreamSupervisor {
    const sup = this.supervise('masking', logger, prepare);
    sup.on('state', (change) => {
      if (change.to === 'live') for (const push of this.pushes.values()) push.retryNow();
      if (change.to === 'backoff') {
        logger.error({ cause: change.cause, detail: sup.snapshot().lastError }, 'shared tier dark: masking failed');
      }
    });
    return sup;
  }

  private async prepareIngest(signal: AbortSignal) {
    // Probe on the first start and after any run that never went live: the camera may
    // have been swapped or reconfigured; a healthy restart reuses what is known.
    const snap = this.ingest.snapshot();
    if (!this.info || snap.lastCause === 'stream_unplayable' || snap.lastCause === 'start_timeout') {
      this.info = await this.deps.probe(this.camera.sourceUrl, signal);
    }
    const media = this.deps.media;
    media.describeStream('raw', this.camera.id, { hasAudio: this.info.audio !== null });
    // Without privacy masks the shared tier carries the raw tier's bytes: publish once and
    // serve both paths from that one stream. With masks it is never mirrored.
    this.shared.beforeIngest();
    const s = this.deps.settings;
    const args = buildIngestArgs({
      inputUrl: this.camera.sourceUrl,
      rtspTransport: s.rtspTransport,
      socketTimeoutSeconds: s.socketTimeoutSeconds,
      info: this.info,
      liveTargets: [media.publishUrl('raw', this.camera.id)],
      liveTranscode: s.liveTranscode,
      recording: s.recording?.prepareRun(this.camera.id) ?? null,
    });
    return { args, reachability: hostPortOf(this.camera.sourceUrl) };
  }
}
