import type { StreamInfo } from './streamInfo.js';

export type Tier = 'raw' | 'shared';
export const TIERS: readonly Tier[] = ['raw', 'shared'];

/**
 * One run's publish of a tier without RTMP: the run writes FLV to `url` (its fd 3, see
 * PreparedRun.output), tagged with `marker` so that a leftover process can be recognised.
 */
export interface LiveFeed {
  readonly url: string;
  readonly marker: string;
  write(chunk: Buffer): void;
  end(): void;
  /** Whether someone plays the tier now: its bytes are then read as they come (see FfmpegProcess's `pipe3Prompt`). */
  watched?(): boolean;
}

/** What the pipeline needs from the embedded media server: where to publish and read tiers. */
export interface TierEndpoints {
  publishUrl(tier: Tier, cameraId: string): string;
  /** A publish of the tier fed by the run's FLV output (the ingest's live tiers). */
  openFeed(tier: Tier, cameraId: string): LiveFeed;
  /** `reader`: a platform push's target name, which the access register records. */
  internalPlayUrl(tier: Tier, cameraId: string, reader?: string): string;
  /** Announces what a tier carries before it is published. */
  describeStream(tier: Tier, cameraId: string, layout: { hasAudio: boolean }): void;
  /** Serves `tier` from the `from` tier's stream (a camera without masks: shared = raw). */
  mirrorTier(from: Tier, tier: Tier, cameraId: string): void;
  unmirrorTier(tier: Tier, cameraId: string): void;
}

/** Reads what a stream carries (ffprobe), abortable. */
export type Prober = (url: string, signal: AbortSignal) => Promise<StreamInfo>;
