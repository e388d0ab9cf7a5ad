import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LoginLockout } from '../../../src/access/lockout.js';
import { SqliteStore } from '../../../src/store/index.js';

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

describe('login lockout kept in the store', () => {
  const settings = { userFailures: 3, addressFailures: 5, baseSeconds: 30, maxSeconds: 100 };
  const logger = pino({ level: 'silent' });

  it('a restart (a new lockout on the reopened store) keeps the lock and the count; a success clears them there too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psvgw-lockout-'));
    const path = join(dir, 'psvgw.db');
    const clock = { ms: 1_000_000 };
    try {
      let store = new SqliteStore(path);
      await store.migrate();
      const first = await new LoginLockout(settings, () => clock.ms, { repository: store.lockouts, logger }).load();
      for (let i = 0; i < 3; i++) first.failed('alice', '10.0.0.1');
      expect(first.retryAfterSeconds('alice', '10.0.0.2')).toBe(30);
      await first.flush();
      await store.close();

      store = new SqliteStore(path);
      await store.migrate();
      const second = await new LoginLockout(settings, () => clock.ms, { repository: store.lockouts, logger }).load();
      expect(second.retryAfterSeconds('alice', '10.0.0.2')).toBe(30);
      // The count went on too: the next failure doubles the lock.
      clock.ms += 30_000;
      expect(second.failed('alice', '10.0.0.3')).toBe(60);
      second.succeeded('alice', '10.0.0.3');
      await second.flush();
      expect((await store.lockouts.list()).map((r) => r.key)).toEqual(['addr:10.0.0.1']);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
