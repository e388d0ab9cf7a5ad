import { loadavg } from 'node:os';
import { startCameraFleet, type CameraFleet } from './cameraFleet.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { attempt, progress } from './progress.js';
import {
  ADD_CONCURRENCY,
  addCameras,
  cameraStates,
  FlvFrameCounter,
  LIST_PATH,
  waitAllLive,
  type Cam,
  runVerifyLoop,
  sampleApi,
  scrapeLag,
  summarizeLag,
  type ApiLatency,
  type LagSample,
  type LagSummary,
  type VerifyLoad,
} from './scaleLoad.js';
import { round, sleep, summarize, type Summary } from './stats.js';

/**
 * The scale phase: N copy-mode cameras from the camera fleet through one gateway with
 * recording on, one viewer per ten cameras; over a window: every camera live, the
 * viewers' frame rate against the cameras', the event-loop lag, the camera list's
 * latency, the gateway's CPU and memory; then the same with `psvgw verify` running.
 * When N does not fit, the count steps down (cameras removed through the API) until
 * one does.
 */

export const SCALE_TARGETS = {
  eventLoopLagP99Ms: 20,
  apiListP99Ms: 50,
  /** A viewer's frame rate at or above this share of the camera's counts as no drop. */
  viewerFpsShare: 0.95,
} as const;

const FLEET_FPS = 25;
const FLEET_KBPS = 500;

export interface ScaleWindow {
  seconds: number;
  cameras: number;
  live: number;
  states: Record<string, number>;
  viewers: number;
  /** Frames per second at each viewer over the window; the cameras send FLEET_FPS. */
  viewerFps: Summary;
  viewerErrors: string[];
  eventLoopLag: LagSummary;
  apiList: ApiLatency;
  /** The gateway's process tree (node + its ffmpegs). */
  gateway: TreeUsage;
  /** The camera fleet's server, for comparison (not part of the gateway's figures). */
  fleetCpuPct: number | null;
  /** The machine's 1-minute load average at the window's end (other work on the machine shows here). */
  loadAverage: number;
  verify?: VerifyLoad;
}

type Check = 'pass' | 'fail' | 'not measured';

export interface ScaleStep {
  cameras: number;
  /** Time to add the cameras through the API (each probed by the gateway). */
  addSeconds: number | null;
  /** From the first add to every camera live, or null when they were not all live by the deadline. */
  allLiveSeconds: number | null;
  window?: ScaleWindow;
  withVerify?: ScaleWindow;
  checks: Record<string, Check>;
  fits: boolean;
  /** The checks that failed, in words. */
  limitedBy: string[];
}

export interface ScaleResults {
  requestedCameras: number;
  camera: { width: number; height: number; fps: number; bitrateKbps: number; source: string };
  viewersPerCamera: string;
  targets: typeof SCALE_TARGETS;
  steps: ScaleStep[];
  /** The largest count whose every check passed, or null. */
  largestFitting: number | null;
  verdicts: Record<string, Check>;
  errors: string[];
}

async function openViewers(gw: BenchGateway, cams: readonly Cam[]): Promise<FlvFrameCounter[]> {
  const viewers: FlvFrameCounter[] = [];
  for (let i = 0; i < cams.length; i += 10) {
    const play = (await gw.streams((cams[i] as Cam).id)).shared;
    viewers.push(viewers.length % 2 === 0 ? new FlvFrameCounter('http-flv', play.httpFlv) : new FlvFrameCounter('ws-flv', play.wsFlv));
  }
  return viewers;
}

/** One measurement window over the running gateway, optionally with `psvgw verify` running throughout. */
async function measureWindow(
  gw: BenchGateway,
  fleet: CameraFleet,
  count: number,
  viewers: readonly FlvFrameCounter[],
  seconds: number,
  withVerify: boolean,
): Promise<ScaleWindow> {
  // A scrape now starts the first lag interval at the window's start.
  await scrapeLag(gw);
  const framesBefore = viewers.map((v) => v.frames);
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const lag: LagSample[] = [];
  const lagLoop = (async () => {
    while (performance.now() < until) {
      await sleep(Math.min(5000, Math.max(0, until - performance.now())));
      const s = await scrapeLag(gw).catch(() => null);
      if (s) lag.push(s);
    }
  })();
  const [gateway, fleetUsage, apiList, verify] = await Promise.all([
    measureTree([gw.pid], seconds, 2000),
    fleet.pid === undefined ? Promise.resolve(null) : measureTree([fleet.pid], seconds, 2000),
    sampleApi(gw, LIST_PATH, until),
    withVerify ? runVerifyLoop(gw, until) : Promise.resolve(undefined),
  ]);
  await lagLoop;
  const wall = (performance.now() - t0) / 1000;
  const fps = viewers.map((v, i) => (v.frames - (framesBefore[i] as number)) / wall);
  const states = await cameraStates(gw, count);
  return {
    seconds: round(wall, 1) as number,
    cameras: count,
    live: states.live ?? 0,
    states,
    viewers: viewers.length,
    viewerFps: summarize(fps, 2),
    viewerErrors: viewers.filter((v) => v.error).map((v) => `${v.protocol}: ${v.error}`),
    eventLoopLag: summarizeLag(lag),
    apiList,
    gateway,
    fleetCpuPct: fleetUsage?.cpuPct ?? null,
    loadAverage: round(loadavg()[0], 2) as number,
    ...(verify ? { verify } : {}),
  };
}

