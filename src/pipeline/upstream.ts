import type { Logger } from '../log.js';
import type { StreamSnapshot, StreamSupervisor, SupervisorOptions } from './supervisor.js';

/** One platform push target's relay, as the pipeline's snapshot reports it. */
export interface PushSnapshot extends StreamSnapshot {
  /** The target's secret-free label (see src/platform). */
  target: string;
}

/**
 * What a camera's pipeline hands to its upstream links (src/platform): the camera, where the
 * shared tier can be read, and supervision with the pipeline's settings, whose state changes
 * the pipeline logs ('stream state') and emits under the given stream name.
 */
export interface UpstreamContext {
  cameraId: string;
  /** Platform push targets (credentials and stream keys included; never logged). */
  pushTargets: readonly string[];
  /** Where a relay reads the shared tier on the embedded media server: a fresh internal token per call, so per (re)start. */
  sharedPlayUrl: (reader?: string) => string;
  /** The camera's logger. */
  logger: Logger;
  /** A supervised ffmpeg (role 'push'), not started, that reports as `stream`. */
  supervise(stream: string, logger: Logger, prepare: SupervisorOptions['prepare']): StreamSupervisor;
}

/** A camera's links to upstream platforms, driven by its pipeline. */
export interface UpstreamLinks {
  /** The shared tier's source went live (again): start the links, or retry them at once. */
  sourceLive(): void;
  snapshot(): PushSnapshot[];
  close(): Promise<void>;
}

/** Builds a camera's upstream links; src/platform provides it, the composition root passes it in. */
export type UpstreamFactory = (ctx: UpstreamContext) => UpstreamLinks;
