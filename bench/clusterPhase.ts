import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { ClusterNode, DEFAULT_TIMINGS } from '../src/cluster/index.js';
import { PostgresStore, type ClusterRepository } from '../src/store/index.js';
import type { BenchOptions } from './options.js';
import { machineInfo } from './procstat.js';
import { attempt, progress } from './progress.js';
import { percentile, pollUntil, round, sleep } from './stats.js';

/** One camera count: what the database did while the nodes held every lease. */
export interface ClusterStep {
  cameras: number;
  nodes: number;
  /** Seconds from the nodes joining to every camera held (the claims, one transaction per camera). */
  claimSeconds: number | null;
  /** Committed transactions per second in the bench database (pg_stat_database.xact_commit deltas). */
  commitsPerSecond: number | null;
  /** The same per 1,000 cameras. */
  commitsPerSecondPer1000: number | null;
  /** Rows updated per second (each renewal updates every held lease row). */
  rowsUpdatedPerSecond: number | null;
  /** user+sys of every `postgres` process on this machine over the window, % of one core (other clients included). */
  postgresCpuPercent: number | null;
  /** Renewal round trips (one UPDATE … RETURNING per node per beat), ms. */
  renewP50Ms: number | null;
  renewP99Ms: number | null;
  renewMaxMs: number | null;
  /** Leases lost since the nodes joined (not renewed before the self-stop, or expired). */
  leasesLost: number;
  /** Event-loop delay p99 of the bench process (all the simulated nodes share it), ms. */
  nodesLoopP99Ms: number | null;
  /** Every renewal answered within one heartbeat, no lease lost. */
  sustained: boolean;
  /** Why the step was not sustained, when it ended before its window. */
  failure: string | null;
}

export interface ClusterResults {
  errors: string[];
  heartbeatMs: number;
  leaseMs: number;
  steps: ClusterStep[];
  /** The largest step sustained. */
  largestSustained: number | null;
  failover: { skipped: string };
}

/**
 * Lease load on PostgreSQL with simulated owners: N `ClusterNode`s in this process (each
 * with a pool of its own, as separate gateways have), no media; their cameras are the
 * placement input, their lease handlers do nothing. The camera count steps up until a
 * renewal misses its heartbeat or a lease is lost.
 */
export async function clusterPhase(o: BenchOptions): Promise<ClusterResults> {
  const t = DEFAULT_TIMINGS;
  const r: ClusterResults = {
    errors: [],
    heartbeatMs: t.heartbeatMs,
    leaseMs: t.leaseMs,
    steps: [],
    largestSustained: null,
    failover: { skipped: 'failover p50/p95 over kills of real gateways: --only clusterFailover (clusterFailover in the figures)' },
  };
  const counts = o.quick ? [500, 1000] : [1000, 2000, 4000, 8000, 16_000, 32_000];
  const nodes = 3;
  const windowMs = (o.quick ? 5 : 10) * 1000;
  for (const cameras of counts) {
    let step: ClusterStep | null = null;
    await attempt(r.errors, `cluster leases, ${cameras} cameras`, async () => {
      progress(`cluster: ${nodes} simulated nodes holding ${cameras} camera leases, ${windowMs / 1000} s window`);
      step = await leaseStep(cameras, nodes, windowMs);
    });
    if (step === null) break;
    r.steps.push(step);
    if (!(step as ClusterStep).sustained) break;
    r.largestSustained = cameras;
  }
  return r;
}

