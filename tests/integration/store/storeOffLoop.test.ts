import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlvTagReader } from '../../../src/media/flv.js';
import { runCli } from '../../helpers/cli.js';
import { addCamera, streamUrls, waitForUp } from '../../helpers/cameraSteps.js';
import { ADMIN_TOKEN, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const FPS = 25;
const WINDOW_MS = 10_000;
const LOCK_MS = 3000;
const REGISTER_ROWS = 10_000;
/** Between two backups: the loop is about the database's locks, not about spawning processes. */
const BACKUP_PAUSE_MS = 100;
/**
 * How much longer than without load the longest wait between two frames at the viewer, and
 * the longest event-loop delay, may grow. The event-loop driver fails it by about the length
 * of the lock (2.6 to 3 s measured); on the shared development machine at load 25, with the
 * store on its thread, the frame gap grew by up to 450 ms (camera, viewer and gateway all short
 * of CPU), so 250 ms would flake there.
 */
const MARGIN_MS = 750;
/**
 * How much the event-loop lag p99 may grow over the idle window's: no sustained lag (a store
 * call blocking the loop shows as hundreds of ms). The metric includes its 10 ms sampling
 * interval; at load 25 the windows read 23 to 47 ms idle and 39 to 98 ms loaded.
 */
const P99_MARGIN_MS = 100;

/** A WS-FLV viewer that notes when each video frame arrives. */
function frameClock(url: string): { arrivals: number[]; close: () => void } {
  const arrivals: number[] = [];
  const reader = new FlvTagReader();
  const ws = new WebSocket(url);
  ws.on('message', (data: Buffer) => {
    const now = performance.now();
    for (const tag of reader.push(Buffer.from(data))) if (tag.type === 'video' && tag.avcPacketType === 1) arrivals.push(now);
  });
  return { arrivals, close: () => ws.terminate() };
}

function longestGapMs(arrivals: readonly number[], from: number, to: number): number {
  const inWindow = arrivals.filter((t) => t >= from && t <= to);
  let longest = 0;
  for (let i = 1; i < inWindow.length; i++) longest = Math.max(longest, inWindow[i]! - inWindow[i - 1]!);
  return longest;
}

/** The gateway's event-loop lag since the previous scrape (prom-client resets it at each scrape). */
async function loopLag(gw: GatewayProcess): Promise<{ p99Ms: number; maxMs: number }> {
  const text = await gw.metrics();
  const read = (name: string) => {
    const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    if (m === null) throw new Error(`${name} is not in /metrics`);
    return Number(m[1]) * 1000;
  };
  return { p99Ms: read('psvgw_process_nodejs_eventloop_lag_p99_seconds'), maxMs: read('psvgw_process_nodejs_eventloop_lag_max_seconds') };
}

/** Another process holding the database's write lock (BEGIN IMMEDIATE) for `holdMs`; resolves once it holds it. */
async function holdWriteLock(path: string, holdMs: number): Promise<ChildProcess> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const code = `const D = require(${JSON.stringify(driver)}); const db = new D(${JSON.stringify(path)}, { timeout: 10000 });
db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${holdMs});`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (c) => reject(new Error(`the lock holder exited (${c}) before taking the lock`)));
  });
  return child;
}

/** `sqlite3 <db> .backup` over and over until stopped; resolves with how many backups succeeded. */
function backupLoop(path: string, target: string): { stop: () => Promise<number> } {
  let stopped = false;
  const done = (async () => {
    let ok = 0;
    while (!stopped) {
      const status = await new Promise<number | null>((resolve) => {
        const child = spawn('sqlite3', [path, `.backup ${target}`], { stdio: 'ignore' });
        child.once('exit', resolve);
      });
      if (status === 0) ok++;
      await new Promise((r) => setTimeout(r, BACKUP_PAUSE_MS));
    }
    return ok;
  })();
  return {
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

function seedRegister(path: string, rows: number): void {
  const db = new Database(path, { timeout: 10_000 });
  try {
    const insert = db.prepare(
      `INSERT INTO access_register (method, tier, recorder, retriever, started_at, ended_at, camera_ids, footage_from, footage_to, bytes)
       VALUES ('view_live', 'shared', 'gateway', ?, ?, ?, '["34020000001320000001"]', ?, ?, 1000)`,
    );
    const retriever = JSON.stringify({ username: 'viewer', displayName: null, unit: null, credentialNo: null, staff: [] });
    const at = new Date(Date.now() - 3600_000).toISOString();
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(retriever, at, at, at, at);
    })();
  } finally {
    db.close();
  }
}

