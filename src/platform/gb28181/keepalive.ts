/**
 * Keepalive MESSAGEs (GB/T 28181-2016 §9.6): one every interval; the link is offline after
 * `maxMisses` keepalives in a row without a 200 before the next is due (so a platform that
 * only answers with ICMP over UDP is seen as down within a few intervals). Timers are injected for tests.
 */
import type { TimerHost } from './sip/transaction.js';

/** Keepalives in a row without a 200 that make a link offline, unless told otherwise (GB/T 28181: 3). */
export const KEEPALIVE_MISSES = 3;

export interface KeepaliveDeps {
  intervalMs: number;
  maxMisses?: number;
  timers: TimerHost;
  /** Sends one keepalive; true when the platform answered 200. */
  beat(): Promise<boolean>;
  /** The misses reached the limit; the loop has stopped (re-register, then start again). */
  onOffline(misses: number): void;
  onMiss?(misses: number): void;
}

export class Keepalive {
  misses = 0;
  sent = 0;
  answered = 0;
  lastAnsweredAt: number | null = null;
  private timer: unknown;
  private running = false;
  private generation = 0;

  constructor(private readonly deps: KeepaliveDeps) {}

  /** Starts from zero misses (the counters reset on every registration). */
  start(): void {
    this.stop();
    this.running = true;
    this.misses = 0;
    this.schedule(this.generation);
  }

  stop(): void {
    this.running = false;
    this.generation++;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(gen: number): void {
    this.timer = this.deps.timers.setTimeout(() => {
      if (gen !== this.generation) return;
      this.schedule(gen);
      void this.tick(gen);
    }, this.deps.intervalMs);
  }

  private async tick(gen: number): Promise<void> {
    this.sent++;
    // A keepalive still unanswered when the next is due is a miss: the SIP timeout (32 s over
    // UDP) would let a dead platform look alive for minutes.
    let timer: unknown;
    const late = new Promise<boolean>((resolve) => (timer = this.deps.timers.setTimeout(() => resolve(false), this.deps.intervalMs)));
    let ok: boolean;
    try {
      ok = await Promise.race([this.deps.beat(), late]);
    } catch {
      ok = false;
    }
    this.deps.timers.clearTimeout(timer);
    if (gen !== this.generation || !this.running) return;
    if (ok) {
      this.misses = 0;
      this.answered++;
      this.lastAnsweredAt = Date.now();
      return;
    }
    this.misses++;
    this.deps.onMiss?.(this.misses);
    if (this.misses >= (this.deps.maxMisses ?? KEEPALIVE_MISSES)) {
      const misses = this.misses;
      this.stop();
      this.deps.onOffline(misses);
    }
  }
}