async function leaseStep(cameras: number, nodeCount: number, windowMs: number): Promise<ClusterStep> {
  const db = await createDatabase();
  const stores: PostgresStore[] = [];
  const members: ClusterNode[] = [];
  const renewMs: number[] = [];
  let lost = 0;
  let measuring = false;
  try {
    const first = new PostgresStore(db.url, { maxConnections: 2 });
    stores.push(first);
    await first.migrate();
    const list = Array.from({ length: cameras }, (_, i) => ({ id: `cam-${String(i).padStart(6, '0')}`, cost: 1 }));
    const logger = pino({ level: process.env.PSVGW_BENCH_CLUSTER_LOG ?? 'silent' });
    for (let i = 0; i < nodeCount; i++) {
      const store = i === 0 ? first : new PostgresStore(db.url, { maxConnections: 2 });
      if (i > 0) stores.push(store);
      const repo = timedRenewals(store.cluster, (ms) => measuring && renewMs.push(ms));
      const node = new ClusterNode({ name: `sim-${i + 1}`, apiUrl: null, weight: 1, repo, cameras: async () => list, logger });
      members.push(node);
    }
    // The leases are claimed up front (the real claim SQL, 8 at a time, round robin over the node
    // names, a long first term): each node takes its own back at its first beat, as after a restart.
    // A node joining alone claims every camera one by one before it renews; past a few thousand
    // cameras that outlasts the self-stop (see docs/cluster.md), which is not what this step measures.
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < list.length) {
          const i = next++;
          await first.cluster.claim(`sim-${(i % nodeCount) + 1}`, (list[i] as { id: string }).id, 600_000);
        }
      }),
    );
    await Promise.all(members.map((m) => m.join()));
    const handlers = {
      acquired: () => undefined,
      lost: () => void (lost += 1),
      releasing: async () => undefined,
      released: () => undefined,
    };
    for (const m of members) m.run(handlers);
    const held = () => members.reduce((n, m) => n + m.ownedCameras().length, 0);
    const claimWaited = await pollUntil(() => held() === cameras, Math.max(60_000, cameras * 20), 200);
    if (claimWaited === null) {
      const failure = `only ${held()} of ${cameras} leases held ${Math.round((performance.now() - started) / 1000)} s after the nodes joined (leases lost meanwhile: renewals late past the self-stop)`;
      return { ...EMPTY, cameras, nodes: nodeCount, leasesLost: lost, failure };
    }
    const claimSeconds = (performance.now() - started) / 1000;
    await sleep(2 * DEFAULT_TIMINGS.heartbeatMs); // the placement settles

    measuring = true;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const before = await dbCounters(db.url, db.name);
    const cpuBefore = postgresTicks();
    const t0 = performance.now();
    await sleep(windowMs);
    const seconds = (performance.now() - t0) / 1000;
    const after = await dbCounters(db.url, db.name);
    const cpuAfter = postgresTicks();
    measuring = false;
    loop.disable();

    const commits = (after.commits - before.commits) / seconds;
    const p99 = percentile(renewMs, 99);
    const max = renewMs.length ? Math.max(...renewMs) : null;
    return {
      cameras,
      nodes: nodeCount,
      claimSeconds: round(claimSeconds, 1),
      commitsPerSecond: round(commits, 1),
      commitsPerSecondPer1000: round((commits * 1000) / cameras, 1),
      rowsUpdatedPerSecond: round((after.updated - before.updated) / seconds, 0),
      postgresCpuPercent: round(((cpuAfter - cpuBefore) / CLK_TCK / seconds) * 100, 1),
      renewP50Ms: round(percentile(renewMs, 50), 1),
      renewP99Ms: round(p99, 1),
      renewMaxMs: round(max, 1),
      nodesLoopP99Ms: round(loop.percentile(99) / 1e6, 1),
      leasesLost: lost,
      sustained: lost === 0 && held() === cameras && max !== null && max < DEFAULT_TIMINGS.heartbeatMs,
      failure: null,
    };
  } finally {
    for (const m of members) await m.close().catch(() => undefined);
    for (const s of stores) await s.close().catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
}

const EMPTY: ClusterStep = {
  cameras: 0,
  nodes: 0,
  claimSeconds: null,
  commitsPerSecond: null,
  commitsPerSecondPer1000: null,
  rowsUpdatedPerSecond: null,
  postgresCpuPercent: null,
  renewP50Ms: null,
  renewP99Ms: null,
  renewMaxMs: null,
  nodesLoopP99Ms: null,
  leasesLost: 0,
  sustained: false,
  failure: null,
};

/** The real repository, with each renewal's round trip reported. */
function timedRenewals(repo: ClusterRepository, report: (ms: number) => void): ClusterRepository {
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'renew' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        const start = performance.now();
        const out = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        report(performance.now() - start);
        return out;
      };
    },
  });
}

/** The statistics collector's counters of one database (its own connection, outside the nodes' pools). */
async function dbCounters(url: string, name: string): Promise<{ commits: number; updated: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // The counters are flushed by the backends about once a second: read a fresh snapshot.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const res = await client.query<{ c: string; u: string }>(
      'SELECT xact_commit AS c, tup_updated AS u FROM pg_stat_database WHERE datname = $1',
      [name],
    );
    const row = res.rows[0];
    if (row === undefined) throw new Error(`pg_stat_database has no row for ${name}`);
    return { commits: Number(row.c), updated: Number(row.u) };
  } finally {
    await client.end();
  }
}

const CLK_TCK = machineInfo().clockTicksPerSecond;

/** user+sys ticks of every process named postgres (0 when the server is not on this machine). */
function postgresTicks(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      if (text.slice(text.indexOf('(') + 1, close) !== 'postgres') continue;
      const rest = text.slice(close + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** The server the cluster tests use (the bench creates and drops a database of its own on it). */
const ADMIN_URL = process.env.PSVGW_TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `the cluster phase needs PostgreSQL but ${ADMIN_URL} did not answer (${(err as Error).message}); ` +
        'install and start it (Debian: apt-get install postgresql) or set PSVGW_TEST_POSTGRES_ADMIN_URL',
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function createDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `psvgw_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
