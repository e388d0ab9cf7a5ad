import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterNode, type LeaseHandlers } from '../../../src/cluster/index.js';
import { GatewayError } from '../../../src/errors.js';
import type { ClusterRepository, HeldLease, LeaseRecord } from '../../../src/store/index.js';

/**
 * ClusterNode's rule through a database outage, on a lease table in memory (pure logic:
 * the SQL is tested on PostgreSQL in tests/integration/cluster/leases.test.ts): the cameras
 * record on while the database is unreachable and the node's loop keeps running, stop as
 * before when the node itself was frozen, and stop after the configured maximum outage.
 */
const TIMINGS = { heartbeatMs: 1000, leaseMs: 6000, stopMarginMs: 2000, databaseOutageMaxMs: 20_000 };

function unreachable(): GatewayError {
  return new GatewayError('CONFIG_INVALID', 'cannot reach PostgreSQL', {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  });
}

/** Leases in memory, timed by the fake clock; `down` makes every call fail as an unreachable server does. */
class MemoryLeases {
  down = false;
  readonly rows = new Map<string, { owner: string | null; epoch: number; expiresAt: number }>();
  readonly claims: string[][] = [];

  repo(): ClusterRepository {
    const guard = async <T>(work: () => T): Promise<T> => {
      if (this.down) throw unreachable();
      return work();
    };
    const leases = (): LeaseRecord[] =>
      [...this.rows].map(([cameraId, r]) => ({
        cameraId,
        owner: r.owner,
        epoch: r.epoch,
        expiresAt: new Date(r.expiresAt).toISOString(),
        valid: r.owner !== null && r.expiresAt > Date.now(),
      }));
    return {
      beat: (b) =>
        guard(() => ({
          name: b.name,
          apiUrl: null,
          mediaUrl: null,
          weight: 1,
          cordoned: false,
          draining: false,
          lastSeen: '',
          alive: true,
        })),
      nodes: () =>
        guard(() => [{ name: 'a', apiUrl: null, mediaUrl: null, weight: 1, cordoned: false, draining: false, lastSeen: '', alive: true }]),
      setNodeFlags: () => guard(() => true),
      leases: () => guard(leases),
      renew: (node, ttlMs, held) =>
        guard(() => {
          const out: HeldLease[] = [];
          for (const [cameraId, r] of this.rows) {
            if (r.owner !== node || (held !== undefined && !held.some((h) => h.cameraId === cameraId && h.epoch === r.epoch))) continue;
            r.expiresAt = Date.now() + ttlMs;
            out.push({ cameraId, epoch: r.epoch });
          }
          return out;
        }),
      claim: async () => null,
      claimBatch: (node, ids, ttlMs) =>
        guard(() => {
          this.claims.push([...ids]);
          const out: HeldLease[] = [];
          for (const cameraId of ids) {
            const r = this.rows.get(cameraId) ?? { owner: null, epoch: 0, expiresAt: 0 };
            if (r.owner !== null && r.expiresAt > Date.now()) continue;
            this.rows.set(cameraId, { owner: node, epoch: r.epoch + 1, expiresAt: Date.now() + ttlMs });
            out.push({ cameraId, epoch: r.epoch + 1 });
          }
          return out;
        }),
      release: async () => true,
      fence: async () => true,
      history: async () => [],
    };
  }
}

