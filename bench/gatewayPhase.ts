import { readFileSync } from 'node:fs';
import { STALL_LEARN_MS } from '../src/pipeline/index.js';
import { roundRobin, startBareIngest } from './bareFfmpeg.js';
import type { BenchCamera } from './camera.js';
import { nowMs } from './children.js';
import { FlvViewer } from './firstFrame.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { attempt, progress } from './progress.js';
import { pollUntil, sleep } from './stats.js';
import {
  measureFirstFrame,
  measureGapTolerance,
  measureLatency,
  type FirstFrameResult,
  type GapTolerance,
  type LatencyResult,
} from './viewers.js';

export interface RecoveryTrials {
  /** Camera killed → psvgw_camera_up 0, ms. */
  darkAfterKillMs: number[];
  /** Camera's READY line after restart → psvgw_camera_up 1, ms. */
  upAfterRestartMs: number[];
  /** Camera's READY line → first video tag at a viewer that stayed connected through the outage, ms. */
  viewerAfterRestartMs: number[];
  /** Camera frozen (SIGSTOP, sockets open) → psvgw_camera_up 0, ms. */
  darkAfterFreezeMs: number[];
  /** Frozen camera resumed → psvgw_camera_up 1, ms. */
  upAfterThawMs: number[];
  failures: string[];
}

/** One window in which the gateway's tree and the bare ffmpegs were measured at the same time. */
export interface PairedWindow {
  gateway: TreeUsage;
  bare: TreeUsage;
}

export interface GatewayResults {
  errors: string[];
  idle?: TreeUsage;
  one?: TreeUsage;
  many?: TreeUsage;
  /** The large case: `largeCameras` copy-mode cameras (see BenchOptions). */
  large?: TreeUsage;
  /** The large case again, side by side with bare ffmpeg pulling the same cameras (see pairedWindows). */
  largePaired?: PairedWindow[];
  /** read(2) calls/s of the gateway's own process (its threads, not its ffmpegs) in the multi-camera window, no viewer. */
  manyReadsPerSecond?: number;
  /** The same in the large case's window. */
  largeReadsPerSecond?: number;
  /** POST /cameras → psvgw_camera_up 1, ms, per camera. */
  addToUpMs: number[];
  latency?: LatencyResult;
  firstFrame?: FirstFrameResult;
  gapTolerance?: GapTolerance;
  recovery: RecoveryTrials;
  h265?: TreeUsage & { addToUpMs: number | null };
}

/** read-like system calls the process has made (`syscr` of /proc/PID/io: all its threads). */
function readCalls(pid: number): number {
  const match = /^syscr:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return Number(match?.[1] ?? NaN);
}

/** The tree's usage over `seconds`, and the read calls/s of the process `pid` itself meanwhile. */
async function measureWithReads(pid: number, seconds: number): Promise<[TreeUsage, number]> {
  const reads = readCalls(pid);
  const at = nowMs();
  const usage = await measureTree([pid], seconds);
  const perSecond = Math.round(((readCalls(pid) - reads) * 1000) / (nowMs() - at));
  progress(`gateway: ${perSecond} read calls/s in the gateway process`);
  return [usage, perSecond];
}

async function addAndWait(gw: BenchGateway, name: string, url: string, results: GatewayResults): Promise<string> {
  const started = nowMs();
  const id = await gw.addCamera(name, url);
  const took = await gw.waitUp(id, 1, 30_000, 100);
  if (took === null) throw new Error(`camera ${name} not up within 30 s:\n${gw.logTail()}`);
  results.addToUpMs.push(nowMs() - started);
  return id;
}

