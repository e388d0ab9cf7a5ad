/**
 * Lockout with backoff after repeated failed logins, counted per username and per source
 * address: after `threshold` failures a key is locked for `baseSeconds`, and each further
 * failure doubles the lock up to `maxSeconds`. A successful login resets both counters.
 * Attempts made while locked are refused without looking at the password and do not
 * count. Kept in memory: a restart forgets the counters, and the audit log keeps every
 * attempt.
 */
export interface LockoutSettings {
  userFailures: number;
  addressFailures: number;
  baseSeconds: number;
  maxSeconds: number;
}

interface Counter {
  failures: number;
  lockedUntilMs: number;
}

/** Counters not touched for this long are dropped, so the table cannot grow without bound. */
const FORGET_AFTER_MS = 24 * 3600_000;

export class LoginLockout {
  readonly #counters = new Map<string, Counter & { touchedMs: number }>();

  constructor(
    private readonly settings: LockoutSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until a login of that user from that address may be tried again; 0 when it may now. */
  retryAfterSeconds(username: string, address: string): number {
    const now = this.now();
    const until = Math.max(this.#lockedUntil(userKey(username)), this.#lockedUntil(addressKey(address)));
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  /** Counts a failure; returns the seconds the login is now locked for (0: not locked). */
  failed(username: string, address: string): number {
    this.#count(userKey(username), this.settings.userFailures);
    this.#count(addressKey(address), this.settings.addressFailures);
    this.#forgetOld();
    return this.retryAfterSeconds(username, address);
  }

  succeeded(username: string, address: string): void {
    this.#counters.delete(userKey(username));
    this.#counters.delete(addressKey(address));
  }

  #lockedUntil(key: string): number {
    return this.#counters.get(key)?.lockedUntilMs ?? 0;
  }

  #count(key: string, threshold: number): void {
    const now = this.now();
    const c = this.#counters.get(key) ?? { failures: 0, lockedUntilMs: 0, touchedMs: now };
    c.failures += 1;
    c.touchedMs = now;
    if (c.failures >= threshold) {
      const seconds = Math.min(this.settings.maxSeconds, this.settings.baseSeconds * 2 ** Math.min(c.failures - threshold, 30));
      c.lockedUntilMs = now + seconds * 1000;
    }
    this.#counters.set(key, c);
  }

  #forgetOld(): void {
    const cutoff = this.now() - FORGET_AFTER_MS;
    for (const [key, c] of this.#counters) {
      if (c.touchedMs < cutoff && c.lockedUntilMs < this.now()) this.#counters.delete(key);
    }
  }
}

// Usernames are compared as typed (case-sensitive), the same way the users table compares them.
const userKey = (username: string) => `user:${username}`;
const addressKey = (address: string) => `addr:${address}`;