describe('ClusterNode through a database outage', () => {
  let db: MemoryLeases;
  let node: ClusterNode;
  let lost: string[];
  let cameras: { id: string; cost: number }[];

  beforeEach(async () => {
    vi.useFakeTimers();
    db = new MemoryLeases();
    lost = [];
    cameras = [
      { id: 'cam-1', cost: 1 },
      { id: 'cam-2', cost: 1 },
    ];
    node = new ClusterNode({
      name: 'a',
      apiUrl: null,
      weight: 1,
      repo: db.repo(),
      cameras: async () => cameras,
      timings: TIMINGS,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never,
      clock: () => Date.now(),
    });
    await node.join();
    const handlers: LeaseHandlers = {
      acquired: () => undefined,
      lost: (id) => lost.push(id),
      releasing: async () => undefined,
      released: () => undefined,
    };
    node.run(handlers);
  });

  /** An owner-only write: fails as an unreachable server does while the database is down. */
  const write = async () => {
    if (db.down) throw unreachable();
    return 'written';
  };

  afterEach(async () => {
    await node.close();
    vi.useRealTimers();
  });

  it('claims its cameras in one batch at join', () => {
    expect(node.ownedCameras()).toEqual(['cam-1', 'cam-2']);
    expect(db.claims).toEqual([['cam-1', 'cam-2']]);
  });

  it('records on while the database is unreachable, then renews at its own epochs and lets queued writes go on', async () => {
    db.down = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lost).toEqual([]);
    expect(node.databaseState()).toMatchObject({ recordingLocally: true });
    const queued = node.retryUnreachable('cam-1', write);
    await vi.advanceTimersByTimeAsync(3000);
    db.down = false;
    await vi.advanceTimersByTimeAsync(1000);
    await expect(queued).resolves.toEqual({ value: 'written' });
    expect(node.ownedCameras()).toEqual(['cam-1', 'cam-2']);
    expect(node.databaseState()).toEqual({ unreachableForMs: null, recordingLocally: false });
    expect([...db.rows.values()].map((r) => r.epoch)).toEqual([1, 1]);
  });

  it('stops every camera once the outage outlasts databaseOutageMaxSeconds; a queued write is refused', async () => {
    db.down = true;
    await vi.advanceTimersByTimeAsync(5000);
    const queued = node.whenRenewed('cam-2');
    await vi.advanceTimersByTimeAsync(TIMINGS.databaseOutageMaxMs);
    expect(lost.sort()).toEqual(['cam-1', 'cam-2']);
    await expect(queued).resolves.toBe(false);
  });

  it('a node whose own loop was frozen past the self-stop stops its cameras, even with the database unreachable', async () => {
    db.down = true;
    // One beat finds the database unreachable; then nothing runs for 5 s (the clock jumps past the self-stop).
    await vi.advanceTimersByTimeAsync(1000);
    vi.setSystemTime(Date.now() + 5000);
    await vi.advanceTimersByTimeAsync(300);
    expect(lost.sort()).toEqual(['cam-1', 'cam-2']);
  });

  it('a lease another node claimed meanwhile is lost when the database answers: its queued write is refused', async () => {
    db.down = true;
    await vi.advanceTimersByTimeAsync(8000);
    const queued = node.retryUnreachable('cam-2', write);
    db.rows.set('cam-2', { owner: 'b', epoch: 2, expiresAt: Date.now() + 6000 });
    db.down = false;
    await vi.advanceTimersByTimeAsync(1000);
    await expect(queued).resolves.toBeNull();
    expect(lost).toEqual(['cam-2']);
    expect(node.ownedCameras()).toEqual(['cam-1']);
  });

  it("after an outage, another node's expired lease is left to its owner for a lease time before it is claimed", async () => {
    db.rows.set('cam-3', { owner: 'b', epoch: 4, expiresAt: Date.now() + 3000 });
    cameras.push({ id: 'cam-3', cost: 1 });
    db.down = true;
    await vi.advanceTimersByTimeAsync(8000);
    db.down = false;
    // Reconnected at the next beat (≤ 1 s); the grace runs a lease time from there.
    await vi.advanceTimersByTimeAsync(TIMINGS.leaseMs - 500);
    expect(node.ownedCameras()).toEqual(['cam-1', 'cam-2']);
    await vi.advanceTimersByTimeAsync(2500);
    expect(node.ownedCameras()).toEqual(['cam-1', 'cam-2', 'cam-3']);
    expect(db.rows.get('cam-3')).toMatchObject({ owner: 'a', epoch: 5 });
  });
});
