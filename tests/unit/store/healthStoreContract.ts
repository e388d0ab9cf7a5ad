import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreHarness } from './storeContract.js';

/** The outage ledger, maintenance windows, alert outbox and filings, the same on every Store. */
export function describeHealthStoreContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: health store contract`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('opens, refines, closes and lists outages by overlap with a range', async () => {
      const store = await h.fresh();
      const a = await store.outages.open({
        cameraId: 'c1',
        kind: 'camera_down',
        cause: 'connection_lost',
        startedAt: '2026-11-01T10:00:00.000Z',
        planned: false,
        details: {},
      });
      const b = await store.outages.open({
        cameraId: 'c2',
        kind: 'image_black',
        cause: 'image_black',
        startedAt: '2026-11-02T10:00:00.000Z',
        planned: true,
        details: { maintenanceWindowId: 1 },
      });
      expect(b).toBeGreaterThan(a);
      await store.outages.setCause(a, 'unreachable');
      expect(await store.outages.close(a, '2026-11-01T10:05:00.000Z')).toBe(true);
      expect(await store.outages.close(a, '2026-11-01T11:00:00.000Z')).toBe(false);
      expect((await store.outages.openOnes()).map((o) => o.id)).toEqual([b]);
      const all = await store.outages.list();
      expect(all[0]).toEqual({
        id: a,
        cameraId: 'c1',
        kind: 'camera_down',
        cause: 'unreachable',
        startedAt: '2026-11-01T10:00:00.000Z',
        endedAt: '2026-11-01T10:05:00.000Z',
        planned: false,
        details: {},
      });
      expect(all[1]?.planned).toBe(true);
      // Overlap: the closed one ended before the range; the open one still lasts.
      expect((await store.outages.list({ from: '2026-11-01T11:00:00.000Z' })).map((o) => o.id)).toEqual([b]);
      expect((await store.outages.list({ to: '2026-11-01T10:01:00.000Z' })).map((o) => o.id)).toEqual([a]);
      expect((await store.outages.list({ cameraId: 'c2' })).map((o) => o.id)).toEqual([b]);
    });

    it('opens, closes and lists platform link outages (no camera) by platform and overlap', async () => {
      const store = await h.fresh();
      const a = await store.platformOutages.open({
        platform: 'city',
        kind: 'platform_down:city',
        cause: '3 keepalives unanswered',
        startedAt: '2026-11-01T10:00:00.000Z',
        details: { transport: 'udp' },
      });
      const b = await store.platformOutages.open({
        platform: 'province',
        kind: 'platform_down:province',
        cause: 'wrong password',
        startedAt: '2026-11-02T10:00:00.000Z',
        details: {},
      });
      expect(b).toBeGreaterThan(a);
      expect(await store.platformOutages.close(a, '2026-11-01T10:05:00.000Z')).toBe(true);
      expect(await store.platformOutages.close(a, '2026-11-01T11:00:00.000Z')).toBe(false);
      expect((await store.platformOutages.openOnes()).map((o) => o.id)).toEqual([b]);
      expect((await store.platformOutages.list())[0]).toEqual({
        id: a,
        platform: 'city',
        kind: 'platform_down:city',
        cause: '3 keepalives unanswered',
        startedAt: '2026-11-01T10:00:00.000Z',
        endedAt: '2026-11-01T10:05:00.000Z',
        details: { transport: 'udp' },
      });
      expect((await store.platformOutages.list({ from: '2026-11-01T11:00:00.000Z' })).map((o) => o.id)).toEqual([b]);
      expect((await store.platformOutages.list({ platform: 'city' })).map((o) => o.id)).toEqual([a]);
      // Camera outages are not mixed with them.
      expect(await store.outages.list()).toEqual([]);
    });

    it('finds the maintenance window covering a camera at a time', async () => {
      const store = await h.fresh();
      const all = await store.maintenance.add({
        cameraId: null,
        startsAt: '2026-11-01T00:00:00.000Z',
        endsAt: '2026-11-01T02:00:00.000Z',
        reason: 'power work',
        createdBy: 'admin',
        createdAt: '2026-10-30T00:00:00.000Z',
      });
      const one = await store.maintenance.add({
        cameraId: 'c1',
        startsAt: '2026-11-05T00:00:00.000Z',
        endsAt: '2026-11-05T01:00:00.000Z',
        reason: 'lens cleaning',
        createdBy: 'admin',
        createdAt: '2026-10-30T00:00:00.000Z',
      });
      expect((await store.maintenance.covering('c9', '2026-11-01T01:00:00.000Z'))?.id).toBe(all.id);
      expect((await store.maintenance.covering('c1', '2026-11-05T00:30:00.000Z'))?.id).toBe(one.id);
      expect(await store.maintenance.covering('c2', '2026-11-05T00:30:00.000Z')).toBeUndefined();
      expect(await store.maintenance.covering('c1', '2026-11-01T02:00:00.000Z')).toBeUndefined();
      expect((await store.maintenance.list({ from: '2026-11-02T00:00:00.000Z' })).map((w) => w.id)).toEqual([one.id]);
      expect(await store.maintenance.remove(one.id)).toBe(true);
      expect(await store.maintenance.remove(one.id)).toBe(false);
    });

    it('keeps alerts in the outbox in order per target until delivered, once per event and target', async () => {
      const store = await h.fresh();
      const at = '2026-11-01T00:00:00.000Z';
      expect(await store.alertOutbox.enqueue({ eventId: 'e1', target: 'ops', body: '{"n":1}', createdAt: at })).toBe(true);
      expect(await store.alertOutbox.enqueue({ eventId: 'e1', target: 'ops', body: '{"n":1}', createdAt: at })).toBe(false);
      expect(await store.alertOutbox.enqueue({ eventId: 'e1', target: 'noc', body: '{"n":1}', createdAt: at })).toBe(true);
      expect(await store.alertOutbox.enqueue({ eventId: 'e2', target: 'ops', body: '{"n":2}', createdAt: at })).toBe(true);
      expect(await store.alertOutbox.pendingCount()).toBe(3);
      expect(await store.alertOutbox.pendingTargets()).toEqual(['noc', 'ops']);
      const first = await store.alertOutbox.oldestPending('ops');
      expect(first).toMatchObject({ eventId: 'e1', attempts: 0, nextAttemptAt: at, deliveredAt: null });
      await store.alertOutbox.markFailed(
        first?.id ?? 0,
        { error: 'ECONNREFUSED', status: null, response: null },
        '2026-11-01T00:00:01.000Z',
      );
      expect(await store.alertOutbox.oldestPending('ops')).toMatchObject({
        eventId: 'e1',
        attempts: 1,
        lastError: 'ECONNREFUSED',
        nextAttemptAt: '2026-11-01T00:00:01.000Z',
      });
      await store.alertOutbox.markDelivered(first?.id ?? 0, '2026-11-01T00:00:02.000Z');
      expect((await store.alertOutbox.oldestPending('ops'))?.eventId).toBe('e2');
      expect(await store.alertOutbox.pendingCount()).toBe(2);
    });

    it('sets rejected alerts aside, keeps dead letters with the last answer, and prunes what is old', async () => {
      const store = await h.fresh();
      const outbox = store.alertOutbox;
      const at = '2026-11-01T00:00:00.000Z';
      await outbox.enqueue({ eventId: 'bad', target: 'ops', body: '{}', createdAt: at });
      await outbox.enqueue({ eventId: 'next', target: 'ops', body: '{}', createdAt: at });
      const bad = await outbox.oldestPending('ops');
      const refusal = { error: 'HTTP 400', status: 400, response: 'x'.repeat(2000) };
      await outbox.markRejected(bad?.id ?? 0, refusal, '2026-11-01T00:00:05.000Z');
      // Rejected: no longer the head of the queue, due again at its next attempt.
      expect((await outbox.oldestPending('ops'))?.eventId).toBe('next');
      expect(await outbox.dueRejected('ops', '2026-11-01T00:00:04.000Z')).toBeUndefined();
      expect(await outbox.dueRejected('ops', '2026-11-01T00:00:05.000Z')).toMatchObject({ eventId: 'bad', rejections: 1, lastStatus: 400 });
      expect(await outbox.nextRejectedAt('ops')).toBe('2026-11-01T00:00:05.000Z');

      await outbox.markDead(bad?.id ?? 0, refusal, '2026-11-02T00:00:00.000Z');
      expect(await outbox.dueRejected('ops', '2026-12-01T00:00:00.000Z')).toBeUndefined();
      expect(await outbox.pendingCount()).toBe(1);
      const [dead] = await outbox.deadLetters();
      expect(dead).toMatchObject({ eventId: 'bad', rejections: 2, deadAt: '2026-11-02T00:00:00.000Z', lastStatus: 400 });
      expect(dead?.lastResponse).toHaveLength(500);
      expect(await outbox.deadLetterCounts()).toEqual({ ops: 1 });

      const next = await outbox.oldestPending('ops');
      await outbox.markDelivered(next?.id ?? 0, '2026-11-03T00:00:00.000Z');
      await outbox.enqueue({ eventId: 'open', target: 'ops', body: '{}', createdAt: at });
      // Only what was delivered (or given up on) before its cutoff goes; the undelivered entry stays.
      expect(await outbox.prune({ deliveredBefore: '2026-11-03T00:00:00.000Z', deadBefore: '2026-11-02T00:00:01.000Z' })).toBe(1);
      expect(await outbox.deadLetters()).toEqual([]);
      expect(await outbox.prune({ deliveredBefore: '2026-11-04T00:00:00.000Z', deadBefore: '2026-11-04T00:00:00.000Z' })).toBe(1);
      expect(await outbox.pendingCount()).toBe(1);
      expect(await outbox.nextRejectedAt('ops')).toBeUndefined();
    });

    it('records filings', async () => {
      const store = await h.fresh();
      const f = await store.filings.add({
        cameraId: 'c1',
        event: 'commissioning',
        filedAt: '2026-11-03',
        reference: 'BA-1',
        createdAt: 'x',
      });
      await store.filings.add({ cameraId: 'c2', event: 'removal', filedAt: '2026-11-04', reference: null, createdAt: 'y' });
      expect(await store.filings.list({ cameraId: 'c1' })).toEqual([f]);
      expect(await store.filings.list()).toHaveLength(2);
    });
  });
}
