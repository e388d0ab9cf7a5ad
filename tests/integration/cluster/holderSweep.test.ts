import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../../../src/config/index.js';
import type { ChainEntry } from '../../../src/domain/index.js';
import { ChainLedger, ChainSigner, DAY_MS, segmentRelPath } from '../../../src/recording/index.js';
import { PostgresStore } from '../../../src/store/postgres.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { clusterNodeEnv, listNodes, startClusterNode, until } from '../../helpers/clusterNodes.js';
import { runVerify } from '../../helpers/recordings.js';
import { approvedBySecondAdmin } from '../../helpers/changeSteps.js';

/**
 * Two real nodes on one PostgreSQL database. Node A holds four segments of a camera on its
 * disk (indexed as A's, with A's key, 40 days old, under an evidence hold); the camera then
 * moves to B (A drained). With the hold lifted, B's retention sweep chains the deletions, and
 * A removes their files within its sweep period; a segment still held is neither deleted nor
 * removed; psvgw verify on A finds nothing unexpected. A killed, the last hold lifted, B
 * deletes the last segment while A is down: A removes its file when it starts again.
 */

const CONFIG = 'cluster:\n  leaseSeconds: 6\nrecording:\n  sweepSeconds: 1';
/** What the recorder writes into a segment's entry under the strict profile (30 days). */
const STRICT = { days: 30, profile: 'strict', rule: 'profile', article: PROFILES.strict.retentionDays.source };

describe('cluster mode: deleted segments are removed on the node that holds them', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let store: PostgresStore;
  let shared: string;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let cameraId: string;
  let seeded: ChainEntry[];
  let holdAll: number;
  let holdLast: number;

  const start = (name: string, dataDir?: string) =>
    startClusterNode({ name, dbUrl: db.url, sharedDir: shared, configYaml: CONFIG, ...(dataDir === undefined ? {} : { dataDir }) });
  const fileOnA = (s: ChainEntry) => join(a.dataDir, 'data', 'recordings', s.path);
  const verifyOnA = () => runVerify(a, ['--camera', cameraId], clusterNodeEnv({ name: 'ra', dbUrl: db.url }));
  const segments = async () => store.recordings.entries({ cameraId, kind: 'segment' });
  /** A marks a removal in the index just after the file is gone (a separate write): wait for it. */
  const noRemovalPendingOnA = () =>
    until(
      'A marking its removals done',
      async () => ((await store.recordings.pendingFileRemovals('ra', 10)).length === 0 ? true : undefined),
      10_000,
    );
  const hold = async (via: GatewayProcess, from: number, to: number) => {
    const res = await via.api<{ id: number }>('POST', '/api/v1/holds', {
      cameraIds: [cameraId],
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      reason: 'case 2026-16',
    });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  /** A hold lift is a weakening change: a second admin approves it. */
  const lift = async (via: GatewayProcess, id: number) =>
    approvedBySecondAdmin(via, await via.api('POST', `/api/v1/holds/${id}/lift`, { reason: 'case closed' }));

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresStore(db.url);
    shared = mkdtempSync(join(tmpdir(), 'psvgw-cluster-holder-'));
    a = await start('ra');
    b = await start('rb');
    expect((await b.api('POST', '/api/v1/nodes/rb/cordon')).status).toBeLessThan(300);
    // A source that never answers: the camera's chain holds only the segments seeded here.
    const added = await a.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
      name: 'Held on A',
      rtspUrl: 'rtsp://127.0.0.1:9/none',
      siteType: 'road',
    });
    expect(added.status).toBe(201);
    cameraId = added.body.id;
    await until(
      'A holding the camera',
      async () => ((await listNodes(a)).find((n) => n.name === 'ra')?.cameraIds.includes(cameraId) ? true : undefined),
      20_000,
    );
    const endMs = Date.now() - 40 * DAY_MS;
    holdAll = await hold(a, endMs - 10 * 60_000, endMs);
    // Four segments A recorded 40 days ago, indexed as A's with A's key, files on A's disk.
    const ledger = new ChainLedger(store, ChainSigner.loadOrCreate(join(a.dataDir, 'data')), pino({ level: 'silent' }));
    ledger.writeAs('ra');
    seeded = [];
    for (let i = 4; i >= 1; i -= 1) {
      const startMs = endMs - i * 60_000;
      const path = segmentRelPath(cameraId, startMs);
      const body = `segment ${i} of ${cameraId}`;
      mkdirSync(dirname(join(a.dataDir, 'data', 'recordings', path)), { recursive: true });
      writeFileSync(join(a.dataDir, 'data', 'recordings', path), body);
      seeded.push(
        await ledger.append(cameraId, {
          kind: 'segment',
          path,
          startMs,
          endMs: startMs + 60_000,
          bytes: Buffer.byteLength(body),
          sha256: createHash('sha256').update(body).digest('hex'),
          partial: false,
          detail: { retention: STRICT },
        }),
      );
    }
  }, 90_000);

  afterAll(async () => {
    await stopAllGateways();
    await store?.close();
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it("B deletes A's segments; A removes their files within a sweep period; a held one stays; verify on A passes", async () => {
    expect((await b.api('POST', '/api/v1/nodes/rb/uncordon')).status).toBeLessThan(300);
    expect((await a.api('POST', '/api/v1/nodes/ra/drain')).status).toBeLessThan(300);
    await until(
      'B holding the camera',
      async () => ((await listNodes(b)).find((n) => n.name === 'rb')?.cameraIds.includes(cameraId) ? true : undefined),
      30_000,
    );
    const last = seeded.at(-1)!;
    // Inside the last segment only (a hold touching the one before would keep it too).
    holdLast = await hold(b, last.startMs + 1000, last.endMs);
    await lift(b, holdAll);

    const deleted = await until(
      "B's sweep chaining the deletion of three segments",
      async () => {
        const gone = (await segments()).filter((s) => s.deletedAt !== null);
        return gone.length >= 3 ? gone : undefined;
      },
      20_000,
    );
    expect(deleted.map((s) => s.seq)).toEqual(seeded.slice(0, 3).map((s) => s.seq));
    const chained = await store.recordings.entries({ cameraId, kind: 'deletion' });
    expect(chained.map((d) => d.node)).toEqual(['rb', 'rb', 'rb']);

    const t0 = Date.now();
    await until('A removing the three files', () => (seeded.slice(0, 3).some((s) => existsSync(fileOnA(s))) ? undefined : true), 15_000);
    // Within a sweep period (1 s) and the time B's last deletion took to be seen here, on a loaded machine.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(existsSync(fileOnA(last))).toBe(true);
    await noRemovalPendingOnA();

    const report = await verifyOnA();
    expect(report.stdout + report.stderr).not.toMatch(/unexpected|missing/);
    expect(report.code).toBe(0);
  });

  it('A killed, the last hold lifted: B deletes the last segment; A removes its file when it starts again', async () => {
    const dataDirA = a.dataDir;
    await a.stop('SIGKILL');
    await lift(b, holdLast);
    const last = seeded.at(-1)!;
    await until(
      'B deleting the last segment',
      async () => ((await store.recordings.entry(cameraId, last.seq))?.deletedAt ? true : undefined),
      20_000,
    );
    expect(existsSync(join(dataDirA, 'data', 'recordings', last.path))).toBe(true);

    a = await start('ra', dataDirA);
    await until('A removing the file at its start', () => (existsSync(fileOnA(last)) ? undefined : true), 15_000);
    await noRemovalPendingOnA();
    const report = await verifyOnA();
    expect(report.stdout + report.stderr).not.toMatch(/unexpected|missing/);
    expect(report.code).toBe(0);
  });
});
