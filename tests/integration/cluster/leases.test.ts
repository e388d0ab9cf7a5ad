import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/store/postgres.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';

/** The lease statements on a real PostgreSQL: claims, renewals, expiry by the database's clock, fencing. */
describe('camera leases in PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresStore(db.url, { maxConnections: 4 });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const waitUntilExpired = async (cameraId: string, deadlineMs = 5000) => {
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      const lease = (await store.cluster.leases()).find((l) => l.cameraId === cameraId);
      if (lease !== undefined && !lease.valid) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the lease of ${cameraId} did not expire within ${deadlineMs} ms`);
  };

  it('one node holds a camera; another claims it only once the lease has expired, with the next epoch', async () => {
    const a = await store.cluster.claim('a', 'cam-1', 400);
    expect(a).toEqual({ cameraId: 'cam-1', epoch: 1 });
    expect(await store.cluster.claim('b', 'cam-1', 10_000)).toBeNull();
    expect(await store.cluster.renew('a', 400)).toEqual([{ cameraId: 'cam-1', epoch: 1 }]);
    await waitUntilExpired('cam-1');
    expect(await store.cluster.claim('b', 'cam-1', 10_000)).toEqual({ cameraId: 'cam-1', epoch: 2 });
    expect(await store.cluster.renew('a', 400, [{ cameraId: 'cam-1', epoch: 1 }])).toEqual([]);
  });

  it('an expired lease nobody claimed is renewed by its owner at its own epoch; only the leases named are renewed', async () => {
    await store.cluster.claimBatch('a', ['cam-r1', 'cam-r2'], 300);
    await waitUntilExpired('cam-r1');
    // Not at another epoch, not by another node: the owner, at the epoch it claimed.
    expect(await store.cluster.renew('a', 10_000, [{ cameraId: 'cam-r1', epoch: 2 }])).toEqual([]);
    expect(await store.cluster.renew('b', 10_000, [{ cameraId: 'cam-r1', epoch: 1 }])).toEqual([]);
    expect(await store.cluster.renew('a', 10_000, [{ cameraId: 'cam-r1', epoch: 1 }])).toEqual([{ cameraId: 'cam-r1', epoch: 1 }]);
    const leases = await store.cluster.leases();
    expect(leases.find((l) => l.cameraId === 'cam-r1')?.valid).toBe(true);
    expect(leases.find((l) => l.cameraId === 'cam-r2')?.valid).toBe(false);
    expect(await store.cluster.claim('b', 'cam-r1', 10_000)).toBeNull();
  });

  it('claims cameras in batches: one statement per batch, new and expired rows alike, each in the history', async () => {
    // Node b: a store of its own whose statements are counted.
    const b = new PostgresStore(db.url, { maxConnections: 2 });
    const statements: string[] = [];
    const counted = b as unknown as { queryRows: (sql: string, params: unknown[]) => Promise<unknown> };
    const queryRows = counted.queryRows.bind(b);
    counted.queryRows = (sql, params) => {
      statements.push(sql);
      return queryRows(sql, params);
    };
    try {
      await store.cluster.claim('a', 'cam-b0', 200);
      await waitUntilExpired('cam-b0');
      const ids = ['cam-b0', 'cam-b1', 'cam-b2', 'cam-b3', 'cam-b1'];
      const taken = await b.cluster.claimBatch('b', ids, 10_000);
      expect(statements).toHaveLength(1);
      expect(taken).toEqual([
        { cameraId: 'cam-b0', epoch: 2 },
        { cameraId: 'cam-b1', epoch: 1 },
        { cameraId: 'cam-b2', epoch: 1 },
        { cameraId: 'cam-b3', epoch: 1 },
      ]);
      // Held now: a second batch takes nothing, still in one statement.
      expect(await b.cluster.claimBatch('b', ids, 10_000)).toEqual([]);
      expect(statements).toHaveLength(2);
      const history = (await store.cluster.history()).filter((h) => h.cameraId.startsWith('cam-b') && h.node === 'b');
      expect(history.map((h) => [h.cameraId, h.epoch]).sort()).toEqual([
        ['cam-b0', 2],
        ['cam-b1', 1],
        ['cam-b2', 1],
        ['cam-b3', 1],
      ]);
    } finally {
      await b.close();
    }
  });

  it("fences: the old owner's write is refused in its transaction; the new owner's passes", async () => {
    const refused = await store.transaction((tx) => tx.cluster.fence('cam-1', 'a', 1));
    expect(refused).toBe(false);
    expect(await store.transaction((tx) => tx.cluster.fence('cam-1', 'b', 1))).toBe(false);
    expect(await store.transaction((tx) => tx.cluster.fence('cam-1', 'b', 2))).toBe(true);
  });

  it('a write under a valid lease holds it: a claim skips the locked row until the write commits', async () => {
    await store.cluster.claim('a', 'cam-2', 300);
    // Node b is another process: a store of its own.
    const b = new PostgresStore(db.url, { maxConnections: 2 });
    let claimed: unknown = 'pending';
    try {
      await store.transaction(async (tx) => {
        expect(await tx.cluster.fence('cam-2', 'a', 1)).toBe(true);
        // The lease runs out while a's write is still open: b may not take it from under the write.
        const end = Date.now() + 5000;
        while ((await b.cluster.leases()).find((l) => l.cameraId === 'cam-2')?.valid !== false && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 50));
        }
        claimed = await b.cluster.claim('b', 'cam-2', 10_000);
      });
      expect(claimed).toBeNull();
      expect(await b.cluster.claim('b', 'cam-2', 10_000)).toEqual({ cameraId: 'cam-2', epoch: 2 });
    } finally {
      await b.close();
    }
  });

  it('a release frees the lease at once and is in the history', async () => {
    expect(await store.cluster.release('a', 'cam-2', 2)).toBe(false);
    expect(await store.cluster.release('b', 'cam-2', 2)).toBe(true);
    expect(await store.cluster.claim('c', 'cam-2', 10_000)).toEqual({ cameraId: 'cam-2', epoch: 3 });
    const history = await store.cluster.history('cam-2');
    expect(history.map((h) => [h.node, h.epoch, h.event])).toEqual([
      ['a', 1, 'claimed'],
      ['b', 2, 'claimed'],
      ['b', 2, 'released'],
      ['c', 3, 'claimed'],
    ]);
  });

  it('heartbeats: a node is alive while its beats are recent; cordon and drain flags are kept', async () => {
    const own = await store.cluster.beat({ name: 'a', apiUrl: 'http://127.0.0.1:1', weight: 1, aliveMs: 300 });
    expect(own).toMatchObject({ name: 'a', alive: true, cordoned: false, draining: false });
    expect(await store.cluster.setNodeFlags('a', { cordoned: true, draining: true })).toBe(true);
    expect(await store.cluster.setNodeFlags('nope', { cordoned: true, draining: false })).toBe(false);
    const end = Date.now() + 5000;
    let nodes = await store.cluster.nodes(300);
    while (nodes[0]?.alive === true && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      nodes = await store.cluster.nodes(300);
    }
    expect(nodes).toMatchObject([{ name: 'a', alive: false, cordoned: true, draining: true }]);
  });
});
