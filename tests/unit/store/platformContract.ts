import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlatformRecord } from '../../../src/store/index.js';
import type { StoreHarness } from './storeContract.js';

function platform(id: string, over: Partial<PlatformRecord> = {}): PlatformRecord {
  return {
    id,
    settings: { name: id, serverId: '34020000002000000001', cameraIds: ['44030500001320000001'], note: '市局平台' },
    passwordBox: 'v1.aXY.dGFn.Y3Q',
    state: 'pending',
    pendingChangeId: 'change-1',
    createdBy: '管理员甲',
    createdAt: '2026-05-01T10:00:00.000Z',
    ...over,
  };
}

/** The GB/T 28181 platforms added through the API, for every Store implementation. */
export function describePlatformContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: GB/T 28181 platforms`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('keeps a platform whole, lists oldest first, updates its state and deletes it', async () => {
      const store = await h.fresh();
      const a = platform('city');
      const b = platform('county', { createdAt: '2026-05-01T11:00:00.000Z', pendingChangeId: null, state: 'active' });
      await store.platforms.insert(b);
      await store.platforms.insert(a);
      expect(await store.platforms.get('city')).toEqual(a);
      expect(await store.platforms.get('nope')).toBeUndefined();
      expect((await store.platforms.list()).map((p) => p.id)).toEqual(['city', 'county']);
      await expect(store.platforms.insert(platform('city'))).rejects.toThrow();
      expect(await store.platforms.update('city', { state: 'active' })).toBe(true);
      expect(await store.platforms.get('city')).toEqual({ ...a, state: 'active' });
      expect(await store.platforms.update('nope', { state: 'active' })).toBe(false);
      expect(await store.platforms.delete('city')).toBe(true);
      expect(await store.platforms.delete('city')).toBe(false);
      expect((await store.platforms.list()).map((p) => p.id)).toEqual(['county']);
    });
  });
}