const atMost = (value: number | null, max: number): Check => (value === null ? 'not measured' : value <= max ? 'pass' : 'fail');

function judge(step: ScaleStep): void {
  const w = step.window;
  const v = step.withVerify;
  const minFps = FLEET_FPS * SCALE_TARGETS.viewerFpsShare;
  step.checks = {
    allLive:
      step.allLiveSeconds !== null && w !== undefined && w.live === step.cameras && (v === undefined || v.live === step.cameras)
        ? 'pass'
        : 'fail',
    viewerFrameRate:
      w?.viewerFps.min == null ? 'not measured' : w.viewerFps.min >= minFps && (v?.viewerFps.min ?? minFps) >= minFps ? 'pass' : 'fail',
    eventLoopLagP99: atMost(w?.eventLoopLag.p99Ms ?? null, SCALE_TARGETS.eventLoopLagP99Ms),
    apiListP99: atMost(w?.apiList.p99Ms ?? null, SCALE_TARGETS.apiListP99Ms),
    eventLoopLagP99WithVerify: atMost(v?.eventLoopLag.p99Ms ?? null, SCALE_TARGETS.eventLoopLagP99Ms),
  };
  const words: Record<string, string> = {
    allLive: `not every camera live (${w ? `${w.live}/${step.cameras}` : 'none measured'}: ${JSON.stringify(w?.states ?? {})})`,
    viewerFrameRate: `viewer frame rate below ${minFps} fps (min ${w?.viewerFps.min ?? '–'}, with verify ${v?.viewerFps.min ?? '–'})`,
    eventLoopLagP99: `event-loop lag p99 ${w?.eventLoopLag.p99Ms ?? '–'} ms > ${SCALE_TARGETS.eventLoopLagP99Ms} ms`,
    apiListP99: `GET ${LIST_PATH} p99 ${w?.apiList.p99Ms ?? '–'} ms > ${SCALE_TARGETS.apiListP99Ms} ms`,
    eventLoopLagP99WithVerify: `event-loop lag p99 with psvgw verify ${v?.eventLoopLag.p99Ms ?? '–'} ms > ${SCALE_TARGETS.eventLoopLagP99Ms} ms`,
  };
  step.limitedBy = Object.entries(step.checks)
    .filter(([, c]) => c !== 'pass')
    .map(([k]) => words[k] as string);
  const cpu = w?.gateway.cpuPct;
  if (step.limitedBy.length > 0 && cpu !== undefined)
    step.limitedBy.push(
      `(gateway tree at ${cpu}% of one core, fleet ${w?.fleetCpuPct ?? '–'}%, machine load average ${w?.loadAverage ?? '–'})`,
    );
  step.fits = step.limitedBy.length === 0;
}

/** The next count to try after `n` did not fit and nothing smaller has been tried; null when there is none. */
export function stepDown(n: number): number | null {
  if (n <= 10) return null;
  return Math.max(10, Math.floor((n * 0.7) / 10) * 10);
}

/** Tries between a count that fits and one that does not, at most this many times. */
const MAX_REFINEMENTS = 2;

/** A round count between `fits` and `fails` (multiples of 10, or 5 when they are close), or null. */
export function between(fits: number, fails: number): number | null {
  const grain = fails - fits > 20 ? 10 : 5;
  const mid = Math.round((fits + fails) / 2 / grain) * grain;
  return mid > fits && mid < fails ? mid : null;
}

