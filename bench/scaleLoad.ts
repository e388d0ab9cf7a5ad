import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { FlvPacketType, FlvTagReader, FlvVideoCodec } from '../src/media/index.js';
import type { CameraFleet } from './cameraFleet.js';
import type { BenchGateway } from './gateway.js';
import { progress } from './progress.js';
import { percentile, round, sleep } from './stats.js';

/**
 * The load and the probes of the scale and soak phases: FLV viewers that count
 * frames, an API sampler, the event-loop lag read from /metrics, and `psvgw verify`
 * run over and over, as an operator checking the archive would.
 */

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const ADD_CONCURRENCY = 8;
export const LIST_PATH = '/api/v1/cameras';

export interface Cam {
  id: string;
  index: number;
}

/** Adds fleet mounts `from`…`to-1` (0-based) through the API, a few at a time, with progress lines. */
export async function addCameras(
  gw: BenchGateway,
  fleet: CameraFleet,
  from: number,
  to: number,
  cams: Cam[],
  phase: string,
): Promise<void> {
  let next = from;
  let done = 0;
  const total = to - from;
  const step = Math.max(1, Math.round(total / 10));
  const worker = async () => {
    while (next < to) {
      const index = next++;
      const id = await gw.addCamera(`${phase}-${index + 1}`, fleet.urls[index] as string);
      cams.push({ id, index });
      done += 1;
      if (done % step === 0 || done === total) progress(`${phase}: added ${done}/${total} cameras`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ADD_CONCURRENCY, total) }, worker));
  cams.sort((a, b) => a.index - b.index);
}

interface ListPage {
  items: { id: string; status: { state: string } }[];
  total: number;
}

export async function cameraStates(gw: BenchGateway, count: number): Promise<Record<string, number>> {
  const page = await gw.api<ListPage>('GET', `${LIST_PATH}?limit=${Math.max(count, 1)}`);
  const states: Record<string, number> = {};
  for (const c of page.items) states[c.status.state] = (states[c.status.state] ?? 0) + 1;
  return states;
}

export async function waitAllLive(gw: BenchGateway, count: number, timeoutMs: number, phase = 'scale'): Promise<number | null> {
  const started = performance.now();
  let lastReport = 0;
  for (;;) {
    const states = await cameraStates(gw, count);
    if ((states.live ?? 0) >= count) return (performance.now() - started) / 1000;
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(`${phase}: ${states.live ?? 0}/${count} live (${JSON.stringify(states)})`);
    }
    if (performance.now() - started > timeoutMs) return null;
    await sleep(1000);
  }
}

/** Counts the video frames (AVC NALU tags) of one HTTP-FLV or WS-FLV viewer. */
export class FlvFrameCounter {
  frames = 0;
  error: string | null = null;
  private readonly reader = new FlvTagReader();
  private readonly close: () => void;

  constructor(
    readonly protocol: 'http-flv' | 'ws-flv',
    url: string,
  ) {
    if (protocol === 'http-flv') {
      const req = request(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) this.error = `HTTP ${res.statusCode}`;
        res.on('data', (c: Buffer) => this.onData(c));
      });
      req.on('error', (err) => (this.error = err.message));
      req.end();
      this.close = () => req.destroy();
    } else {
      const ws = new WebSocket(url);
      ws.on('message', (data: Buffer) => this.onData(data));
      ws.on('error', (err) => (this.error = err.message));
      this.close = () => ws.terminate();
    }
  }

  private onData(chunk: Buffer): void {
    try {
      for (const tag of this.reader.push(chunk)) {
        if (tag.type === 'video' && tag.codecId === FlvVideoCodec.AVC && tag.avcPacketType === FlvPacketType.NALU) this.frames += 1;
      }
    } catch (err) {
      this.error = (err as Error).message;
      this.close();
    }
  }

  stop(): void {
    this.close();
  }
}

