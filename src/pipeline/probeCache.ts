import type { FailureCause } from './failure.js';
import type { StreamInfo } from './streamInfo.js';

/**
 * Remembers a probe for a short while so the pipeline that starts right after a camera
 * is registered does not probe the camera a second time (each probe costs about a second
 * and an RTSP session on the camera).
 */
export class RecentProbes {
  private readonly entries = new Map<string, { info: StreamInfo; at: number }>();

  constructor(private readonly maxAgeMs = 30_000) {}

  remember(url: string, info: StreamInfo, now = Date.now()): void {
    for (const [key, entry] of this.entries) if (now - entry.at > this.maxAgeMs) this.entries.delete(key);
    this.entries.set(url, { info, at: now });
  }

  /** The remembered probe, used once; undefined when none or too old. */
  take(url: string, now = Date.now()): StreamInfo | undefined {
    const entry = this.entries.get(url);
    this.entries.delete(url);
    return entry && now - entry.at <= this.maxAgeMs ? entry.info : undefined;
  }
}

/**
 * Whether a source is probed before a run: on the first start and after any run that never
 * went live (the camera may have been swapped or reconfigured); a healthy restart reuses
 * what is known.
 */
export function needsProbe(known: StreamInfo | null, lastCause: FailureCause | null): boolean {
  return known === null || lastCause === 'stream_unplayable' || lastCause === 'start_timeout';
}