export async function scalePhase(o: BenchOptions): Promise<ScaleResults> {
  const requested = o.scale.cameras;
  const results: ScaleResults = {
    requestedCameras: requested,
    camera: {
      width: 640,
      height: 360,
      fps: FLEET_FPS,
      bitrateKbps: FLEET_KBPS,
      source:
        'camera fleet (tests/fixtures/rtsp_fleet.py): one GStreamer RTSP server, one mount per camera, a pre-encoded 4 s H.264 loop, no encoding',
    },
    viewersPerCamera:
      'one viewer per ten cameras (cameras 1, 11, 21, …), alternately HTTP-FLV and WS-FLV on the shared tier, frames counted in the bench process',
    targets: SCALE_TARGETS,
    steps: [],
    largestFitting: null,
    verdicts: {},
    errors: [],
  };
  const W = o.scale.windowSeconds;
  progress(`scale: starting a camera fleet of ${requested} mounts`);
  const fleet = await startCameraFleet({ count: requested, fps: FLEET_FPS, bitrateKbps: FLEET_KBPS });
  let gw: BenchGateway | null = null;
  let viewers: FlvFrameCounter[] = [];
  try {
    // Recording with the defaults (60 s segments), as a deployment runs.
    gw = await BenchGateway.start('recording:\n  enabled: true\n');
    const cams: Cam[] = [];
    let count: number | null = requested;
    let smallestFailing: number | null = null;
    let refinements = 0;
    while (count !== null) {
      const n: number = count;
      const step: ScaleStep = { cameras: n, addSeconds: null, allLiveSeconds: null, checks: {}, fits: false, limitedBy: [] };
      results.steps.push(step);
      await attempt(results.errors, `scale ${n} cameras`, async () => {
        const g = gw as BenchGateway;
        const started = performance.now();
        if (cams.length < n) {
          progress(`scale: adding ${n - cams.length} cameras through the API (${ADD_CONCURRENCY} at a time, each probed)`);
          await addCameras(g, fleet, cams.length, n, cams, 'scale');
          step.addSeconds = round((performance.now() - started) / 1000, 1);
        }
        while (cams.length > n) await g.removeCamera((cams.pop() as Cam).id);
        const liveWithin = await waitAllLive(g, n, 60_000 + n * 500);
        step.allLiveSeconds = liveWithin === null ? null : round((performance.now() - started) / 1000, 1);
        viewers.forEach((v) => v.stop());
        viewers = await openViewers(g, cams);
        await sleep(o.warmupSeconds * 1000 + 2000);
        progress(`scale: ${n} cameras, ${viewers.length} viewers: measuring ${W} s`);
        step.window = await measureWindow(g, fleet, n, viewers, W, false);
        progress(
          `scale: ${n} cameras: ${step.window.live} live, lag p99 ${step.window.eventLoopLag.p99Ms} ms, list p99 ${step.window.apiList.p99Ms} ms, viewer fps min ${step.window.viewerFps.min}, gateway CPU ${step.window.gateway.cpuPct}%`,
        );
        progress(`scale: ${n} cameras with psvgw verify running: measuring ${W} s`);
        step.withVerify = await measureWindow(g, fleet, n, viewers, W, true);
        progress(
          `scale: ${n} cameras + verify (${step.withVerify.verify?.runs} runs): lag p99 ${step.withVerify.eventLoopLag.p99Ms} ms, viewer fps min ${step.withVerify.viewerFps.min}`,
        );
      });
      judge(step);
      if (step.fits) results.largestFitting = Math.max(results.largestFitting ?? 0, n);
      else {
        smallestFailing = Math.min(smallestFailing ?? n, n);
        progress(`scale: ${n} cameras do not fit: ${step.limitedBy.join('; ')}`);
      }
      // Down in big steps until a count fits, then a couple of steps back up towards the first that did not.
      if (results.largestFitting === null) count = stepDown(n);
      else if (smallestFailing === null || refinements >= MAX_REFINEMENTS) count = null;
      else {
        count = between(results.largestFitting, smallestFailing);
        refinements += 1;
      }
    }
  } finally {
    viewers.forEach((v) => v.stop());
    await gw?.stop();
    await fleet.stop();
  }
  const first = results.steps[0];
  results.verdicts = {
    [`all ${requested} cameras fit (all live, no frame-rate drop, lag p99 ≤ ${SCALE_TARGETS.eventLoopLagP99Ms} ms, list p99 ≤ ${SCALE_TARGETS.apiListP99Ms} ms, also with verify)`]:
      first?.fits ? 'pass' : 'fail',
    ...Object.fromEntries(Object.entries(first?.checks ?? {}).map(([k, c]) => [`${requested} cameras: ${k}`, c])),
  };
  return results;
}
