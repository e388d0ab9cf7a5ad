/**
 * One timer for many periodic checks: every supervised ffmpeg's watchdog runs on the same
 * 100 ms tick instead of a timer each, and the timer runs only while a check is registered.
 */
export class Ticker {
  private readonly checks = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly periodMs: number) {}

  /** Runs `check` every period until the returned function is called. */
  add(check: () => void): () => void {
    this.checks.add(check);
    this.timer ??= setInterval(() => this.tick(), this.periodMs);
    return () => {
      this.checks.delete(check);
      if (this.checks.size === 0 && this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  get size(): number {
    return this.checks.size;
  }

  private tick(): void {
    // A check may remove itself (or another) while the tick runs: iterate over a copy.
    for (const check of [...this.checks]) check();
  }
}
