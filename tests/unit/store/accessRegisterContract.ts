import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewRegisterEntry } from '../../../src/domain/index.js';
import type { StoreHarness } from './storeContract.js';

export function registerEntry(over: Partial<NewRegisterEntry> = {}): NewRegisterEntry {
  return {
    method: 'view_recorded',
    tier: 'raw',
    recorder: 'approver1',
    retriever: {
      username: 'officer',
      displayName: '张伟',
      unit: '城东派出所',
      credentialNo: 'GA-101',
      staff: [
        { name: '张伟', unit: '城东派出所', credentialNo: 'GA-101' },
        { name: '李娜', unit: '城东派出所', credentialNo: 'GA-102' },
      ],
    },
    startedAt: '2026-05-01T10:00:00.000Z',
    endedAt: '2026-05-01T10:05:00.000Z',
    purpose: '盗窃案 2026-118',
    destination: 'viewed on site',
    cameraIds: ['34020000001320000001'],
    footageFrom: '2026-05-01T08:00:00.000Z',
    footageTo: '2026-05-01T09:00:00.000Z',
    bytes: 1_234_567,
    requestId: 'req-1',
    exemption: null,
    protocol: 'hls',
    clientAddress: '10.0.0.7',
    ...over,
  };
}

/** The access register repository, for every Store implementation. */
export function describeAccessRegisterContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: access register`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('keeps a row whole with an ascending id, lists oldest first', async () => {
      const store = await h.fresh();
      const later = registerEntry({ startedAt: '2026-05-01T11:00:00.000Z', endedAt: '2026-05-01T11:01:00.000Z' });
      const platform = registerEntry({
        method: 'platform_play',
        tier: 'shared',
        recorder: 'psv-gateway',
        retriever: { username: null, displayName: null, unit: null, credentialNo: null, staff: [] },
        purpose: null,
        destination: 'province-platform',
        requestId: null,
        protocol: 'rtmp',
        clientAddress: null,
      });
      const a = await store.accessRegister.insert(later);
      const b = await store.accessRegister.insert(platform);
      expect(b.id).toBeGreaterThan(a.id);
      expect(a).toEqual({ id: a.id, ...later });
      expect(await store.accessRegister.list()).toEqual([b, a]);
    });

    it('lists the rows overlapping a period and those of one camera', async () => {
      const store = await h.fresh();
      const early = await store.accessRegister.insert(
        registerEntry({ startedAt: '2026-05-01T08:00:00.000Z', endedAt: '2026-05-01T08:30:00.000Z', cameraIds: ['cam_1'] }),
      );
      const spanning = await store.accessRegister.insert(
        registerEntry({ startedAt: '2026-05-01T09:50:00.000Z', endedAt: '2026-05-01T10:10:00.000Z', cameraIds: ['cam_1', 'cam-2'] }),
      );
      const late = await store.accessRegister.insert(
        registerEntry({ startedAt: '2026-05-01T12:00:00.000Z', endedAt: '2026-05-01T12:01:00.000Z', cameraIds: ['camx1'] }),
      );
      const ids = async (q: Parameters<typeof store.accessRegister.list>[0]) => (await store.accessRegister.list(q)).map((e) => e.id);
      expect(await ids({ from: '2026-05-01T10:00:00.000Z', to: '2026-05-01T11:00:00.000Z' })).toEqual([spanning.id]);
      expect(await ids({ to: '2026-05-01T09:50:00.000Z' })).toEqual([early.id, spanning.id]);
      // LIKE wildcards in an id match only themselves: cam_1 is not camx1.
      expect(await ids({ cameraId: 'cam_1' })).toEqual([early.id, spanning.id]);
      expect(await ids({ cameraId: 'cam-2' })).toEqual([spanning.id]);
      expect(await ids({ limit: 1 })).toEqual([early.id]);
      expect(late.id).toBeGreaterThan(spanning.id);
    });

    it('offers no way to change or remove a row', async () => {
      const store = await h.fresh();
      const methodsOf = (o: object) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((m) => m !== 'constructor');
      expect(methodsOf(store.accessRegister).sort()).toEqual(['insert', 'list']);
      await store.transaction(async (tx) => {
        expect(methodsOf(tx.accessRegister).sort()).toEqual(['insert', 'list']);
      });
    });
  });
}
