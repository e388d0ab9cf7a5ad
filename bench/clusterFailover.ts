import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCameraFleet, type CameraFleet } from './cameraFleet.js';
import { removeOnExit } from './children.js';
import { createDatabase } from './clusterPhase.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { attempt, progress } from './progress.js';
import { percentile, pollUntil, round } from './stats.js';

const SECRET = 'bench-cluster-secret-key-0123456789abcdef';
const NODES = 3;
const CAMERAS = 6;

export interface ClusterFailoverResults {
  errors: string[];
  nodes: number;
  cameras: number;
  /** Default timings of the gateways (cluster.heartbeatSeconds, cluster.leaseSeconds). */
  heartbeatMs: number;
  leaseMs: number;
  /** Per kill: kill -9 of the node running the most cameras → every one of its cameras up on another node, ms. */
  failoverMs: number[];
  /** Per kill: cameras the killed node ran. */
  camerasMoved: number[];
  /** Per kill: the node killed, and the machine's 1-minute load average just before. */
  killedNodes: string[];
  loadAverage1m: number[];
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

interface NodeView {
  name: string;
  alive: boolean;
  cameraIds: string[];
}

/**
 * Failover time over several kills: three real gateways on one PostgreSQL database (a fresh
 * database of the test server), a small camera fleet (one GStreamer server), copy mode, no
 * recording. Each round kills -9 the node running the most cameras and times until each of
 * its cameras is up (psvgw_camera_up 1) on the node now holding its lease; the killed node
 * is started again under the same name and the cluster settles before the next kill.
 */
export async function clusterFailoverPhase(o: BenchOptions): Promise<ClusterFailoverResults> {
  const r: ClusterFailoverResults = {
    errors: [],
    nodes: NODES,
    cameras: CAMERAS,
    heartbeatMs: 1000,
    leaseMs: 6000,
    failoverMs: [],
    camerasMoved: [],
    killedNodes: [],
    loadAverage1m: [],
    p50Ms: null,
    p95Ms: null,
    maxMs: null,
  };
  const kills = o.quick ? 3 : 5;
  const db = await createDatabase();
  const shared = mkdtempSync(join(tmpdir(), 'psvgw-bench-failover-'));
  removeOnExit(shared);
  let fleet: CameraFleet | null = null;
  const nodes = new Map<string, BenchGateway>();
  try {
    fleet = await startCameraFleet({ count: CAMERAS });
    const start = async (name: string) => nodes.set(name, await startNode(name, db.url, shared));
    progress(`cluster failover: ${NODES} gateways, ${CAMERAS} fleet cameras, ${kills} kills`);
    await start('f1');
    await Promise.all(['f2', 'f3'].map(start));
    const any = () => [...nodes.values()][0] as BenchGateway;
    const list = () =>
      any()
        .api<{ items: NodeView[] }>('GET', '/api/v1/nodes')
        .then((b) => b.items);
    for (const [i, url] of fleet.urls.entries()) await any().addCamera(`Failover ${i + 1}`, url);
    /** Every camera held by a live node and up there. */
    const settled = async (need: (ns: NodeView[]) => boolean = () => true) => {
      const ns = (await list()).filter((n) => n.alive && nodes.has(n.name));
      if (ns.reduce((k, n) => k + n.cameraIds.length, 0) !== CAMERAS || !need(ns)) return false;
      for (const n of ns) for (const id of n.cameraIds) if ((await nodes.get(n.name)?.cameraUp(id)) !== 1) return false;
      return true;
    };
    const spread = (ns: NodeView[]) => ns.length === NODES && ns.every((n) => n.cameraIds.length > 0);
    if ((await pollUntil(() => settled(spread), 90_000, 250)) === null) throw new Error('the cameras never settled on three nodes');
    const killed: string[] = [];
    for (let k = 1; k <= kills; k++) {
      await attempt(r.errors, `failover kill ${k}`, async () => {
        const ns = (await list()).filter((n) => n.alive);
        // The node running the most cameras; among equals, the one killed least recently (each node dies in turn).
        const most = Math.max(...ns.map((n) => n.cameraIds.length));
        const turn = (n: NodeView) => killed.lastIndexOf(n.name);
        const victim = ns.filter((n) => n.cameraIds.length === most).reduce((a, b) => (turn(b) < turn(a) ? b : a));
        killed.push(victim.name);
        r.loadAverage1m.push(round(loadavg()[0], 2) ?? 0);
        const moved = victim.cameraIds;
        const gw = nodes.get(victim.name) as BenchGateway;
        const killedAt = performance.now();
        gw.child.kill('SIGKILL');
        nodes.delete(victim.name);
        const took = await pollUntil(() => settled(), 60_000, 100);
        if (took === null) throw new Error(`the cameras of ${victim.name} were not up elsewhere 60 s after kill -9`);
        const ms = Math.round(performance.now() - killedAt);
        progress(`cluster failover ${k}/${kills}: ${moved.length} cameras of ${victim.name} up elsewhere after ${ms} ms`);
        r.failoverMs.push(ms);
        r.camerasMoved.push(moved.length);
        r.killedNodes.push(victim.name);
        rmSync(gw.dataDir, { recursive: true, force: true });
        await start(victim.name);
        if ((await pollUntil(() => settled(spread), 90_000, 250)) === null) throw new Error(`${victim.name} did not take its share again`);
      });
    }
  } finally {
    await Promise.all([...nodes.values()].map((gw) => gw.stop().catch(() => undefined)));
    await fleet?.stop();
    await db.drop().catch(() => undefined);
    rmSync(shared, { recursive: true, force: true });
  }
  const sorted = [...r.failoverMs].sort((a, b) => a - b);
  if (sorted.length > 0) {
    r.p50Ms = round(percentile(sorted, 50));
    r.p95Ms = round(percentile(sorted, 95));
    r.maxMs = sorted.at(-1) ?? null;
  }
  return r;
}

function startNode(name: string, dbUrl: string, shared: string): Promise<BenchGateway> {
  return BenchGateway.start('', {
    env: {
      PSVGW_STORE_DRIVER: 'postgres',
      PSVGW_POSTGRES_URL: dbUrl,
      PSVGW_NODE_NAME: name,
      PSVGW_SECRET_KEY: SECRET,
      PSVGW_SIGNING_KEY_FILE: join(shared, 'signing.pem'),
    },
    readyTimeoutMs: 45_000,
  });
}
