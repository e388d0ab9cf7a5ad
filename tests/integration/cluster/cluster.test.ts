import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../../helpers/cameraFleet.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { ADMIN_TOKEN, type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { listNodes, startClusterNode } from '../../helpers/clusterNodes.js';
import type { ClusterNodeView } from '../../../src/api/contract.js';

/**
 * Three real gateway nodes on one PostgreSQL database and a fleet of twelve cameras:
 * spread 4/4/4, a drain moves a node's cameras one by one, a joining node takes a third,
 * a node killed with SIGKILL has its cameras live elsewhere within lease + restart, and
 * no camera is ever pulled by two nodes at once (the fleet's client count per mount).
 */
const CAMERAS = 12;
const LEASE_SECONDS = 6;

describe('cluster mode: three nodes share twelve cameras', { timeout: 90_000 }, () => {
  let db: TestDatabase;
  let fleet: CameraFleet;
  let shared: string;
  const nodes = new Map<string, GatewayProcess>();
  /** Camera id → fleet mount number. */
  const mountOf = new Map<string, number>();
  /** Most RTSP clients seen on each mount, and each mount's longest time without any, while sampling. */
  const most = new Map<number, number>();
  const longestGap = new Map<number, number>();
  const gapSince = new Map<number, number>();
  let sampler: NodeJS.Timeout | undefined;

  const startNode = (name: string) =>
    startClusterNode({
      name,
      dbUrl: db.url,
      sharedDir: shared,
      configYaml: `recording:\n  segmentSeconds: 2\ncluster:\n  leaseSeconds: ${LEASE_SECONDS}`,
    }).then((gw) => (nodes.set(name, gw), gw));

  const any = () => [...nodes.values()][0] as GatewayProcess;
  const list = () => listNodes(any());
  const owners = async () => {
    const out = new Map<string, string>();
    for (const n of await list()) for (const id of n.cameraIds) out.set(id, n.name);
    return out;
  };
  /** Waits until `check` passes on the nodes list; returns the ms waited. */
  const waitNodes = async (what: string, check: (nodes: ClusterNodeView[]) => boolean, timeoutMs: number): Promise<number> => {
    const start = Date.now();
    let last: ClusterNodeView[] = [];
    while (Date.now() - start < timeoutMs) {
      last = await list().catch(() => []);
      if (check(last)) return Date.now() - start;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `${what} not reached in ${timeoutMs} ms; nodes: ${JSON.stringify(last.map((n) => [n.name, n.alive, n.cameraIds.length]))}`,
    );
  };
  /** Waits until each camera is up on the node holding its lease. */
  const waitLive = async (cameraIds: string[], timeoutMs: number): Promise<number> => {
    const start = Date.now();
    const pending = new Set(cameraIds);
    while (pending.size > 0) {
      if (Date.now() - start > timeoutMs)
        throw new Error(`cameras not live on their owners in ${timeoutMs} ms: ${[...pending].join(', ')}`);
      const own = await owners();
      for (const id of [...pending]) {
        const gw = nodes.get(own.get(id) ?? '');
        if (gw !== undefined && (await gw.metric('psvgw_camera_up', { camera_id: id })) === 1) pending.delete(id);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 250));
    }
    return Date.now() - start;
  };
  const counts = (ns: ClusterNodeView[]) => Object.fromEntries(ns.filter((n) => n.alive).map((n) => [n.name, n.cameraIds.length]));

  beforeAll(async () => {
    db = await createTestDatabase();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-cluster-'));
    fleet = await startCameraFleet({ count: CAMERAS });
    // The first node makes the schema and the shared signing key; the others join it.
    await startNode('n1');
    await Promise.all([startNode('n2'), startNode('n3')]);
    await waitNodes('three live nodes', (ns) => ns.filter((n) => n.alive).length === 3, 15_000);
  });

  afterAll(async () => {
    if (sampler !== undefined) clearInterval(sampler);
    await stopAllGateways();
    await stopAllCameraFleets();
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it('spreads twelve cameras 4/4/4, each owned by exactly one node and live there', async () => {
    // Registered through every node at once: any node answers the API.
    const gws = [...nodes.values()];
    await Promise.all(
      fleet.urls.map(async (url, i) => {
        const camera = await addCamera(gws[i % gws.length] as GatewayProcess, url, `Fleet ${i + 1}`);
        mountOf.set(camera.id, i + 1);
      }),
    );
    await waitNodes('4/4/4', (ns) => Object.values(counts(ns)).join() === '4,4,4', 30_000);
    const own = await owners();
    expect(new Set(own.keys())).toEqual(new Set(mountOf.keys()));
    const ms = await waitLive([...mountOf.keys()], 45_000);
    console.log(`[cluster] twelve cameras live on their owners ${ms} ms after the spread`);
    // From now on no mount may ever have two clients: two nodes pulling one camera.
    sampler = setInterval(() => {
      const now = Date.now();
      for (const m of mountOf.values()) {
        const c = fleet.clientCount(m);
        most.set(m, Math.max(most.get(m) ?? 0, c));
        if (c === 0 && !gapSince.has(m)) gapSince.set(m, now);
        if (c > 0 && gapSince.has(m)) {
          longestGap.set(m, Math.max(longestGap.get(m) ?? 0, now - (gapSince.get(m) as number)));
          gapSince.delete(m);
        }
      }
    }, 50);
    for (const m of mountOf.values()) await fleet.waitForClients(m, (c) => c === 1, 10_000);
  });

  it('drain: the node hands its cameras over one by one, each gap at most one restart', async () => {
    const before = await owners();
    const leaving = [...before].filter(([, n]) => n === 'n3').map(([id]) => id);
    const cli = await runCli(['node', 'drain', 'n3', '--timeout', '60'], {
      env: { PSVGW_API_URL: nodes.get('n1')?.apiUrl ?? '', PSVGW_ADMIN_TOKEN: ADMIN_TOKEN },
      timeoutMs: 70_000,
    });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toContain('node n3 drained');
    // The last camera handed over is claimed at the others' next beat.
    await waitNodes('every camera owned', (ns) => ns.reduce((sum, n) => sum + n.cameraIds.length, 0) === CAMERAS, 10_000);
    const after = await owners();
    for (const [id, n] of before) expect(after.get(id)).toEqual(n === 'n3' ? expect.stringMatching(/^n[12]$/) : n);
    await waitLive(leaving, 30_000);
    for (const id of leaving) await fleet.waitForClients(mountOf.get(id) as number, (c) => c === 1, 10_000);
    const gaps = leaving.map((id) => longestGap.get(mountOf.get(id) as number) ?? 0);
    console.log(`[cluster] drain: camera gaps ${gaps.map((g) => (g / 1000).toFixed(1)).join(', ')} s`);
    // One restart: the old ingest stopped, the lease passed on at the next beat, the new ingest probed and pulling.
    for (const g of gaps) expect(g).toBeLessThan(10_000);
    await nodes.get('n3')?.stop();
    nodes.delete('n3');
  });

  it('join: a new node takes about a third, the others keep theirs', async () => {
    const before = await owners();
    await startNode('n4');
    await waitNodes('n4 takes its share', (ns) => ns.find((n) => n.name === 'n4')?.cameraIds.length === 4, 40_000);
    await waitNodes('4/4/4 again', (ns) => Object.values(counts(ns)).sort().join() === '4,4,4', 20_000);
    const after = await owners();
    const moved = [...before].filter(([id, n]) => after.get(id) !== n).map(([id, n]) => `${id}: ${n} -> ${after.get(id)}`);
    if (moved.length !== 4) {
      for (const [name, gw] of nodes)
        console.log(`[cluster] ${name} lease log:\n${gw.logs.filter((l) => /lease|renewed/.test(l)).join('\n')}`);
    }
    expect(moved).toHaveLength(4);
    for (const m of moved) expect(m).toMatch(/-> n4$/);
    await waitLive(
      [...after].filter(([, n]) => n === 'n4').map(([id]) => id),
      30_000,
    );
  });

  it("kill -9: the dead node's cameras are live on the others within lease + restart; never two ingests of one camera", async () => {
    const before = await owners();
    const lost = [...before].filter(([, n]) => n === 'n4').map(([id]) => id);
    const killedAt = new Date();
    const t0 = Date.now();
    await nodes.get('n4')?.stop('SIGKILL');
    nodes.delete('n4');
    await waitNodes(
      'n4 cameras claimed',
      (ns) => ns.filter((n) => n.alive && n.name !== 'n4').reduce((s, n) => s + n.cameraIds.length, 0) === CAMERAS,
      20_000,
    );
    await waitLive(lost, 20_000);
    const failoverMs = Date.now() - t0;
    console.log(
      `[cluster] kill -9 failover: ${lost.length} cameras live on the other nodes after ${(failoverMs / 1000).toFixed(1)} s (lease ${LEASE_SECONDS} s)`,
    );
    expect(failoverMs).toBeLessThanOrEqual(15_000);

    // The lease history: epochs rise by one per claim, and none of the dead node's cameras was claimed before its lease could expire.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const rows = (await client.query('SELECT camera_id, node, epoch, event, at FROM camera_lease_history ORDER BY id')).rows as Array<{
        camera_id: string;
        node: string;
        epoch: string;
        event: string;
        at: Date;
      }>;
      for (const id of mountOf.keys()) {
        const claims = rows.filter((r) => r.camera_id === id && r.event === 'claimed').map((r) => Number(r.epoch));
        expect(claims).toEqual(claims.map((_, i) => i + 1));
      }
      for (const id of lost) {
        const claim = rows.filter((r) => r.camera_id === id && r.event === 'claimed').at(-1);
        expect(claim?.node).toMatch(/^n[12]$/);
        // Database and test share the host clock; the lease ran at least (lease - one beat) past the kill.
        expect((claim?.at.getTime() ?? 0) - killedAt.getTime()).toBeGreaterThanOrEqual((LEASE_SECONDS - 1.5) * 1000);
      }
    } finally {
      await client.end();
    }
    for (const [m, c] of most) expect({ mount: m, clients: c }).toEqual({ mount: m, clients: 1 });
  });
});
