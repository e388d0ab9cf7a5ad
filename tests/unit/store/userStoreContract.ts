import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiKeyRecord, SessionRecord, UserRecord } from '../../../src/store/index.js';
import { codeOf, type StoreHarness } from './storeContract.js';

const AT = '2026-12-01T08:00:00.000Z';

function user(id: string, username: string, over: Partial<UserRecord> = {}): UserRecord {
  return {
    id,
    username,
    displayName: null,
    unit: null,
    credentialNo: null,
    roles: ['police'],
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    disabled: false,
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
}

function session(id: string, userId: string, refreshSha256: string): SessionRecord {
  return { id, userId, refreshSha256, sourceAddress: '10.0.0.9', createdAt: AT, expiresAt: '2026-12-01T20:00:00.000Z', revokedAt: null };
}

function apiKey(id: string, userId: string, keySha256: string): ApiKeyRecord {
  return { id, userId, name: 'sync', keySha256, roles: ['police'], createdBy: 'admin', createdAt: AT, lastUsedAt: null, revokedAt: null };
}

/** Users, sessions, API keys and signing keys, for every Store implementation. */
export function describeUserStoreContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: users, sessions, API keys`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('stores users, refuses a taken username with USER_EXISTS, and changes only the given fields', async () => {
      const store = await h.fresh();
      await store.users.insert(user('u1', 'alice', { roles: ['police', 'approver'], credentialNo: 'PC-1' }));
      await store.users.insert(user('u2', 'bob', { passwordHash: null }));
      const dup = await store.users.insert(user('u3', 'alice')).catch((e: unknown) => e);
      expect(codeOf(dup)).toBe('USER_EXISTS');
      expect((await store.users.list()).map((u) => u.username)).toEqual(['alice', 'bob']);
      expect(await store.users.byUsername('alice')).toMatchObject({ id: 'u1', roles: ['police', 'approver'], credentialNo: 'PC-1' });
      const changed = await store.users.update('u1', { disabled: true, credentialNo: null }, '2026-12-02T00:00:00.000Z');
      expect(changed).toMatchObject({
        disabled: true,
        credentialNo: null,
        roles: ['police', 'approver'],
        updatedAt: '2026-12-02T00:00:00.000Z',
      });
      expect((await store.users.get('u2'))?.passwordHash).toBeNull();
    });

    it('rotates a refresh token only once, and revokes sessions', async () => {
      const store = await h.fresh();
      await store.users.insert(user('u1', 'alice'));
      await store.sessions.insert(session('s1', 'u1', 'a'.repeat(64)));
      await store.sessions.insert(session('s2', 'u1', 'b'.repeat(64)));
      expect(await store.sessions.rotateRefresh('s1', 'a'.repeat(64), 'c'.repeat(64), '2026-12-01T21:00:00.000Z')).toBe(true);
      // The same old token a second time: refused.
      expect(await store.sessions.rotateRefresh('s1', 'a'.repeat(64), 'd'.repeat(64), '2026-12-01T21:00:00.000Z')).toBe(false);
      expect((await store.sessions.byRefreshDigest('c'.repeat(64)))?.id).toBe('s1');
      expect(await store.sessions.byRefreshDigest('a'.repeat(64))).toBeUndefined();
      expect(await store.sessions.revoke('s1', AT)).toBe(true);
      expect(await store.sessions.revoke('s1', AT)).toBe(false);
      expect(await store.sessions.rotateRefresh('s1', 'c'.repeat(64), 'e'.repeat(64), AT)).toBe(false);
      expect(await store.sessions.revokeAllOf('u1', AT)).toBe(1);
      expect((await store.sessions.get('s2'))?.revokedAt).toBe(AT);
    });

    it('finds API keys by digest, touches them at most once per interval, upserts and revokes', async () => {
      const store = await h.fresh();
      await store.users.insert(user('u1', 'alice'));
      await store.apiKeys.insert(apiKey('k1', 'u1', '1'.repeat(64)));
      expect((await store.apiKeys.byDigest('1'.repeat(64)))?.id).toBe('k1');
      await store.apiKeys.touch('k1', '2026-12-01T09:00:00.000Z', 60_000);
      await store.apiKeys.touch('k1', '2026-12-01T09:00:30.000Z', 60_000);
      expect((await store.apiKeys.get('k1'))?.lastUsedAt).toBe('2026-12-01T09:00:00.000Z');
      await store.apiKeys.touch('k1', '2026-12-01T09:01:30.000Z', 60_000);
      expect((await store.apiKeys.get('k1'))?.lastUsedAt).toBe('2026-12-01T09:01:30.000Z');
      expect(await store.apiKeys.revoke('k1', AT)).toBe(true);
      await store.apiKeys.upsert({ ...apiKey('k1', 'u1', '2'.repeat(64)), roles: ['admin'] });
      expect(await store.apiKeys.get('k1')).toMatchObject({ keySha256: '2'.repeat(64), roles: ['admin'], revokedAt: null });
      await store.apiKeys.upsert(apiKey('k2', 'u1', '3'.repeat(64)));
      expect((await store.apiKeys.list({ userId: 'u1' })).map((k) => k.id).sort()).toEqual(['k1', 'k2']);
    });

    it('keeps signing keys in order and removes them', async () => {
      const store = await h.fresh();
      await store.signingKeys.add({ kid: 'b', sealed: 'v1.x', createdAt: '2026-12-02T00:00:00.000Z' });
      await store.signingKeys.add({ kid: 'a', sealed: 'v1.y', createdAt: '2026-12-01T00:00:00.000Z' });
      expect((await store.signingKeys.list()).map((k) => k.kid)).toEqual(['a', 'b']);
      expect(await store.signingKeys.remove('a')).toBe(true);
      expect((await store.signingKeys.list()).map((k) => k.kid)).toEqual(['b']);
    });
  });
}
