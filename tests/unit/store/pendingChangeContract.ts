import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PendingChange } from '../../../src/domain/index.js';
import type { StoreHarness } from './storeContract.js';

function pendingChange(id: string, over: Partial<PendingChange> = {}): PendingChange {
  return {
    id,
    kind: 'camera.masks',
    subject: '34020000001320000001',
    summary: 'camera 34020000001320000001: masks 1 → 0',
    current: [{ shape: 'rect', x: 0.1, y: 0.1, w: 0.2, h: 0.2, mode: 'fill' }],
    proposed: [],
    proposedBy: { userId: 'u-1', username: '管理员甲' },
    proposedAt: '2026-05-01T10:00:00.000Z',
    expiresAt: '2026-05-08T10:00:00.000Z',
    state: 'pending',
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
    ...over,
  };
}

/** The pending change repository (four eyes), for every Store implementation. */
export function describePendingChangeContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: pending changes`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('keeps a change whole (JSON values included), lists newest first and by state', async () => {
      const store = await h.fresh();
      const a = pendingChange('a');
      const b = pendingChange('b', {
        kind: 'config.retention',
        subject: 'default',
        current: 30,
        proposed: 15,
        proposedAt: '2026-05-01T11:00:00.000Z',
      });
      await store.pendingChanges.insert(a);
      await store.pendingChanges.insert(b);
      expect(await store.pendingChanges.get('a')).toEqual(a);
      expect(await store.pendingChanges.get('nope')).toBeUndefined();
      expect((await store.pendingChanges.list()).map((c) => c.id)).toEqual(['b', 'a']);
      expect(await store.pendingChanges.transition('b', 'pending', { state: 'withdrawn', decidedBy: '管理员甲' })).toBe(true);
      expect((await store.pendingChanges.list({ state: 'pending' })).map((c) => c.id)).toEqual(['a']);
    });

    it('is decided only from the expected state (two deciders cannot both win)', async () => {
      const store = await h.fresh();
      await store.pendingChanges.insert(pendingChange('a'));
      const approve = { state: 'approved' as const, decidedBy: 'admin-b', decidedAt: '2026-05-01T12:00:00.000Z', decisionReason: 'ok' };
      expect(await store.pendingChanges.transition('a', 'pending', approve)).toBe(true);
      expect(await store.pendingChanges.transition('a', 'pending', { state: 'rejected', decidedBy: 'admin-c' })).toBe(false);
      expect(await store.pendingChanges.get('a')).toMatchObject(approve);
    });
  });
}
