import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, CameraRecord, ChainEntry, PublicRequest } from '../../../src/domain/index.js';
import { GatewayError } from '../../../src/errors.js';
import { LATEST_VERSION, MIGRATIONS, type Migration } from '../../../src/store/migrations.js';
import type { Store, StoreTx } from '../../../src/store/store.js';

export type TestStore = Store & { appliedMigrations(): Promise<number[]> };

/** How the contract gets stores of one implementation. */
export interface StoreHarness {
  /** A store on a database of its own; migrated unless `migrate` is false. */
  fresh(opts?: { migrations?: readonly Migration[]; migrate?: boolean }): Promise<TestStore>;
  /** Another store on the same database as `store`, not yet migrated. */
  sibling(store: TestStore): TestStore;
  /** Closes and drops everything `fresh` and `sibling` made. */
  cleanup(): Promise<void>;
}

export function camera(serial: number, over: Partial<CameraRecord> = {}): CameraRecord {
  return {
    id: `34020000001320${String(serial).padStart(6, '0')}`,
    name: `Gate ${serial}`,
    rtspUrl: `rtsp://10.0.${Math.floor(serial / 250)}.${serial % 250}/ch1`,
    credentialsEnc: null,
    siteType: 'road',
    address: null,
    lat: 31.820612345678,
    lon: 117.227212345678,
    ownerUnit: null,
    governmentFunded: true,
    signageInstalled: false,
    commissionedAt: '2024-03-01',
    removedAt: null,
    enabled: true,
    pushTargets: ['rtmp://platform.example/live/a'],
    masks: [],
    masksVersion: 0,
    sharedEncoder: {},
    desensitize: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

function audit(cameraId: string): AuditEntry {
  return { at: '2025-01-01T00:00:00.000Z', actor: 'admin', action: 'camera.create', cameraId, outcome: 'ok', details: {} };
}

export function codeOf(err: unknown): string | undefined {
  return err instanceof GatewayError ? err.code : undefined;
}

/** The behaviour every Store implementation shares. */
export function describeStoreContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: store contract`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('keeps recording chains, checkpoints, gaps and evidence holds', async () => {
      const store = await h.fresh();
      const cam = camera(1).id;
      const t = Date.parse('2026-12-01T00:00:00Z');
      const entry = (seq: number, over: Partial<ChainEntry> = {}): ChainEntry => ({
        cameraId: cam,
        seq,
        kind: 'segment',
        path: `${cam}/2026-12-01/${seq}.ts`,
        startMs: t + seq * 60_000,
        endMs: t + (seq + 1) * 60_000,
        bytes: 5_000_000_000 + seq,
        sha256: 'a'.repeat(64),
        partial: seq === 2,
        detail: { n: seq },
        prevHash: String(seq - 1).repeat(64),
        entryHash: String(seq).repeat(64),
        at: '2026-12-01T00:00:00.000Z',
        deletedAt: null,
        ...over,
      });
      for (const seq of [1, 2, 3]) await store.recordings.append(entry(seq));
      await expect(store.recordings.append(entry(3))).rejects.toThrow();
      expect(await store.recordings.head(cam)).toEqual(entry(3));
      expect(await store.recordings.entry(cam, 2)).toEqual(entry(2));
      await store.recordings.append(entry(4, { kind: 'deletion' }));
      expect(await store.recordings.lastSegment(cam)).toEqual(entry(3));
      expect(await store.recordings.entries({ cameraId: cam, kind: 'segment', fromMs: t + 2 * 60_000 + 1, toMs: t + 3 * 60_000 })).toEqual([
        entry(2),
        entry(3),
      ]);
      await store.recordings.markDeleted(cam, 1, '2027-01-01T00:00:00.000Z');
      expect((await store.recordings.entry(cam, 1))?.deletedAt).toBe('2027-01-01T00:00:00.000Z');
      expect(await store.recordings.storedBytes()).toBe(2 * 5_000_000_000 + 5);
      expect(await store.recordings.cameraIds()).toEqual([cam]);

      const cp = {
        cameraId: cam,
        seq: 3,
        headHash: entry(3).entryHash,
        signedAt: '2026-12-01T00:05:00.000Z',
        version: 2 as const,
        prevHash: '0'.repeat(64),
        keyFingerprint: 'SHA256:abc',
        signature: 'c2ln',
      };
      await store.recordings.addCheckpoint(cp);
      expect(await store.recordings.checkpoints(cam)).toEqual([cp]);
      const rotation = { oldPublicKey: 'b2xk', newPublicKey: 'cHVi', at: '2026-12-02T00:00:00.000Z', signature: 'c2ln' };
      await store.recordings.addKeyRotation(rotation);
      expect(await store.recordings.keyRotations()).toEqual([rotation]);

      // The nodes' keys (migration 27); entries and checkpoints naming their writer read back with it.
      const key = { fingerprint: 'SHA256:k1', node: 'gw-1', publicKeyPem: 'PEM', createdAt: '2026-12-02T00:00:00.000Z', retiredAt: null };
      await store.recordings.registerKey(key);
      await expect(store.recordings.registerKey({ ...key, node: 'gw-2' })).rejects.toThrow();
      expect(await store.recordings.retireKey('SHA256:k1', '2026-12-03T00:00:00.000Z')).toBe(true);
      expect(await store.recordings.retireKey('SHA256:k1', '2026-12-04T00:00:00.000Z')).toBe(false);
      await store.recordings.renameKeyNode('SHA256:k1', 'gw-9');
      expect(await store.recordings.signingKeys()).toEqual([{ ...key, node: 'gw-9', retiredAt: '2026-12-03T00:00:00.000Z' }]);
      const named = { ...entry(5), node: 'gw-9', keyFingerprint: 'SHA256:k1' };
      await store.recordings.append(named);
      expect(await store.recordings.entry(cam, 5)).toEqual(named);
      const namedCp = { ...cp, seq: 5, node: 'gw-9' };
      await store.recordings.addCheckpoint(namedCp);
      expect((await store.recordings.checkpoints(cam)).at(-1)).toEqual(namedCp);

      await store.recordings.openGap(cam, t, 'stalled');
      expect(await store.recordings.gaps(cam, 0, t + 1)).toMatchObject([{ startMs: t, endMs: null, cause: 'stalled' }]);
      await store.recordings.closeGap(cam, t + 5000);
      expect(await store.recordings.gaps(cam, t + 6000, t + 7000)).toEqual([]);

      const hold = await store.recordings.createHold({
        cameraIds: [cam],
        startMs: t,
        endMs: t + 60_000,
        reason: 'case 1',
        createdBy: 'admin',
        createdAt: '2026-12-01T01:00:00.000Z',
      });
      expect(hold).toMatchObject({ cameraIds: [cam], startMs: t, liftedAt: null });
      const lifted = await store.recordings.liftHold(hold.id, 'admin', '2026-12-02T00:00:00.000Z', 'closed');
      expect(lifted).toMatchObject({ liftedBy: 'admin', liftReason: 'closed' });
      expect(await store.recordings.holds()).toEqual([lifted]);
    });

    it('inserts, reads, replaces, lists and removes cameras', async () => {
      const store = await h.fresh();
      const a = camera(2, { address: '合肥市蜀山区', credentialsEnc: 'v1.a.b.c', enabled: false, ownerUnit: '某单位' });
      const b = camera(1, { lat: null, lon: null, pushTargets: [] });
      await store.cameras.insert(a);
      await store.cameras.insert(b);
      expect(await store.cameras.get(a.id)).toEqual(a);
      expect(await store.cameras.get(b.id)).toEqual(b);
      expect(await store.cameras.get('34020000001329999999')).toBeUndefined();
      expect((await store.cameras.list()).map((c) => c.id)).toEqual([b.id, a.id]);
      expect(await store.cameras.count()).toBe(2);

      const changed = {
        ...a,
        name: 'renamed',
        lat: null,
        pushTargets: [],
        governmentFunded: false,
        removedAt: '2025-02-02',
        masks: [{ shape: 'rect' as const, x: 0.1, y: 0.2, w: 0.3, h: 0.25, mode: 'mosaic' as const }],
        masksVersion: 1,
        sharedEncoder: { preset: 'faster', maxBitrateKbps: 800, gopSeconds: 2, maxHeight: 480 },
        updatedAt: '2025-02-02T00:00:00.000Z',
      };
      await store.cameras.replace(changed);
      expect(await store.cameras.get(a.id)).toEqual(changed);

      expect(await store.cameras.remove(a.id)).toBe(true);
      expect(await store.cameras.remove(a.id)).toBe(false);
      expect(await store.cameras.count()).toBe(1);
    });

    it('refuses a duplicate id with CAMERA_EXISTS and a missing one with CAMERA_NOT_FOUND', async () => {
      const store = await h.fresh();
      await store.cameras.insert(camera(1));
      await expect(store.cameras.insert(camera(1, { name: 'other' }))).rejects.toSatisfy((e) => codeOf(e) === 'CAMERA_EXISTS');
      expect((await store.cameras.get(camera(1).id))?.name).toBe('Gate 1');
      await expect(store.cameras.replace(camera(2))).rejects.toSatisfy((e) => codeOf(e) === 'CAMERA_NOT_FOUND');
      expect(await store.cameras.count()).toBe(1);
    });

    it('pages the camera list by id', async () => {
      const store = await h.fresh();
      for (const n of [5, 3, 1, 4, 2]) await store.cameras.insert(camera(n));
      const serials = async (q: { limit?: number; offset?: number }) => (await store.cameras.list(q)).map((c) => Number(c.id.slice(14)));
      expect(await serials({ limit: 2 })).toEqual([1, 2]);
      expect(await serials({ limit: 2, offset: 2 })).toEqual([3, 4]);
      expect(await serials({ offset: 3 })).toEqual([4, 5]);
      expect(await serials({ limit: 0 })).toEqual([]);
      await expect(store.cameras.list({ limit: -1 })).rejects.toSatisfy((e) => codeOf(e) === 'VALIDATION_FAILED');
      await expect(store.cameras.list({ offset: 1.5 })).rejects.toSatisfy((e) => codeOf(e) === 'VALIDATION_FAILED');
    });

    it('finds the highest serial under a 14-digit prefix', async () => {
      const store = await h.fresh();
      expect(await store.cameras.maxSerial('34020000001320')).toBe(0);
      await store.cameras.insert(camera(7));
      await store.cameras.insert(camera(41));
      await store.cameras.insert(camera(3));
      await store.cameras.insert(camera(900, { id: '34020000001310000900' }));
      await store.cameras.insert(camera(901, { id: '34020000001321999999' }));
      expect(await store.cameras.maxSerial('34020000001320')).toBe(41);
      expect(await store.cameras.maxSerial('34020000001310')).toBe(900);
      expect(await store.cameras.maxSerial('34020000001321')).toBe(999_999);
      expect(await store.cameras.maxSerial('11010000001320')).toBe(0);
      await expect(store.cameras.maxSerial('3402%')).rejects.toSatisfy((e) => codeOf(e) === 'VALIDATION_FAILED');
    });

    it('appends and filters audit entries, newest first', async () => {
      const store = await h.fresh();
      const at = '2025-01-01T00:00:00.000Z';
      await store.audit.append({
        at,
        actor: 'admin',
        action: 'camera.create',
        cameraId: 'A',
        outcome: 'ok',
        details: { n: 1 },
      });
      await store.audit.append({
        at,
        actor: 'admin',
        action: 'camera.refused',
        cameraId: null,
        outcome: 'refused',
        details: { citations: ['第八条'] },
      });
      await store.audit.append({
        at,
        actor: 'bob',
        action: 'camera.update',
        cameraId: 'A',
        outcome: 'ok',
        details: {},
      });
      const all = await store.audit.list();
      expect(all.map((e) => e.action)).toEqual(['camera.update', 'camera.refused', 'camera.create']);
      expect(all[1]).toMatchObject({ cameraId: null, outcome: 'refused', details: { citations: ['第八条'] } });
      expect(typeof all[0]?.id).toBe('number');
      expect((await store.audit.list({ cameraId: 'A' })).map((e) => e.action)).toEqual(['camera.update', 'camera.create']);
      expect((await store.audit.list({ action: 'camera.create' }))[0]?.details).toEqual({ n: 1 });
      expect(await store.audit.list({ cameraId: 'A', limit: 1 })).toHaveLength(1);
    });

    it('stores settings with upsert', async () => {
      const store = await h.fresh();
      expect(await store.settings.get('k')).toBeUndefined();
      await store.settings.set('k', 'one');
      await store.settings.set('k', 'two');
      expect(await store.settings.get('k')).toBe('two');
    });

    it('keeps public requests: lists by filing time, changes state only from the expected one', async () => {
      const store = await h.fresh();
      const request = (id: string, filedAt: string): PublicRequest => ({
        id,
        category: 'missing_person',
        applicant: { name: '王芳', contact: '13800000000', relationship: '女儿', idDocument: { type: 'resident_id', number: 'X1234' } },
        reason: 'father missing',
        cameraIds: ['A', 'B'],
        from: '2026-05-01T00:00:00.000Z',
        to: '2026-05-01T02:00:00.000Z',
        profile: 'zhuzhou',
        state: 'filed',
        filedBy: { userId: 'u1', username: 'desk' },
        filedAt,
        decision: null,
        decidedBy: null,
        decidedAt: null,
        decisionReason: null,
        accessRequestId: null,
        result: null,
        resultNotes: null,
        resultBy: null,
        resultAt: null,
      });
      await store.publicRequests.insert(request('p1', '2026-05-01T03:00:00.000Z'));
      await store.publicRequests.insert(request('p2', '2026-05-02T03:00:00.000Z'));
      expect(await store.publicRequests.get('p1')).toEqual(request('p1', '2026-05-01T03:00:00.000Z'));
      expect((await store.publicRequests.list()).map((r) => r.id)).toEqual(['p2', 'p1']);
      expect((await store.publicRequests.list({ from: '2026-05-02T00:00:00.000Z' })).map((r) => r.id)).toEqual(['p2']);
      const decided = {
        state: 'decided',
        decision: 'release',
        decidedBy: 'officer',
        decidedAt: '2026-05-01T04:00:00.000Z',
        accessRequestId: 'ar',
      } as const;
      expect(await store.publicRequests.transition('p1', 'filed', decided)).toBe(true);
      expect(await store.publicRequests.transition('p1', 'filed', { ...decided, decision: 'refuse' })).toBe(false);
      expect(await store.publicRequests.get('p1')).toMatchObject({
        state: 'decided',
        decision: 'release',
        accessRequestId: 'ar',
        result: null,
      });
    });

    it("keeps each user's saved walls by name, replacing one saved again", async () => {
      const store = await h.fresh();
      const wall = (userId: string, name: string, layout: number, at: string) => ({
        userId,
        name,
        layout,
        tiles: Array.from({ length: layout }, (_, i) => (i === 0 ? 'cam-1' : null)),
        updatedAt: at,
      });
      await store.walls.put(wall('u1', 'default', 4, '2026-01-01T00:00:00.000Z'));
      await store.walls.put(wall('u1', 'night', 1, '2026-01-01T00:00:00.000Z'));
      await store.walls.put(wall('u2', 'default', 9, '2026-01-01T00:00:00.000Z'));
      await store.walls.put(wall('u1', 'default', 6, '2026-01-02T00:00:00.000Z'));
      expect(await store.walls.list('u1')).toEqual([
        wall('u1', 'default', 6, '2026-01-02T00:00:00.000Z'),
        wall('u1', 'night', 1, '2026-01-01T00:00:00.000Z'),
      ]);
      expect(await store.walls.remove('u1', 'night')).toBe(true);
      expect(await store.walls.remove('u1', 'night')).toBe(false);
      expect((await store.walls.list('u2')).map((w) => w.layout)).toEqual([9]);
    });

    it('keeps login lockout counters with upsert', async () => {
      const store = await h.fresh();
      await store.lockouts.put({ key: 'user:alice', failures: 3, lockedUntilMs: 1_800_000_030_000, touchedMs: 1_800_000_000_000 });
      await store.lockouts.put({ key: 'user:alice', failures: 4, lockedUntilMs: 1_800_000_060_000, touchedMs: 1_800_000_001_000 });
      await store.lockouts.put({ key: 'addr:10.0.0.1', failures: 1, lockedUntilMs: 0, touchedMs: 1_800_000_000_000 });
      expect(await store.lockouts.list()).toEqual([
        { key: 'addr:10.0.0.1', failures: 1, lockedUntilMs: 0, touchedMs: 1_800_000_000_000 },
        { key: 'user:alice', failures: 4, lockedUntilMs: 1_800_000_060_000, touchedMs: 1_800_000_001_000 },
      ]);
      await store.lockouts.remove('user:alice');
      expect((await store.lockouts.list()).map((r) => r.key)).toEqual(['addr:10.0.0.1']);
    });

    it('applies migrations once, and again safely after reopening', async () => {
      const first = await h.fresh();
      await first.cameras.insert(camera(1));
      await first.migrate();
      expect(await first.appliedMigrations()).toEqual(MIGRATIONS.map((m) => m.version));
      await first.close();
      await first.close();

      const second = h.sibling(first);
      await second.migrate();
      await second.migrate();
      expect(await second.appliedMigrations()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await second.cameras.count()).toBe(1);
    });

    it('rolls back a failing migration and records nothing for it', async () => {
      const broken: Migration[] = [
        ...MIGRATIONS,
        {
          version: LATEST_VERSION + 1,
          name: 'half done',
          sql: 'CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;',
        },
      ];
      const store = await h.fresh({ migrations: broken, migrate: false });
      await expect(store.migrate()).rejects.toSatisfy((e) => codeOf(e) === 'CONFIG_INVALID');
      expect(await store.appliedMigrations()).toEqual(MIGRATIONS.map((m) => m.version));
    });

    it('refuses a database migrated by a newer build', async () => {
      const newer = await h.fresh({
        migrations: [...MIGRATIONS, { version: LATEST_VERSION + 1, name: 'future', sql: 'CREATE TABLE future (x INTEGER)' }],
      });
      const old = h.sibling(newer);
      await expect(old.migrate()).rejects.toThrow(/newer than this build/);
    });

    it('commits every write of a transaction together', async () => {
      const store = await h.fresh();
      const result = await store.transaction(async (tx) => {
        await tx.cameras.insert(camera(1));
        await tx.audit.append(audit(camera(1).id));
        expect(await tx.cameras.count()).toBe(1);
        return 'done';
      });
      expect(result).toBe('done');
      expect((await store.cameras.get(camera(1).id))?.name).toBe('Gate 1');
      expect(await store.audit.list({ cameraId: camera(1).id })).toHaveLength(1);
    });

    it('rolls back every write of a transaction whose work throws, and passes the error on', async () => {
      const store = await h.fresh();
      const boom = new Error('boom in the middle');
      await expect(
        store.transaction(async (tx) => {
          await tx.cameras.insert(camera(1));
          await tx.audit.append(audit(camera(1).id));
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.cameras.count()).toBe(0);
      expect(await store.audit.list()).toEqual([]);
      // A failed statement (duplicate id) rolls back what came before it in the transaction too.
      await store.cameras.insert(camera(2));
      await expect(
        store.transaction(async (tx) => {
          await tx.audit.append(audit(camera(2).id));
          await tx.cameras.insert(camera(2));
        }),
      ).rejects.toSatisfy((e) => codeOf(e) === 'CAMERA_EXISTS');
      expect(await store.audit.list()).toEqual([]);
      // The store is usable afterwards.
      await store.transaction(async (tx) => tx.audit.append(audit(camera(2).id)));
      expect(await store.audit.list()).toHaveLength(1);
    });

    it('keeps statements made outside a transaction out of it, while it is open', async () => {
      const store = await h.fresh();
      let resume: () => void = () => undefined;
      const held = new Promise<void>((r) => (resume = r));
      let inside: () => void = () => undefined;
      const entered = new Promise<void>((r) => (inside = r));
      const tx = store.transaction(async (t) => {
        await t.cameras.insert(camera(1));
        inside();
        await held;
        await t.audit.append(audit(camera(1).id));
        throw new Error('roll it back');
      });
      await entered;
      // Issued while the transaction is open; neither may be rolled back with it.
      const outsideInsert = store.cameras.insert(camera(2));
      const outsideAudit = store.audit.append(audit(camera(2).id));
      const outsideRead = store.cameras.get(camera(1).id);
      resume();
      await expect(tx).rejects.toThrow('roll it back');
      await outsideInsert;
      await outsideAudit;
      // Whenever it ran, the outside read never saw the uncommitted camera.
      expect(await outsideRead).toBeUndefined();
      expect((await store.cameras.list()).map((c) => c.id)).toEqual([camera(2).id]);
      expect((await store.audit.list()).map((e) => e.cameraId)).toEqual([camera(2).id]);
    });

    it('refuses nested transactions and statements on the store itself inside one', async () => {
      const store = await h.fresh();
      let leaked: StoreTx | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
        await expect(store.transaction(async () => undefined)).rejects.toThrow(/do not nest/);
        await expect(store.cameras.count()).rejects.toThrow(/do not nest/);
        await tx.cameras.insert(camera(1));
      });
      expect(await store.cameras.count()).toBe(1);
      await expect(leaked!.cameras.count()).rejects.toThrow(/already ended/);
      // Two transactions asked for at once run one after the other, both committed.
      await Promise.all([
        store.transaction(async (tx) => tx.cameras.insert(camera(2))),
        store.transaction(async (tx) => tx.cameras.insert(camera(3))),
      ]);
      expect(await store.cameras.count()).toBe(3);
    });

    it('fails clearly after close', async () => {
      const store = await h.fresh();
      await store.close();
      await expect(store.cameras.count()).rejects.toThrow(/closed/);
    });

    // A guard against a page read that scans the whole table, not a benchmark: bounds are
    // loose (median page, whole list) so a loaded CI machine does not trip them.
    it('pages a 10 000-camera list without scanning it', async () => {
      const store = await h.fresh();
      for (let i = 1; i <= 10_000; i++) await store.cameras.insert(camera(i));
      expect(await store.cameras.count()).toBe(10_000);

      await store.cameras.list({ limit: 100 });
      const pages: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        const page = await store.cameras.list({ limit: 100, offset: i * 100 });
        pages.push(performance.now() - t);
        expect(page).toHaveLength(100);
        expect(page[0]?.id).toBe(camera(i * 100 + 1).id);
      }
      const t = performance.now();
      const everything = await store.cameras.list();
      const fullMs = performance.now() - t;
      expect(everything).toHaveLength(10_000);
      const median = [...pages].sort((a, b) => a - b)[pages.length >> 1] ?? Infinity;
      expect(median).toBeLessThan(25);
      expect(fullMs).toBeLessThan(1000);
    }, 60_000);
  });
}
