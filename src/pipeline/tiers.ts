import type { StreamInfo } from './streamInfo.js';

export type Tier = 'raw' | 'shared';
export const TIERS: readonly Tier[] = ['raw', 'shared'];

/** What the pipeline needs from the embedded media server: where to publish and read tiers. */
export interface TierEndpoints {
  publishUrl(tier: Tier, cameraId: string): string;
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
