/** Restart pacing for supervised processes: exponential backoff with jitter and a rate cap. */
export interface BackoffPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Fraction of the delay randomised either way (0.2 → ±20%), so many cameras don't restart in step. */
  jitter: number;
}

/** Delay before restart number `attempt` (1-based). Pure; `random` is injectable for tests. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(base + spread)));
}

/** Sliding-window counter: at most `limit` restarts in any `windowMs`. */
export class RestartRateLimiter {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Records a restart at `now` and tells how long to wait first (0 when under the limit). */
  admit(now: number): number {
    while (this.times.length > 0 && now - (this.times[0] ?? now) >= this.windowMs) this.times.shift();
    if (this.times.length < this.limit) {
      this.times.push(now);
      return 0;
    }
    const oldest = this.times[0] ?? now;
    return oldest + this.windowMs - now;
  }
}
