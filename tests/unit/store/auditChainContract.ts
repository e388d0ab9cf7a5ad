import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/domain/index.js';
import { verifyAuditChain } from '../../../src/store/auditChain.js';
import type { StoreHarness, TestStore } from './storeContract.js';

/** Runs SQL on the store's database behind the store's back (the tamperer's view). */
export type RawSql = (store: TestStore, sql: string) => Promise<void>;

function entry(n: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    at: `2025-01-01T00:00:${String(n).padStart(2, '0')}.000Z`,
    actor: 'admin',
    action: 'camera.update',
    cameraId: null,
    outcome: 'ok',
    details: { n, nested: { b: 2, a: 1 } },
    ...over,
  };
}

/** The audit log as an append-only hash chain, on every Store implementation. */
export function describeAuditChainContract(label: string, makeHarness: () => StoreHarness, raw: RawSql): void {
  describe(`${label}: audit chain`, () => {
    let h: StoreHarness;
    let store: TestStore;
    beforeEach(async () => {
      h = makeHarness();
      store = await h.fresh();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const appendFive = async () => {
      for (let n = 1; n <= 5; n++) await store.audit.append(entry(n));
    };

    it('offers no way to change or remove an audit row', async () => {
      const methodsOf = (o: object) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((k) => k !== 'constructor');
      expect(methodsOf(store.audit).sort()).toEqual(['addCheckpoint', 'append', 'chain', 'checkpoints', 'list']);
      await store.transaction(async (tx) => {
        expect(methodsOf(tx.audit).sort()).toEqual(['addCheckpoint', 'append', 'chain', 'checkpoints', 'list']);
      });
    });

    it('links each append to the one before; an untouched chain verifies', async () => {
      await appendFive();
      const chain = await store.audit.chain();
      expect(chain.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(chain[0]?.prevHash).toBe('0'.repeat(64));
      expect(chain[1]?.prevHash).toBe(chain[0]?.entryHash);
      const v = await verifyAuditChain(store);
      expect(v).toMatchObject({ ok: true, entries: 5, pending: 0, problems: [] });
      expect(v.head).toEqual({ seq: 5, entryHash: chain[4]?.entryHash });
    });

    it('gives concurrent appends, on the store and in transactions, seqs without holes or twins', async () => {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          i % 3 === 0 ? store.transaction((tx) => tx.audit.append(entry(i))) : store.audit.append(entry(i)),
        ),
      );
      const chain = await store.audit.chain();
      expect(chain.map((e) => e.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect((await verifyAuditChain(store)).ok).toBe(true);
    });

    it('leaves no hole when a transaction with an append rolls back', async () => {
      await store.audit.append(entry(1));
      await expect(
        store.transaction(async (tx) => {
          await tx.audit.append(entry(2));
          throw new Error('abandon');
        }),
      ).rejects.toThrow('abandon');
      await store.audit.append(entry(3));
      expect((await store.audit.chain()).map((e) => e.seq)).toEqual([1, 2]);
      expect((await verifyAuditChain(store)).ok).toBe(true);
    });

    it('names an entry whose content was edited in the database', async () => {
      await appendFive();
      const third = (await store.audit.chain())[2];
      await raw(store, `UPDATE audit_log SET details = '{"n":99}' WHERE id = ${third?.id}`);
      const v = await verifyAuditChain(store);
      expect(v.ok).toBe(false);
      expect(v.problems[0]).toMatchObject({ kind: 'changed', id: third?.id, seq: 3 });
      expect(v.problems[0]?.message).toMatch(/seq 3 .*changed/);
    });

    it('names the gap a deleted entry leaves', async () => {
      await appendFive();
      const [, second, third] = await store.audit.chain();
      await raw(store, `DELETE FROM audit_log WHERE id = ${second?.id}`);
      const v = await verifyAuditChain(store);
      expect(v.ok).toBe(false);
      expect(v.problems[0]).toMatchObject({ kind: 'missing', id: third?.id, seq: 3 });
      expect(v.problems[0]?.message).toMatch(/seq 2 is missing/);
    });

    it('names entries whose stored order was swapped', async () => {
      await appendFive();
      const [, second, third] = await store.audit.chain();
      const [a, b] = [second?.id ?? 0, third?.id ?? 0];
      await raw(store, `UPDATE audit_log SET id = -id WHERE id IN (${a}, ${b})`);
      await raw(store, `UPDATE audit_log SET id = ${b} WHERE id = ${-a}`);
      await raw(store, `UPDATE audit_log SET id = ${a} WHERE id = ${-b}`);
      const v = await verifyAuditChain(store);
      expect(v.ok).toBe(false);
      expect(v.problems[0]).toMatchObject({ kind: 'reordered', id: a, seq: 3 });
    });

    it('names an entry whose chain fields were removed', async () => {
      await appendFive();
      const fourth = (await store.audit.chain())[3];
      await raw(store, `UPDATE audit_log SET seq = NULL, prev_hash = NULL, entry_hash = NULL WHERE id = ${fourth?.id}`);
      const v = await verifyAuditChain(store);
      expect(v.ok).toBe(false);
      expect(v.problems[0]).toMatchObject({ kind: 'unchained', id: fourth?.id, seq: null });
    });

    it('chains rows written before the chain existed, in id order, at the next append', async () => {
      for (const n of [1, 2]) {
        await raw(
          store,
          `INSERT INTO audit_log (at, actor, action, camera_id, outcome, details) VALUES ('2024-01-0${n}T00:00:00.000Z', 'admin', 'camera.create', NULL, 'ok', '{"old":${n}}')`,
        );
      }
      expect(await verifyAuditChain(store)).toMatchObject({ ok: true, pending: 2, head: null });
      await store.audit.append(entry(3));
      const chain = await store.audit.chain();
      expect(chain.map((e) => [e.seq, e.details])).toEqual([
        [1, { old: 1 }],
        [2, { old: 2 }],
        [3, entry(3).details],
      ]);
      expect(await verifyAuditChain(store)).toMatchObject({ ok: true, pending: 0, entries: 3 });
    });
  });
}