describe('the store works off the event loop that serves live video (issue 15)', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let dbPath: string;
  let viewer: { arrivals: number[]; close: () => void };
  const work = mkdtempSync(join(tmpdir(), 'psvgw-storeloop-'));

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('sqlite3', 'apt-get install -y sqlite3');
    camera = await TestCamera.start({ fps: FPS, width: 640, height: 360 });
    // Short segments: the recorder indexes one every 2 s, so the gateway writes while the lock is held.
    gw = await GatewayProcess.start({ configYaml: 'recording:\n  segmentSeconds: 2' });
    dbPath = join(gw.dataDir, 'data', 'psvgw.db');
    cameraId = (await addCamera(gw, camera.url)).id;
    await waitForUp(gw, cameraId, 1, 15_000);
    const urls = await streamUrls(gw, cameraId, ADMIN_TOKEN);
    viewer = frameClock(urls.shared.wsFlv);
    const deadline = Date.now() + 15_000;
    while (viewer.arrivals.length < 2 * FPS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(viewer.arrivals.length, 'frames at the viewer before the test').toBeGreaterThanOrEqual(2 * FPS);
    seedRegister(dbPath, REGISTER_ROWS);
  });

  afterAll(async () => {
    viewer?.close();
    await stopAllGateways();
    await stopAllTestCameras();
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs `load` for WINDOW_MS; what the viewer and the gateway's loop saw in that time. */
  async function measure(load: () => Promise<void>): Promise<{ gapMs: number; frames: number; p99Ms: number; maxMs: number }> {
    await loopLag(gw); // resets the histogram
    const from = performance.now();
    await Promise.all([load(), new Promise((r) => setTimeout(r, WINDOW_MS))]);
    const to = performance.now();
    const lag = await loopLag(gw);
    const frames = viewer.arrivals.filter((t) => t >= from && t <= to).length;
    return { gapMs: longestGapMs(viewer.arrivals, from, to), frames, ...lag };
  }

  it('keeps frames flowing and the loop free during a backup loop, a 3 s write lock, a 10,000-row query and psvgw verify', async () => {
    const idle = await measure(async () => undefined);

    // The copy goes to tmpfs where there is one: the test is about the database's locks, not the disk's bandwidth.
    const backupDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/psvgw-storeloop-') : work;
    const backup = backupLoop(dbPath, join(backupDir, 'backup.db'));
    let wrote = -1;
    let scanned: { status: number; items: number } = { status: 0, items: -1 };
    const verified = { status: null as number | null, output: '' };
    const loaded = await measure(async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const holder = await holdWriteLock(dbPath, LOCK_MS);
      const exited = new Promise((r) => holder.once('exit', r));
      // A write through the API waits for the lock (in the store's thread) while video flows.
      const patched = gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { name: 'Renamed under lock' });
      // A 10,000-row scan in the store: the register filtered by a camera no row names (LIKE, no index).
      // Its answer is small on purpose: rendering 10,000 rows as JSON is the route's work, not the store's.
      const register = gw
        .api<{ items: unknown[] }>('GET', '/api/v1/access-register?cameraId=34020000001329999999')
        .then((r) => (scanned = { status: r.status, items: r.body.items.length }));
      const verify = runCli(['verify', '--config', join(gw.dataDir, 'gateway.yaml')], {
        env: { PSVGW_DATA_DIR: join(gw.dataDir, 'data') },
      }).then((r) => Object.assign(verified, { status: r.status, output: r.stdout + r.stderr }));
      wrote = (await patched).status;
      await Promise.all([register, verify, exited]);
    });
    const backups = await backup.stop();
    if (backupDir !== work) rmSync(backupDir, { recursive: true, force: true });

    console.log(
      `idle: longest frame gap ${idle.gapMs.toFixed(0)} ms, ${idle.frames} frames, loop lag p99 ${idle.p99Ms.toFixed(1)} ms, max ${idle.maxMs.toFixed(1)} ms; ` +
        `loaded: longest frame gap ${loaded.gapMs.toFixed(0)} ms, ${loaded.frames} frames, loop lag p99 ${loaded.p99Ms.toFixed(1)} ms, max ${loaded.maxMs.toFixed(1)} ms; ` +
        `${backups} backups, verify exit ${verified.status}`,
    );
    expect(wrote).toBe(200);
    expect(scanned).toEqual({ status: 200, items: 0 });
    expect(backups).toBeGreaterThan(0);
    expect(verified.status, verified.output).toBe(0);

    expect(loaded.gapMs).toBeLessThanOrEqual(idle.gapMs + MARGIN_MS);
    expect(loaded.maxMs).toBeLessThanOrEqual(idle.maxMs + MARGIN_MS);
    expect(loaded.p99Ms).toBeLessThanOrEqual(idle.p99Ms + P99_MARGIN_MS);
    expect(loaded.frames).toBeGreaterThanOrEqual(idle.frames * 0.8);
  });
});
