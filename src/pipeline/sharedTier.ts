import { mkdir, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { planMasks, withLiveMask } from '../privacy/index.js';
import {
  desensitizeWithDefaults,
  overrideKey,
  withEncoderOverride,
  type DesensitizeSetting,
  type Mask,
  type SharedEncoderOverride,
} from '../domain/index.js';
import { LiveMaskWriter, MASK_FAIL, maskGrid, type DesensitizerFactory, type LiveRegionSource } from './liveMask.js';
import { buildIngestArgs, type LiveTranscodeSettings } from './ingestArgs.js';
import { buildMaskingArgs, type SharedEncoderSettings } from './maskingArgs.js';
import { needsProbe } from './probeCache.js';
import { hostPortOf, type HostPort } from './reachability.js';
import { liveNeedsAudioTranscode, type StreamInfo } from './streamInfo.js';
import type { PreparedRun, StreamSnapshot, StreamSupervisor } from './supervisor.js';
import type { Prober, TierEndpoints } from './tiers.js';

/** What a camera's shared tier is made of: its masks, the version that names their images, its encoder override. */
export interface SharedTierSpec {
  masks: readonly Mask[];
  version: number;
  encoder: SharedEncoderOverride;
  /** Faces/plates blurred as they move (a live mask from the desensitizer); null or absent: off. */
  desensitize?: DesensitizeSetting | null;
}

/** Where the shared tier's pictures come from: the raw tier, or the camera's sub stream (a second pull). */
export type SharedTierSource = 'raw' | 'sub stream';

export interface SharedTierSnapshot {
  /** 'mirrored': shared = raw; 'masked': the masking transcode publishes it; 'relayed': the sub stream is copied to it. */
  mode: 'mirrored' | 'masked' | 'relayed';
  source: SharedTierSource;
  masksVersion: number;
  /** The encoder settings in effect (gateway defaults with the camera's override); used only when masked. */
  encoder: SharedEncoderSettings;
  masking: StreamSnapshot | null;
  /** A desensitized camera's live mask: whether it shows detections (true) or hides the whole frame; null when off. */
  desensitize: { up: boolean; reason: string | null; delayMs: number } | null;
  /** The sub stream's copy relay (a camera with a sub stream and no masks). */
  relay: StreamSnapshot | null;
}

/** The process that publishes a shared tier: the masking transcode, or the sub stream's relay ('shared'). */
export type SharedStream = 'masking' | 'shared';

export interface SharedTierDeps {
  cameraId: string;
  media: TierEndpoints;
  /** The gateway's default encoder settings; a camera's override is laid over them. */
  encoder: SharedEncoderSettings;
  /** Where mask images are written: `<maskDir>/<cameraId>/v<version>-<i>.pgm`. */
  maskDir: string;
  /** The raw tier's probed layout, known once the ingest has prepared. */
  streamInfo: () => StreamInfo | null;
  /** Probes the sub stream (codec, resolution, audio). */
  probe: Prober;
  /** How the sub stream is read, as the ingest reads the main stream. */
  input: { rtspTransport: 'tcp' | 'udp'; socketTimeoutSeconds: number; liveTranscode: LiveTranscodeSettings };
  /** Builds a supervisor for the process publishing the shared tier (wired to the pipeline's state events). */
  supervise: (stream: SharedStream, prepare: (signal: AbortSignal) => Promise<PreparedRun>, reachability?: HostPort) => StreamSupervisor;
  logger: Logger;
  /** Starts a desensitizer (src/desensitize, passed in by the composition root); absent: a desensitized camera stays hidden whole. */
  desensitizer?: DesensitizerFactory | undefined;
  /** The live mask went from showing detections to hiding the whole frame (up false) or back; null: desensitization turned off. */
  onDesensitize?: (up: boolean | null, reason: string | null) => void;
}

/**
 * What the shared tier of one camera is made of. Without masks and sub stream it mirrors
 * the raw tier (no process). Otherwise one supervised process publishes it: the masking
 * transcode (of the raw tier, or of the sub stream), or a copy relay of the sub stream.
 * It fails closed: while that process is down the shared tier stays dark, never raw.
 */
export class SharedTier {
  private current: SharedTierSpec;
  private subUrl: string | null;
  private subInfo: StreamInfo | null = null;
  private worker: StreamSupervisor | null;
  private started = false;
  private ingestSeenLive = false;
  private closed = false;
  /** The live mask of the current masking run, while desensitized. */
  private live: { writer: LiveMaskWriter; up: boolean; reason: string | null } | null = null;

  constructor(
    private readonly deps: SharedTierDeps,
    spec: SharedTierSpec,
    /** The sub stream's RTSP URL (credentials inserted, never logged); null: the shared tier derives from raw. */
    subUrl: string | null,
  ) {
    this.current = spec;
    this.subUrl = subUrl;
    this.worker = this.newWorker();
  }

  /** Published by the masking transcode: static masks, or desensitization (never mirrored). */
  get masked(): boolean {
    return this.current.masks.length > 0 || this.desensitized;
  }

  get desensitized(): boolean {
    return (this.current.desensitize ?? null) !== null;
  }

  /** Whether a process publishes the shared tier; if not, it mirrors raw. */
  private get published(): boolean {
    return this.masked || this.subUrl !== null;
  }

  /** The pipeline starts: a process reading the sub stream needs no ingest and starts now. */
  start(): void {
    this.started = true;
    if (this.subUrl !== null) this.worker?.start();
  }

  /** Called by the ingest's prepare: a camera without masks or sub stream serves shared from raw's stream. */
  beforeIngest(): void {
    if (!this.published) this.deps.media.mirrorTier('raw', 'shared', this.deps.cameraId);
  }

  /** The ingest (re)started publishing raw: start a transcode of raw, or wake it from backoff. */
  ingestLive(): void {
    const first = !this.ingestSeenLive;
    this.ingestSeenLive = true;
    // The sub stream does not pass through the ingest: its process runs on its own.
    if (this.subUrl !== null) return;
    if (first) this.worker?.start();
    else this.worker?.retryNow();
  }

  /** Applies changed masks, encoder settings or sub stream in place: only the shared side restarts, the ingest runs on. */
  async apply(next: SharedTierSpec, subUrl: string | null): Promise<void> {
    if (this.closed) return;
    const before = workerKey(this.current, this.subUrl);
    if (subUrl !== this.subUrl) this.subInfo = null;
    this.current = next;
    this.subUrl = subUrl;
    if (!this.desensitized) this.deps.onDesensitize?.(null, null);
    // E.g. encoder settings without masks: nothing runs that they would change.
    if (workerKey(next, subUrl) === before) return;
    const old = this.worker;
    this.worker = null;
    // Unmirrored before the old process stops, so no raw frame reaches the shared path meanwhile.
    if (this.published) this.deps.media.unmirrorTier('shared', this.deps.cameraId);
    await old?.close();
    if (this.closed) return;
    this.worker = this.newWorker();
    if (this.worker === null) {
      this.deps.media.mirrorTier('raw', 'shared', this.deps.cameraId);
      return;
    }
    if (this.subUrl !== null ? this.started : this.ingestSeenLive) this.worker.start();
  }

  /** Whether the shared tier carries live pictures now, given whether the ingest is live. */
  isUp(ingestLive: boolean): boolean {
    if (!this.published) return ingestLive;
    return this.worker?.snapshot().state === 'live';
  }

  snapshot(): SharedTierSnapshot {
    const run = this.worker?.snapshot() ?? null;
    const relayed = !this.masked && this.subUrl !== null;
    return {
      mode: this.masked ? 'masked' : relayed ? 'relayed' : 'mirrored',
      source: this.subUrl === null ? 'raw' : 'sub stream',
      masksVersion: this.current.version,
      encoder: withEncoderOverride(this.deps.encoder, this.current.encoder),
      masking: this.masked ? run : null,
      relay: relayed ? run : null,
      desensitize: !this.desensitized
        ? null
        : this.live === null
          ? { up: false, reason: 'masking not running', delayMs: 0 }
          : { up: this.live.up, reason: this.live.reason, delayMs: this.live.writer.currentDelayMs },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker?.close();
  }

  /** The process the current spec needs, if any; unmirrors the shared path before it can publish. */
  private newWorker(): StreamSupervisor | null {
    if (!this.published) return null;
    this.deps.media.unmirrorTier('shared', this.deps.cameraId);
    const sub = this.subUrl === null ? undefined : hostPortOf(this.subUrl);
    if (this.masked) return this.deps.supervise('masking', (signal) => this.prepareMasking(signal), sub);
    return this.deps.supervise('shared', (signal) => this.prepareRelay(signal), sub);
  }

  private async probeSub(url: string, signal: AbortSignal): Promise<StreamInfo> {
    if (!this.subInfo || needsProbe(this.subInfo, this.worker?.snapshot().lastCause ?? null)) {
      this.subInfo = await this.deps.probe(url, signal);
    }
    return this.subInfo;
  }

  /** The sub stream copied onto the shared tier, as the ingest copies the main stream onto raw (no recording). */
  private async prepareRelay(signal: AbortSignal): Promise<PreparedRun> {
    const { cameraId, media, input } = this.deps;
    const url = this.subUrl;
    if (url === null) throw new Error('a sub-stream relay without a sub stream');
    const info = await this.probeSub(url, signal);
    media.unmirrorTier('shared', cameraId);
    media.describeStream('shared', cameraId, { hasAudio: info.audio !== null });
    const args = buildIngestArgs({
      inputUrl: url,
      rtspTransport: input.rtspTransport,
      socketTimeoutSeconds: input.socketTimeoutSeconds,
      info,
      liveTargets: [media.publishUrl('shared', cameraId)],
      liveTranscode: input.liveTranscode,
      recording: null,
    });
    return { args, reachability: hostPortOf(url) };
  }

  private async prepareMasking(signal: AbortSignal): Promise<PreparedRun> {
    const { cameraId, media, input } = this.deps;
    const sub = this.subUrl;
    // Mask geometry is planned on the resolution of the stream that is masked.
    const info = sub === null ? this.deps.streamInfo() : await this.probeSub(sub, signal);
    if (!info) {
      throw new GatewayError('CAMERA_STREAM_UNPLAYABLE', 'the raw tier has not been probed yet', {
        hint: 'The masking transcode starts once the camera ingest is live.',
      });
    }
    const { masks, version } = this.current;
    const frame = { width: info.video.width, height: info.video.height };
    const plan = planMasks(masks, frame);
    const dir = join(this.deps.maskDir, cameraId);
    await mkdir(dir, { recursive: true });
    const imageFiles = await Promise.all(
      plan.images.map(async (image, i) => {
        const file = join(dir, `v${version}-${i}.pgm`);
        await writeFile(file, image.pgm, { signal });
        return file;
      }),
    );
    media.unmirrorTier('shared', cameraId);
    media.describeStream('shared', cameraId, { hasAudio: info.audio !== null });
    const fps = info.video.fps ?? 25;
    const live = this.prepareLive(frame, fps, plan.images.length + 1);
    const args = buildMaskingArgs({
      sourceUrl: sub ?? media.internalPlayUrl('raw', cameraId),
      ...(sub === null
        ? {}
        : {
            rtsp: {
              transport: input.rtspTransport,
              socketTimeoutSeconds: input.socketTimeoutSeconds,
              transcodeAudio: liveNeedsAudioTranscode(info),
            },
          }),
      imageFiles,
      filterComplex: live === null ? plan.filterComplex : withLiveMask(plan.filterComplex, live.graph),
      fps,
      frameHeight: info.video.height,
      hasAudio: info.audio !== null,
      targetUrl: media.publishUrl('shared', cameraId),
      encoder: withEncoderOverride(this.deps.encoder, this.current.encoder),
      ...(live === null ? {} : { liveMask: live.args }),
    });
    const pipe3 = live === null ? {} : { pipe3Input: live.pipe3Input };
    return sub === null ? { args, ...pipe3 } : { args, reachability: hostPortOf(sub), ...pipe3 };
  }

  /**
   * A desensitized camera's live mask for one masking run: a desensitizer started for the
   * run (its frames read from the raw tier with a fresh token), and the writer of its mask
   * stream, closed when the run ends. Without a desensitizer the mask hides the whole frame.
   */
  private prepareLive(frame: { width: number; height: number }, fps: number, input: number) {
    const setting = desensitizeWithDefaults(this.current.desensitize ?? null);
    if (setting === null) return null;
    const { cameraId, media, logger } = this.deps;
    const grid = maskGrid(frame);
    const rate = Math.max(1, Math.round(fps));
    let source: LiveRegionSource;
    if (this.deps.desensitizer) {
      source = this.deps.desensitizer({
        cameraId,
        sourceUrl: media.internalPlayUrl('raw', cameraId),
        width: frame.width,
        height: frame.height,
        faces: setting.faces,
        plates: setting.plates,
        detectFps: setting.detectFps,
        log: logger.child({ stream: 'desensitize' }),
      });
    } else {
      logger.error('desensitization is on but no detector is available: the shared tier hides the whole frame');
      source = NO_DETECTOR;
    }
    const originWallMs = Date.now();
    const state = {
      writer: null as unknown as LiveMaskWriter,
      up: false,
      reason: 'starting' as string | null,
    };
    state.writer = new LiveMaskWriter({
      source,
      grid,
      timing: { rate, detectFps: setting.detectFps },
      originWallMs,
      onUp: (up, reason) => {
        state.up = up;
        state.reason = reason;
        if (this.live === state) this.deps.onDesensitize?.(up, reason);
      },
      onDead: () => {
        // Without a detector there is nothing to restart: the whole frame stays hidden.
        if (!this.deps.desensitizer) return;
        logger.warn('desensitizer dead: restarting the masking run with a new one');
        this.worker?.restartNow();
      },
      logger,
    });
    return {
      graph: { input, frame, failMode: setting.failMode, failThreshold: MASK_FAIL },
      args: { width: grid.width, height: grid.height, rate, originSeconds: originWallMs / 1000 },
      pipe3Input: {
        attach: (stream: Writable) => {
          this.live = state;
          state.writer.attach(stream);
        },
        detach: () => {
          state.writer.detach();
          if (this.live === state) this.live = null;
          source.close().catch((err: unknown) => logger.warn({ err }, 'desensitizer did not close cleanly'));
        },
      },
    };
  }
}

/** Equal keys: the same process (or none) serves the shared tier, nothing to restart. */
function workerKey(spec: SharedTierSpec, subUrl: string | null): string {
  const desensitize = spec.desensitize ?? null;
  if (spec.masks.length === 0 && desensitize === null) return JSON.stringify(['unmasked', subUrl]);
  return JSON.stringify(['masked', subUrl, spec.version, spec.masks, overrideKey(spec.encoder), desensitize]);
}

/** Stands in when no detector is available: it never vouches for a frame, so the whole frame stays hidden. */
const NO_DETECTOR: LiveRegionSource = {
  regionsAt: () => ({ regions: [], freshAt: -Infinity, detectorLatencyMs: 0 }),
  health: () => 'dead',
  on: () => undefined,
  close: () => Promise.resolve(),
};
