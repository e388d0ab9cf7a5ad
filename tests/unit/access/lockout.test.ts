import { describe, expect, it } from 'vitest';
import { LoginLockout } from '../../../src/access/lockout.js';

function lockout() {
  const clock = { ms: 1_000_000 };
  const l = new LoginLockout({ userFailures: 3, addressFailures: 5, baseSeconds: 30, maxSeconds: 100 }, () => clock.ms);
  return { l, clock };
}

describe('login lockout', () => {
  it('locks a username after its threshold, doubling each further failure up to the cap', () => {
    const { l, clock } = lockout();
    expect(l.failed('alice', '10.0.0.1')).toBe(0);
    expect(l.failed('alice', '10.0.0.2')).toBe(0);
    expect(l.failed('alice', '10.0.0.3')).toBe(30);
    expect(l.retryAfterSeconds('alice', '10.0.0.9')).toBe(30);
    clock.ms += 30_000;
    expect(l.retryAfterSeconds('alice', '10.0.0.9')).toBe(0);
    expect(l.failed('alice', '10.0.0.4')).toBe(60);
    clock.ms += 60_000;
    expect(l.failed('alice', '10.0.0.5')).toBe(100);
    clock.ms += 100_000;
    expect(l.failed('alice', '10.0.0.6')).toBe(100);
    // Another user from another address is not affected.
    expect(l.retryAfterSeconds('bob', '10.0.0.9')).toBe(0);
  });

  it('locks a source address for every username after its threshold', () => {
    const { l } = lockout();
    for (const user of ['a', 'b', 'c', 'd']) expect(l.failed(user, '10.0.0.1')).toBe(0);
    expect(l.failed('e', '10.0.0.1')).toBe(30);
    expect(l.retryAfterSeconds('anyone', '10.0.0.1')).toBe(30);
    expect(l.retryAfterSeconds('anyone', '10.0.0.2')).toBe(0);
  });

  it('a successful login resets the user and the address', () => {
    const { l, clock } = lockout();
    for (let i = 0; i < 3; i++) l.failed('alice', '10.0.0.1');
    clock.ms += 30_000;
    l.succeeded('alice', '10.0.0.1');
    expect(l.failed('alice', '10.0.0.1')).toBe(0);
  });
});
