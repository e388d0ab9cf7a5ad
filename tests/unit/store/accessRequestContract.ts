import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/index.js';
import type { StoreHarness } from './storeContract.js';

export function accessRequest(id: string, over: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id,
    kind: 'view_recorded',
    cameraIds: ['34020000001320000001', '34020000001320000002'],
    from: '2026-05-01T08:00:00.000Z',
    to: '2026-05-01T09:00:00.000Z',
    purpose: '盗窃案 2026-118',
    destination: 'viewed on site',
    staff: [
      { name: '张伟', unit: '城东派出所', credentialNo: 'GA-101' },
      { name: '李娜', unit: '城东派出所', credentialNo: 'GA-102' },
    ],
    documents: { approvalDocumentNo: '城公（2026）118号' },
    profile: 'hubei',
    state: 'pending',
    filedBy: { userId: 'u-1', username: 'officer' },
    filedAt: '2026-05-01T10:00:00.000Z',
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
    validFrom: null,
    validUntil: null,
    revokedBy: null,
    revokedAt: null,
    revokeReason: null,
    ...over,
  };
}

/** The access request repository, for every Store implementation. */
export function describeAccessRequestContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: access requests`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('keeps a request whole, lists newest first and by state', async () => {
      const store = await h.fresh();
      const a = accessRequest('a');
      const b = accessRequest('b', { filedAt: '2026-05-01T11:00:00.000Z', state: 'approved', validFrom: '2026-05-01T11:05:00.000Z' });
      await store.accessRequests.insert(a);
      await store.accessRequests.insert(b);
      expect(await store.accessRequests.get('a')).toEqual(a);
      expect(await store.accessRequests.get('nope')).toBeUndefined();
      expect((await store.accessRequests.list()).map((r) => r.id)).toEqual(['b', 'a']);
      expect((await store.accessRequests.list({ state: 'approved' })).map((r) => r.id)).toEqual(['b']);
    });

    it('changes state only from the expected one (two deciders cannot both win)', async () => {
      const store = await h.fresh();
      await store.accessRequests.insert(accessRequest('a'));
      const approve = { state: 'approved' as const, decidedBy: 'chief', decisionReason: 'ok', validUntil: '2026-05-02T10:00:00.000Z' };
      expect(await store.accessRequests.transition('a', 'pending', approve)).toBe(true);
      expect(await store.accessRequests.transition('a', 'pending', { state: 'rejected', decidedBy: 'deputy' })).toBe(false);
      expect(await store.accessRequests.get('a')).toMatchObject({ state: 'approved', decidedBy: 'chief', decisionReason: 'ok' });
    });
  });
}
