import { PROGRESS_PERIOD_SECONDS } from './ingestArgs.js';

/** How long a run streams before its frame interval counts as known (StallJudgeOptions.learnMs's default). */
export const STALL_LEARN_MS = 5000;

export interface StallJudgeOptions {
  /** The longest wait for a frame (`ingest.stallSeconds`): never judged stalled sooner than the floor, never later than this. */
  capMs: number;
  /** The shortest wait: several progress reports, so one late report is no stall. Default 8 progress periods (2 s). */
  floorMs?: number;
  /** A stall is this many times the longest recent wait between frames. Default 4. */
  factor?: number;
  /** How far back "recent" goes. Default 60 s. */
  windowMs?: number;
  /** Live for less than this, the interval is not known yet and the cap applies. Default 5 s. */
  learnMs?: number;
}

/**
 * Judges a stall by the stream's own frame interval: a 25 fps camera that stops is seen
 * after about two seconds, a 1 fps camera or one that sends in bursts waits up to the
 * configured cap. The interval is the wait between advances of ffmpeg's frame counter
 * (so at most the progress period for a fast camera), kept as a sliding maximum over the
 * window: memory stays bounded however long the stream runs. Times are monotonic ms.
 */
export class StallJudge {
  private readonly floorMs: number;
  private readonly factor: number;
  private readonly windowMs: number;
  private readonly learnMs: number;
  /** Waits between advances, with the time each ended; decreasing, so the first is the window's longest. */
  private gaps: Array<{ at: number; gap: number }> = [];
  private first: number | null = null;
  private last: number | null = null;

  constructor(private readonly opts: StallJudgeOptions) {
    this.floorMs = opts.floorMs ?? 8 * PROGRESS_PERIOD_SECONDS * 1000;
    this.factor = opts.factor ?? 4;
    this.windowMs = opts.windowMs ?? 60_000;
    this.learnMs = opts.learnMs ?? STALL_LEARN_MS;
  }

  /** A new run: what the last one learnt says nothing about the next connection. */
  reset(): void {
    this.gaps = [];
    this.first = null;
    this.last = null;
  }

  /** The frame counter advanced at `now`. */
  advance(now: number): void {
    if (this.last !== null) {
      const gap = now - this.last;
      while ((this.gaps.at(-1)?.gap ?? Infinity) <= gap) this.gaps.pop();
      this.gaps.push({ at: now, gap });
    }
    this.first ??= now;
    this.last = now;
  }

  /** Ms without an advance after which the stream counts as stalled, at `now`. */
  thresholdMs(now: number): number {
    const cap = this.opts.capMs;
    if (this.first === null || now - this.first < this.learnMs) return cap;
    while (this.gaps.length > 1 && now - (this.gaps[0]?.at ?? now) > this.windowMs) this.gaps.shift();
    const longest = this.gaps[0]?.gap ?? 0;
    return Math.min(cap, Math.max(this.floorMs, this.factor * longest));
  }

  /** Whether the stream has gone without a frame for longer than its threshold at `now`. */
  stalled(now: number): boolean {
    return this.last !== null && now - this.last > this.thresholdMs(now);
  }
}
