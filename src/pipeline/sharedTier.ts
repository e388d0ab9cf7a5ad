import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { planMasks } from '../privacy/filterGraph.js';
import type { Mask } from '../privacy/masks.js';
import { overrideKey, withEncoderOverride, type SharedEncoderOverride } from './encoderSettings.js';
import { buildMaskingArgs, type SharedEncoderSettings } from './maskingArgs.js';
import type { StreamInfo } from './streamInfo.js';
import type { PreparedRun, StreamSnapshot, StreamSupervisor } from './supervisor.js';
import type { TierEndpoints } from './cameraPipeline.js';

/** What a camera's shared tier is made of: its masks, the version that names their images, its encoder override. */
export interface SharedTierSpec {
  masks: readonly Mask[];
  version: number;
  encoder: SharedEncoderOverride;
}

export interface SharedTierSnapshot {
  /** 'mirrored': shared = raw; 'masked': the masking transcode publishes the shared tier. */
  mode: 'mirrored' | 'masked';
  masksVersion: number;
  /** The encoder settings in effect (gateway defaults with the camera's override); used only when masked. */
  encoder: SharedEncoderSettings;
  masking: StreamSnapshot | null;
}

export interface SharedTierDeps {
  cameraId: string;
  media: TierEndpoints;
  /** The gateway's default encoder settings; a camera's override is laid over them. */
  encoder: SharedEncoderSettings;
  /** Where mask images are written: `<maskDir>/<cameraId>/v<version>-<i>.pgm`. */
  maskDir: string;
  /** The raw tier's probed layout, known once the ingest has prepared. */
  streamInfo: () => StreamInfo | null;
  /** Builds a supervisor for the masking transcode (wired to the pipeline's state events). */
  supervise: (prepare: (signal: AbortSignal) => Promise<PreparedRun>) => StreamSupervisor;
  logger: Logger;
}

/**
 * What the shared tier of one camera is made of. Without masks it mirrors the raw tier
 * (no encoder). With masks a supervised masking transcode publishes it, and it fails
 * closed: while that transcode is down the shared tier stays dark, never raw.
 */
export class SharedTier {
  private current: SharedTierSpec;
  private masking: StreamSupervisor | null = null;
  private ingestSeenLive = false;
  private closed = false;

  constructor(
    private readonly deps: SharedTierDeps,
    spec: SharedTierSpec,
  ) {
    this.current = spec;
    // Unmirrored before anything is published, so no raw frame ever reaches the shared path.
    if (spec.masks.length > 0) {
      deps.media.unmirrorTier('shared', deps.cameraId);
      this.masking = deps.supervise((signal) => this.prepareMasking(signal));
    }
  }

  get masked(): boolean {
    return this.current.masks.length > 0;
  }

  /** Called by the ingest's prepare: a camera without masks serves shared from raw's stream. */
  beforeIngest(): void {
    if (!this.masked) this.deps.media.mirrorTier('raw', 'shared', this.deps.cameraId);
  }

  /** The ingest (re)started publishing raw: start the transcode, or wake it from backoff. */
  ingestLive(): void {
    const first = !this.ingestSeenLive;
    this.ingestSeenLive = true;
    if (first) this.masking?.start();
    else this.masking?.retryNow();
  }

  /** Applies changed masks or encoder settings in place: only the masking transcode restarts, the ingest runs on. */
  async apply(next: SharedTierSpec): Promise<void> {
    if (this.closed || sameSpec(next, this.current)) return;
    // Encoder settings matter only to a masking transcode: without masks there is nothing to restart.
    if (next.masks.length === 0 && this.current.masks.length === 0) {
      this.current = next;
      return;
    }
    this.current = next;
    const old = this.masking;
    this.masking = null;
    if (next.masks.length > 0) this.deps.media.unmirrorTier('shared', this.deps.cameraId);
    await old?.close();
    if (this.closed) return;
    if (next.masks.length === 0) {
      this.deps.media.mirrorTier('raw', 'shared', this.deps.cameraId);
      return;
    }
    this.masking = this.deps.supervise((signal) => this.prepareMasking(signal));
    if (this.ingestSeenLive) this.masking.start();
  }

  /** Whether the shared tier carries live pictures now, given whether the ingest is live. */
  isUp(ingestLive: boolean): boolean {
    if (!this.masked) return ingestLive;
    return this.masking?.snapshot().state === 'live';
  }

  snapshot(): SharedTierSnapshot {
    return {
      mode: this.masked ? 'masked' : 'mirrored',
      masksVersion: this.current.version,
      encoder: withEncoderOverride(this.deps.encoder, this.current.encoder),
      masking: this.masking?.snapshot() ?? null,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.masking?.close();
  }

  private async prepareMasking(signal: AbortSignal): Promise<PreparedRun> {
    const { cameraId, media } = this.deps;
    const info = this.deps.streamInfo();
    if (!info) {
      throw new GatewayError('CAMERA_STREAM_UNPLAYABLE', 'the raw tier has not been probed yet', {
        hint: 'The masking transcode starts once the camera ingest is live.',
      });
    }
    const { masks, version } = this.current;
    const plan = planMasks(masks, { width: info.video.width, height: info.video.height });
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
    const args = buildMaskingArgs({
      sourceUrl: media.internalPlayUrl('raw', cameraId),
      imageFiles,
      filterComplex: plan.filterComplex,
      fps: info.video.fps ?? 25,
      frameHeight: info.video.height,
      hasAudio: info.audio !== null,
      targetUrl: media.publishUrl('shared', cameraId),
      encoder: withEncoderOverride(this.deps.encoder, this.current.encoder),
    });
    return { args };
  }
}

function sameSpec(a: SharedTierSpec, b: SharedTierSpec): boolean {
  return (
    a.version === b.version && JSON.stringify(a.masks) === JSON.stringify(b.masks) && overrideKey(a.encoder) === overrideKey(b.encoder)
  );
}
