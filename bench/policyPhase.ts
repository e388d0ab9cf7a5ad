/**
 * What governed access costs (issue 12's benchmark): the policy's decision per API call and
 * per playback, each against the same call with the policy bypassed in the same run, and
 * audit chain append throughput on the real SQLite store. No cameras and no media: the
 * decision and the append are measured alone, over many iterations, alternating the two
 * variants so that drift (GC, CPU frequency) hits both alike.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { pino } from 'pino';
import { AccessRequestService, ActiveRequests } from '../src/access/index.js';
import { permit, usePolicy } from '../src/api/index.js';
import { PROFILES } from '../src/config/index.js';
import type { AccessRequest, Principal } from '../src/domain/index.js';
import { refusalOf, signPlayToken, verifyPlayToken } from '../src/media/index.js';
import { SqliteStore } from '../src/store/index.js';
import type { BenchOptions } from './options.js';
import { progress } from './progress.js';
import { percentile, round } from './stats.js';

/** Microseconds per call. */
export interface LatencyFigure {
  n: number;
  p50Us: number | null;
  p99Us: number | null;
  meanUs: number | null;
}

export interface Comparison {
  withPolicy: LatencyFigure;
  bypassed: LatencyFigure;
  /** withPolicy minus bypassed. */
  p50OverheadUs: number | null;
  p99OverheadUs: number | null;
}

export interface AppendRate {
  entries: number;
  concurrency: number;
  seconds: number;
  entriesPerSecond: number;
}

export interface PolicyResults {
  /** GET over loopback HTTP (keep-alive) through express: `permit('cameras.read')` vs the same route without it. */
  apiCall: Comparison;
  /** The same for a footage action (`permit('recorded.view')`): the caller's approved requests read from the store, then `decide`. */
  footageApiCall: Comparison;
  /** The media server's play check: play-token verification plus the policy's binding check (`refusalOf` on the active requests) vs verification alone. */
  playCheck: Comparison;
  /** `store.audit.append` on a temp SQLite file (WAL, the store's defaults): one after another, and from concurrent callers. */
  auditAppend: { sequential: AppendRate; concurrent: AppendRate };
}

const CAMERA = '44030500001320000001';
const APPROVED = 20;

const principal: Principal = { kind: 'user', userId: 'u-bench', username: 'bench', roles: ['police'] };

export async function policyPhase(o: BenchOptions): Promise<PolicyResults> {
  const apiIterations = o.quick ? 2000 : 20_000;
  const playIterations = o.quick ? 20_000 : 200_000;
  const appends = o.quick ? 500 : 5000;
  const dir = mkdtempSync(join(process.env.PSVGW_BENCH_DB_DIR ?? tmpdir(), 'psvgw-bench-policy-'));
  const store = new SqliteStore(join(dir, 'psvgw.db'));
  const active = new ActiveRequests(store, pino({ level: 'silent' }));
  try {
    await store.migrate();
    const ids = await seedApproved(store);
    await active.refresh();
    const requests = new AccessRequestService({ store, profile: PROFILES.strict });
    const app = express();
    usePolicy(app, { profile: PROFILES.strict, candidates: (p) => requests.candidatesFor(p) });
    // Authentication is the same for both variants, so it is a fixed principal here: only the policy differs.
    app.use((_req, res, next) => {
      res.locals.principal = principal;
      next();
    });
    const ok: express.RequestHandler = (_req, res) => {
      res.json({ ok: true });
    };
    const range = () => ({ cameraId: CAMERA, fromMs: Date.now() - 2 * 3600_000, toMs: Date.now() - 3600_000 });
    app.get('/bypassed', ok);
    app.get('/permitted', permit('cameras.read'), ok);
    app.get('/footage', permit('recorded.view', range), ok);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      progress(`policy: ${apiIterations} API calls with and without permit (cameras.read)`);
      const apiCall = await alternate(
        apiIterations,
        () => get(agent, port, '/permitted'),
        () => get(agent, port, '/bypassed'),
      );
      progress(`policy: ${apiIterations} API calls with and without permit (recorded.view, ${APPROVED} approved requests in the store)`);
      const footageApiCall = await alternate(
        apiIterations,
        () => get(agent, port, '/footage'),
        () => get(agent, port, '/bypassed'),
      );
      progress(`policy: ${playIterations} play-token checks with and without the policy's binding check`);
      const playCheck = await playChecks(playIterations, ids[0] ?? '', active);
      progress(`policy: ${appends} audit appends, sequential and 8 concurrent callers`);
      const auditAppend = { sequential: await appendRate(store, appends, 1), concurrent: await appendRate(store, appends, 8) };
      return { apiCall, footageApiCall, playCheck, auditAppend };
    } finally {
      agent.destroy();
      await new Promise((r) => server.close(r));
    }
  } finally {
    await active.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Approved requests of the principal for the camera (one of each kind, then more recorded ones): the footage route reads them all. */
async function seedApproved(store: SqliteStore): Promise<string[]> {
  const now = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < APPROVED; i++) {
    const kind = i === 0 ? 'view_live_raw' : i === 1 ? 'export' : 'view_recorded';
    const r: AccessRequest = {
      id: randomUUID(),
      kind,
      cameraIds: [CAMERA],
      from: new Date(now - 24 * 3600_000).toISOString(),
      to: new Date(now + 3600_000).toISOString(),
      purpose: 'benchmark',
      destination: 'nowhere',
      staff: [],
      documents: {},
      profile: 'strict',
      state: 'approved',
      filedBy: { userId: principal.userId, username: principal.username },
      filedAt: new Date(now).toISOString(),
      decidedBy: 'approver',
      decidedAt: new Date(now).toISOString(),
      decisionReason: 'benchmark',
      validFrom: new Date(now - 60_000).toISOString(),
      validUntil: new Date(now + 3600_000).toISOString(),
      revokedBy: null,
      revokedAt: null,
      revokeReason: null,
    };
    await store.accessRequests.insert(r);
    ids.push(r.id);
  }
  return ids;
}

