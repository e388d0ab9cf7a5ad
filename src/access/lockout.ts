/**
 * Lockout with backoff after repeated failed logins, counted per username and per source
 * address: after `threshold` failures a key is locked for `baseSeconds`, and each further
 * failure doubles the lock up to `maxSeconds`. A successful login resets both counters.
 * Attempts made while locked are refused without looking at the password and do not
 * count. Kept in memory for the synchronous checks and, given a repository, written
 * through to the store (and loaded at start), so a restart does not lift a lock or reset
 * a count. The audit log keeps every attempt either way.
 */
import type { Logger } from '../log.js';
import type { LockoutRepository } from '../store/index.js';

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
  /** Writes to the store, one after another so the last state of a key is the one kept. */
  #writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly settings: LockoutSettings,
    private readonly now: () => number = Date.now,
    private readonly saved?: { repository: LockoutRepository; logger: Logger },
  ) {}

  /** Loads the counters a previous run left in the store. */
  async load(): Promise<this> {
    for (const r of (await this.saved?.repository.list()) ?? []) {
      this.#counters.set(r.key, { failures: r.failures, lockedUntilMs: r.lockedUntilMs, touchedMs: r.touchedMs });
    }
    this.#forgetOld();
    return this;
  }

  /** Resolves once every change so far is in the store. */
  flush(): Promise<void> {
    return this.#writes;
  }

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
    for (const key of [userKey(username), addressKey(address)]) {
      if (this.#counters.delete(key)) this.#save(key);
    }
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
    this.#save(key);
  }

  /** Writes the key's current counter (or its absence) behind the answer; a failed write is logged, the memory stays right. */
  #save(key: string): void {
    const saved = this.saved;
    if (saved === undefined) return;
    this.#writes = this.#writes.then(async () => {
      const c = this.#counters.get(key);
      try {
        if (c === undefined) await saved.repository.remove(key);
        else await saved.repository.put({ key, failures: c.failures, lockedUntilMs: c.lockedUntilMs, touchedMs: c.touchedMs });
      } catch (err) {
        saved.logger.warn({ err }, 'could not store a login lockout counter; it holds until the gateway restarts');
      }
    });
  }

  #forgetOld(): void {
    const cutoff = this.now() - FORGET_AFTER_MS;
    for (const [key, c] of this.#counters) {
      if (c.touchedMs < cutoff && c.lockedUntilMs < this.now()) {
        this.#counters.delete(key);
        this.#save(key);
      }
    }
  }
}

// Usernames are compared as typed (case-sensitive), the same way the users table compares them.
const userKey = (username: string) => `user:${username}`;
const addressKey = (address: string) => `addr:${address}`;