/** Everything measured through the gateway, in one gateway process. */
export async function gatewayPhase(
  cameras: readonly BenchCamera[],
  h265Camera: () => Promise<BenchCamera>,
  o: BenchOptions,
): Promise<GatewayResults> {
  const results: GatewayResults = {
    errors: [],
    addToUpMs: [],
    recovery: {
      darkAfterKillMs: [],
      upAfterRestartMs: [],
      viewerAfterRestartMs: [],
      darkAfterFreezeMs: [],
      upAfterThawMs: [],
      failures: [],
    },
  };
  const gw = await BenchGateway.start();
  const ids: string[] = [];
  const W = o.cpuWindowSeconds;
  try {
    await attempt(results.errors, 'gateway idle', async () => {
      progress(`gateway: idle (0 cameras), ${W} s`);
      await sleep(o.warmupSeconds * 1000);
      results.idle = await measureTree([gw.pid], W);
    });
    const first = cameras[0] as BenchCamera;
    await attempt(results.errors, 'gateway 1 camera', async () => {
      ids.push(await addAndWait(gw, 'bench-1', first.url, results));
      progress(`gateway: 1 copy-mode camera, ${W} s`);
      await sleep(o.warmupSeconds * 1000);
      results.one = await measureTree([gw.pid], W);
    });
    await attempt(results.errors, `gateway ${cameras.length} cameras`, async () => {
      // One at a time (as below): each POST probes its camera with ffprobe, and 15 probes at once
      // beside 16 test cameras on two cores outlast the gateway's 10 s probe limit.
      for (const [i, cam] of cameras.slice(1).entries()) ids.push(await addAndWait(gw, `bench-${i + 2}`, cam.url, results));
      progress(`gateway: ${cameras.length} copy-mode cameras, ${W} s`);
      await sleep(o.warmupSeconds * 1000);
      [results.many, results.manyReadsPerSecond] = await measureWithReads(gw.pid, W);
      const down = (await Promise.all(ids.map((id) => gw.cameraUp(id)))).filter((v) => v !== 1).length;
      if (down > 0) throw new Error(`${down} camera(s) not up at the end of the window`);
    });
    const id1 = ids[0];
    if (id1 === undefined) return results;
    const play = (await gw.streams(id1)).shared;
    await attempt(results.errors, 'gateway latency', async () => {
      progress(`gateway: live latency, camera read directly and through HTTP-FLV / WS-FLV for ${o.latencySeconds} s`);
      results.latency = await measureLatency(first.url, play, o.latencySeconds, o.latencyWarmupMs, true);
    });
    await attempt(results.errors, 'gateway first frame', async () => {
      progress(`gateway: time to first frame, ${o.firstFrameRequests} viewers per protocol`);
      results.firstFrame = await measureFirstFrame(play, o.firstFrameRequests);
    });
    await attempt(results.errors, 'gateway recovery', () => recoveryTrials(gw, id1, first, play.httpFlv, o, results.recovery));
    await attempt(results.errors, 'gateway RTP gap', async () => {
      progress('gateway: a second client joins the camera (one RTP sequence gap at the ingest)');
      results.gapTolerance = await measureGapTolerance(play.httpFlv, first.url);
    });
    // Last of the copy-mode cases: the ends of its extra sessions once left a GStreamer test camera
    // serving a stream no new client could decode (no latency or first-frame figure that run), so
    // those and the recovery figures come first, with the multi-camera case's load as before.
    if (o.largeCameras > 0)
      await attempt(results.errors, `gateway ${o.largeCameras} cameras`, async () => {
        const extra: string[] = [];
        try {
          // One at a time, as above.
          for (let i = 0; ids.length + extra.length < o.largeCameras; i++) {
            const cam = cameras[i % cameras.length] as BenchCamera;
            extra.push(await addAndWait(gw, `bench-${ids.length + extra.length + 1}`, cam.url, results));
          }
          progress(`gateway: ${o.largeCameras} copy-mode cameras (pulled from ${cameras.length} test cameras), ${W} s`);
          await sleep(o.warmupSeconds * 1000);
          [results.large, results.largeReadsPerSecond] = await measureWithReads(gw.pid, W);
          const all = [...ids, ...extra];
          const allUp = async () => {
            const down = (await Promise.all(all.map((id) => gw.cameraUp(id)))).filter((v) => v !== 1).length;
            if (down > 0) throw new Error(`${down} camera(s) not up at the end of the window`);
          };
          await allUp();
          results.largePaired = await pairedWindows(gw, roundRobin(cameras, o.largeCameras), o);
          await allUp();
        } finally {
          for (const id of extra) await gw.removeCamera(id);
        }
      });
    await attempt(results.errors, 'gateway H.265', async () => {
      for (const id of ids) await gw.removeCamera(id);
      const cam = await h265Camera();
      const started = nowMs();
      const id = await gw.addCamera('bench-h265', cam.url);
      const took = await gw.waitUp(id, 1, 40_000, 100);
      if (took === null) throw new Error(`H.265 camera not up within 40 s:\n${gw.logTail()}`);
      const addToUpMs = Math.round(nowMs() - started);
      progress(`gateway: 1 H.265 camera (live tiers transcoded to H.264), ${W} s`);
      await sleep(o.warmupSeconds * 1000);
      results.h265 = { ...(await measureTree([gw.pid], W)), addToUpMs };
      await gw.removeCamera(id);
    });
  } finally {
    progress('gateway: stopping');
    await gw.stop();
  }
  return results;
}

