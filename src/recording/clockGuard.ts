import { performance } from 'node:perf_hooks';
import type { IncidentBoard } from '../health/index.js';
import type { Logger } from '../log.js';

/** NTP sync state of the gateway's clock, as the diagnostics read it. */
export type ClockSyncState = 'synchronized' | 'unsynchronized' | 'unknown';

export const CLOCK_JUMP = 'clock_jump';

export interface ClockGuardOptions {
  /** How far the wall clock may run ahead of the monotonic clock between two checks. */
  toleranceMs: number;
  logger: Logger;
  incidents?: IncidentBoard;
  /** NTP state; 'unknown' (no timedatectl/chrony) leaves the monotonic check alone to decide. */
  ntpState?: () => Promise<ClockSyncState>;
  /** Injectable for tests: wall clock, ms since the epoch. */
  wall?: () => number;
  /** Injectable for tests: monotonic ms (performance.now). */
  mono?: () => number;
}

export type ClockVerdict = { trusted: true } | { trusted: false; reason: string };

/**
 * Whether the wall clock can be trusted to decide that footage is past retention. The
 * offset between wall and monotonic clock is remembered at each check; the wall clock
 * running ahead of that by more than the tolerance (a bad NTP answer, an operator setting
 * the date) is a jump: a critical `clock_jump` incident, and no deletion until an
 * operator confirms the new time or the wall clock comes back. A clock that went back
 * only keeps footage longer, so it is not a jump. The monotonic clock restarts with the
 * process: a jump while the gateway was down is not seen here.
 */
export class ClockGuard {
  readonly #wall: () => number;
  readonly #mono: () => number;
  /** Wall minus monotonic at the last trusted check. */
  #refOffsetMs: number | null = null;
  /** How far ahead the wall clock was found, while a jump is unconfirmed. */
  #jumpMs: number | null = null;
  #ntp: ClockSyncState = 'unknown';

  constructor(private readonly opts: ClockGuardOptions) {
    this.#wall = opts.wall ?? Date.now;
    this.#mono = opts.mono ?? (() => performance.now());
  }

  /** True while deletion is paused by a jump or an unsynchronised clock (as of the last check). */
  get paused(): boolean {
    return this.#jumpMs !== null || this.#ntp === 'unsynchronized';
  }

  async check(): Promise<ClockVerdict> {
    this.#ntp = (await this.opts.ntpState?.()) ?? 'unknown';
    const offset = this.#wall() - this.#mono();
    this.#refOffsetMs ??= offset;
    const aheadMs = offset - this.#refOffsetMs;
    if (aheadMs > this.opts.toleranceMs) this.raise(aheadMs);
    else {
      if (this.#jumpMs !== null) this.clear('the wall clock agrees with the monotonic clock again');
      // Slow drift (NTP slewing) is followed; a clock that went back keeps the old reference.
      if (aheadMs >= -this.opts.toleranceMs) this.#refOffsetMs = offset;
    }
    if (this.#jumpMs !== null)
      return {
        trusted: false,
        reason: `the wall clock jumped ${formatMs(this.#jumpMs)} ahead of the monotonic clock; confirm the time (POST /api/v1/recordings/clock/confirm) to resume deletion`,
      };
    if (this.#ntp === 'unsynchronized') return { trusted: false, reason: 'NTP reports the gateway clock unsynchronised' };
    return { trusted: true };
  }

  /** An operator confirms the current wall clock: it becomes the reference, deletion resumes. */
  confirm(actor: string): { jumpMs: number | null } {
    const jumpMs = this.#jumpMs;
    this.#refOffsetMs = this.#wall() - this.#mono();
    if (jumpMs !== null) this.clear(`confirmed by ${actor}`);
    return { jumpMs };
  }

  private raise(aheadMs: number): void {
    const first = this.#jumpMs === null;
    this.#jumpMs = aheadMs;
    if (!first) return;
    this.opts.logger.error({ aheadMs }, 'retention deletion paused: the wall clock jumped ahead of the monotonic clock');
    this.opts.incidents?.fire({
      cameraId: null,
      kind: CLOCK_JUMP,
      severity: 'critical',
      message: `the gateway clock jumped ${formatMs(aheadMs)} ahead; no footage is deleted until an operator confirms the time`,
      details: { aheadMs },
    });
  }

  private clear(why: string): void {
    this.opts.logger.warn({ jumpMs: this.#jumpMs, why }, 'retention deletion resumed');
    this.#jumpMs = null;
    this.opts.incidents?.resolve(null, CLOCK_JUMP);
  }
}

function formatMs(ms: number): string {
  return ms >= 86_400_000 ? `${(ms / 86_400_000).toFixed(1)} days` : `${Math.round(ms / 1000)} s`;
}
