import { describe, expect, it } from 'vitest';
import { backoffDelay, RestartRateLimiter } from '../../src/backoff.js';

const policy = { initialMs: 500, factor: 2, maxMs: 30_000, jitter: 0.2 };
const mid = () => 0.5;

describe('backoffDelay', () => {
  it('grows exponentially and is capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffDelay(n, policy, mid))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('spreads by at most the jitter fraction either way, never past the cap', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(1600);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(2400);
    expect(backoffDelay(10, policy, () => 0.999999)).toBe(30_000);
  });
});

describe('RestartRateLimiter', () => {
  it('admits up to the limit in a window, then says how long to wait', () => {
    const limiter = new RestartRateLimiter(3, 60_000);
    expect([0, 10, 20].map((t) => limiter.admit(t))).toEqual([0, 0, 0]);
    expect(limiter.admit(30)).toBe(59_970);
    expect(limiter.admit(60_000)).toBe(0);
  });
});