/**
 * The gateway's cameras and bare ffmpegs pulling the same cameras, measured in the same windows
 * (`pairedWindows` of them): load, CPU frequency and the test cameras' pacing then vary for both
 * alike, which windows taken minutes apart do not (their ratio moved by ±20 % between runs).
 */
async function pairedWindows(gw: BenchGateway, cameras: readonly BenchCamera[], o: BenchOptions): Promise<PairedWindow[]> {
  const bare = await startBareIngest(cameras);
  try {
    await sleep(o.warmupSeconds * 1000);
    const windows: PairedWindow[] = [];
    for (let i = 1; i <= o.pairedWindows; i++) {
      progress(
        `gateway and bare ffmpeg side by side, ${cameras.length} pulls each, window ${i}/${o.pairedWindows}, ${o.cpuWindowSeconds} s`,
      );
      const [gateway, bareUsage] = await Promise.all([
        measureTree([gw.pid], o.cpuWindowSeconds),
        measureTree(bare.pids, o.cpuWindowSeconds),
      ]);
      bare.checkRunning();
      windows.push({ gateway, bare: bareUsage });
    }
    return windows;
  } finally {
    await bare.stop();
  }
}

/** Past the learning period before a freeze: the up poll's lag and the first progress report's. */
const FREEZE_MARGIN_MS = 1000;

async function recoveryTrials(
  gw: BenchGateway,
  id: string,
  camera: BenchCamera,
  viewerUrl: string,
  o: BenchOptions,
  r: RecoveryTrials,
): Promise<void> {
  /** When the camera's current run was last seen up: its stall judge learns the frame interval from then. */
  let upAt = nowMs();
  for (let trial = 1; trial <= o.recoveryTrials; trial++) {
    progress(`gateway: recovery trial ${trial}/${o.recoveryTrials}: camera killed, off ${o.cameraOffMs} ms, restarted on its port`);
    const viewer = new FlvViewer(viewerUrl);
    try {
      await sleep(1000);
      const killedAt = nowMs();
      await camera.kill();
      const dark = await gw.waitUp(id, 0, 15_000, 25);
      if (dark === null) r.failures.push(`trial ${trial}: psvgw_camera_up still 1 15 s after the kill`);
      else r.darkAfterKillMs.push(nowMs() - killedAt);
      await sleep(Math.max(0, killedAt + o.cameraOffMs - nowMs()));
      const readyAt = await camera.launch();
      const up = await gw.waitUp(id, 1, 30_000, 25);
      upAt = nowMs();
      if (up === null) r.failures.push(`trial ${trial}: psvgw_camera_up not back to 1 within 30 s`);
      else r.upAfterRestartMs.push(upAt - readyAt);
      await pollUntil(() => viewer.firstVideoAfter(readyAt) !== null, 10_000, 50);
      const seen = viewer.firstVideoAfter(readyAt);
      if (seen === null) r.failures.push(`trial ${trial}: the viewer saw no video after the restart`);
      else r.viewerAfterRestartMs.push(seen - readyAt);
    } finally {
      viewer.close();
    }
    await sleep(1000);
  }
  for (let trial = 1; trial <= o.freezeTrials; trial++) {
    // A run younger than the stall judge's learning period is judged by ingest.stallSeconds (the cap), not by
    // its frame interval: the freeze comes once the interval is known, as for a camera that has been streaming.
    const learnt = upAt + STALL_LEARN_MS + FREEZE_MARGIN_MS - nowMs();
    if (learnt > 0) {
      progress(
        `gateway: frozen-camera trial ${trial}/${o.freezeTrials}: waiting ${Math.round(learnt)} ms for the stall judge to learn the frame interval`,
      );
      await sleep(learnt);
    }
    progress(`gateway: frozen-camera trial ${trial}/${o.freezeTrials}: SIGSTOP until the gateway reports it down, then SIGCONT`);
    const frozenAt = nowMs();
    camera.freeze();
    const dark = await gw.waitUp(id, 0, 20_000, 25);
    if (dark === null) r.failures.push(`freeze ${trial}: psvgw_camera_up still 1 20 s after the freeze`);
    else r.darkAfterFreezeMs.push(nowMs() - frozenAt);
    const thawedAt = nowMs();
    camera.thaw();
    const up = await gw.waitUp(id, 1, 30_000, 25);
    upAt = nowMs();
    if (up === null) {
      r.failures.push(`freeze ${trial}: psvgw_camera_up not back to 1 within 30 s of the thaw; camera restarted`);
      await camera.kill();
      await camera.launch();
      await gw.waitUp(id, 1, 30_000, 100);
      upAt = nowMs();
    } else r.upAfterThawMs.push(upAt - thawedAt);
  }
}
