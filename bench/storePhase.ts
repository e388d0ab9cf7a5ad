import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BenchCamera } from './camera.js';
import { BenchGateway } from './gateway.js';
import { CLI_PATH } from './launcher.js';
import type { BenchOptions } from './options.js';
import { attempt, progress } from './progress.js';
import { round, sleep } from './stats.js';

/** The gateway's event-loop lag over one window (the metric includes its 10 ms sampling interval). */
export interface LoopLag {
  p99Ms: number | null;
  maxMs: number | null;
}

export interface StoreLagDriver {
  /** Recording one camera, nothing else running. */
  alone: LoopLag;
  /** The same while `psvgw verify` runs again and again (another process, its own connection). */
  withVerify: LoopLag & { verifyRuns: number };
}

export interface StoreLagResults {
  errors: string[];
  /** SQLite on its worker thread (the default). */
  worker: StoreLagDriver | null;
  /** SQLite on the event loop (`store.sqliteWorker: false`), in the same run. */
  eventLoop: StoreLagDriver | null;
}

/**
 * Event-loop lag p99 with and without a concurrent `psvgw verify`, for the store on its worker
 * thread and on the event loop: a gateway recording one camera in 2 s segments, so the
 * recorder writes to the store while verify reads it and hashes the files.
 */
export async function storePhase(o: BenchOptions): Promise<StoreLagResults> {
  const r: StoreLagResults = { errors: [], worker: null, eventLoop: null };
  const windowMs = (o.quick ? 5 : 15) * 1000;
  const camera = await BenchCamera.start(o.camera);
  try {
    for (const worker of [true, false]) {
      await attempt(r.errors, `store lag (${worker ? 'worker thread' : 'event loop'})`, async () => {
        progress(`store: loop lag, SQLite on ${worker ? 'its worker thread' : 'the event loop'}, with and without psvgw verify`);
        const gw = await BenchGateway.start(`recording:\n  segmentSeconds: 2\nstore:\n  sqliteWorker: ${worker}\n`);
        try {
          const id = await gw.addCamera('store bench', camera.url);
          if ((await gw.waitUp(id, 1, 30_000)) === null) throw new Error(`camera not up within 30 s:\n${gw.logTail()}`);
          await sleep((o.quick ? 5 : 20) * 1000); // a few segments for verify to read and hash
          const alone = await lagOver(gw, windowMs, async () => undefined);
          let verifyRuns = 0;
          let stop = false;
          const withVerify = await lagOver(gw, windowMs, async () => {
            const env = { PSVGW_DATA_DIR: join(gw.dataDir, 'data') };
            const loop = (async () => {
              while (!stop) {
                await runVerify(join(gw.dataDir, 'gateway.yaml'), env);
                verifyRuns++;
              }
            })();
            await sleep(windowMs);
            stop = true;
            await loop;
          });
          const driver = { alone, withVerify: { ...withVerify, verifyRuns } };
          if (worker) r.worker = driver;
          else r.eventLoop = driver;
        } finally {
          await gw.stop();
        }
      });
    }
  } finally {
    await camera.stop();
  }
  return r;
}

/** prom-client resets the lag histogram at each scrape: scrape, run `load` for the window, scrape again. */
async function lagOver(gw: BenchGateway, windowMs: number, load: () => Promise<void>): Promise<LoopLag> {
  await gw.metricsText();
  await Promise.all([load(), sleep(windowMs)]);
  const text = await gw.metricsText();
  const read = (name: string) => {
    const m = new RegExp(`^psvgw_process_nodejs_eventloop_lag_${name}_seconds ([0-9.e+-]+)$`, 'm').exec(text);
    return m === null ? null : round(Number(m[1]) * 1000, 1);
  };
  return { p99Ms: read('p99'), maxMs: read('max') };
}

/** One `psvgw verify` as a user runs it next to the gateway; its verdict does not matter here. */
function runVerify(config: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, 'verify', '--config', config, '--json'], {
      stdio: 'ignore',
      env: { ...process.env, ...env },
    });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}