export interface LagSample {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const LAG_METRIC = 'psvgw_process_nodejs_eventloop_lag';
/**
 * prom-client's default eventLoopMonitoringPrecision. monitorEventLoopDelay records the
 * whole interval between its timer's runs, so an idle loop reads this much; the lag is
 * what lies beyond it.
 */
export const LAG_RESOLUTION_MS = 10;

function sampleValue(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * The gateway's event-loop lag since the previous scrape: prom-client's default
 * metrics (perf_hooks.monitorEventLoopDelay, 10 ms resolution) reset their histogram
 * on every collect, so each scrape covers the time since the one before.
 */
export async function scrapeLag(gw: BenchGateway): Promise<LagSample | null> {
  const text = await gw.metricsText();
  const p50 = sampleValue(text, `${LAG_METRIC}_p50_seconds`);
  const p99 = sampleValue(text, `${LAG_METRIC}_p99_seconds`);
  const max = sampleValue(text, `${LAG_METRIC}_max_seconds`);
  if (p50 === null || p99 === null || max === null) return null;
  const lagMs = (seconds: number) => Math.max(0, seconds * 1000 - LAG_RESOLUTION_MS);
  return { p50Ms: lagMs(p50), p99Ms: lagMs(p99), maxMs: lagMs(max) };
}

export interface LagSummary {
  /** Scrapes in the window, each covering the seconds since the one before. */
  scrapes: number;
  /** Median of the scrapes' p50, and the worst scrape's p99 and max (ms). */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export function summarizeLag(samples: readonly LagSample[]): LagSummary {
  return {
    scrapes: samples.length,
    p50Ms: round(
      percentile(
        samples.map((s) => s.p50Ms),
        50,
      ),
      2,
    ),
    p99Ms: round(samples.length ? Math.max(...samples.map((s) => s.p99Ms)) : null, 2),
    maxMs: round(samples.length ? Math.max(...samples.map((s) => s.maxMs)) : null, 2),
  };
}

export interface ApiLatency {
  requests: number;
  failures: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Repeats an authenticated `GET path` (one at a time, `pauseMs` apart) until `until`; wall time per call. */
export async function sampleApi(gw: BenchGateway, path: string, until: number, pauseMs = 200): Promise<ApiLatency> {
  const times: number[] = [];
  let failures = 0;
  while (performance.now() < until) {
    const t0 = performance.now();
    try {
      const res = await gw.request('GET', path);
      if (res.status === 200) times.push(performance.now() - t0);
      else failures += 1;
    } catch {
      failures += 1;
    }
    await sleep(pauseMs);
  }
  return {
    requests: times.length + failures,
    failures,
    p50Ms: round(percentile(times, 50), 1),
    p99Ms: round(percentile(times, 99), 1),
    maxMs: round(times.length ? Math.max(...times) : null, 1),
  };
}

export interface VerifyLoad {
  runs: number;
  /** Runs that exited non-zero (e.g. a segment being written is not yet in the chain). */
  nonZeroExits: number;
  /** The end of the last failing run's stdout (its JSON report) and stderr. */
  lastFailure: string;
}

/** Runs `psvgw verify --json` against the gateway's data, one run after the other, until `until`. */
export async function runVerifyLoop(gw: BenchGateway, until: number): Promise<VerifyLoad> {
  const out: VerifyLoad = { runs: 0, nonZeroExits: 0, lastFailure: '' };
  while (performance.now() < until) {
    const child: ChildProcess = spawn(process.execPath, [CLI, 'verify', '--config', join(gw.dataDir, 'gateway.yaml'), '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PSVGW_DATA_DIR: join(gw.dataDir, 'data') },
    });
    let output = '';
    const keep = (s: string) => (output = (output + s).slice(-1000));
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.once('error', () => resolve(-1));
    });
    out.runs += 1;
    if (code !== 0) {
      out.nonZeroExits += 1;
      out.lastFailure = `exit ${code}: ${output.trim()}`;
    }
  }
  return out;
}