function get(agent: Agent, port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: 'Bearer bench' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path} answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs the two variants alternately (after a warm-up of each); times every call. */
async function alternate(n: number, withPolicy: () => Promise<void>, bypassed: () => Promise<void>): Promise<Comparison> {
  for (let i = 0; i < Math.min(200, n); i++) {
    await withPolicy();
    await bypassed();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = performance.now();
    await withPolicy();
    a.push(performance.now() - t);
    t = performance.now();
    await bypassed();
    b.push(performance.now() - t);
  }
  return compare(a, b);
}

/** The play hook's check of a raw-tier token bound to a request: verify (HMAC, expiry) and then the binding, or verify alone. */
async function playChecks(n: number, requestId: string, active: ActiveRequests): Promise<Comparison> {
  const key = randomBytes(32);
  const expected = { cameraId: CAMERA, tier: 'raw', purpose: 'view' as const };
  const token = signPlayToken(
    { ...expected, expiresAt: Math.floor(Date.now() / 1000) + 3600, binding: { userId: principal.userId, requestId } },
    key,
  );
  const verify = () => {
    const check = verifyPlayToken(token, expected, key, Math.floor(Date.now() / 1000));
    if (!check.ok) throw new Error(`bench token refused: ${check.reason}`);
    return check.grant;
  };
  const governed = () => {
    const refused = refusalOf(verify(), active.isActive);
    if (refused !== null) throw new Error(`bench token refused: ${refused}`);
  };
  // Synchronous calls are timed in batches: one call is below the timer's resolution.
  const batch = 100;
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n / batch; i++) {
    let t = performance.now();
    for (let j = 0; j < batch; j++) governed();
    a.push((performance.now() - t) / batch);
    t = performance.now();
    for (let j = 0; j < batch; j++) verify();
    b.push((performance.now() - t) / batch);
  }
  await Promise.resolve();
  return compare(a, b);
}

async function appendRate(store: SqliteStore, entries: number, concurrency: number): Promise<AppendRate> {
  const one = (i: number) =>
    store.audit.append({
      at: new Date().toISOString(),
      actor: 'bench',
      action: 'bench.append',
      cameraId: CAMERA,
      outcome: 'ok',
      details: { i, concurrency },
    });
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < entries) await one(next++);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { entries, concurrency, seconds: round(seconds, 3) ?? 0, entriesPerSecond: round(entries / seconds, 0) ?? 0 };
}

function figure(ms: readonly number[]): LatencyFigure {
  const us = ms.map((x) => x * 1000);
  return {
    n: us.length,
    p50Us: round(percentile(us, 50), 2),
    p99Us: round(percentile(us, 99), 2),
    meanUs: round(us.length ? us.reduce((s, v) => s + v, 0) / us.length : null, 2),
  };
}

function compare(a: readonly number[], b: readonly number[]): Comparison {
  const withPolicy = figure(a);
  const bypassed = figure(b);
  const diff = (x: number | null, y: number | null) => (x === null || y === null ? null : round(x - y, 2));
  return {
    withPolicy,
    bypassed,
    p50OverheadUs: diff(withPolicy.p50Us, bypassed.p50Us),
    p99OverheadUs: diff(withPolicy.p99Us, bypassed.p99Us),
  };
}
