import type { BenchCamera } from './camera.js';
import { nowMs } from './children.js';
import { FlvViewer, timeToFirstFrame } from './firstFrame.js';
import type { BenchOptions } from './options.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { attempt, progress } from './progress.js';
import { NmsRelayProcess } from './relay.js';
import { pollUntil, sleep } from './stats.js';
import { RtpFrameReader } from './wireFrames.js';
import {
  measureFirstFrame,
  measureGapTolerance,
  measureLatency,
  type FirstFrameResult,
  type GapTolerance,
  type LatencyResult,
} from './viewers.js';

export interface RelayResults {
  errors: string[];
  idle?: TreeUsage;
  one?: TreeUsage;
  many?: TreeUsage;
  /** addTask → first decodable frame at a new viewer, ms, per camera. */
  addToFlowingMs: number[];
  latency?: LatencyResult;
  firstFrame?: FirstFrameResult;
  gapTolerance?: GapTolerance;
  recovery: {
    /** Camera's READY line → RTP bytes arriving at the relay task again, ms. */
    flowAfterRestartMs: number[];
    /** Camera's READY line → first video tag at a viewer that stayed connected, ms. */
    viewerAfterRestartMs: number[];
    failures: string[];
  };
}

const pathOf = (i: number) => `/live/cam${i + 1}`;

async function addAndWait(relay: NmsRelayProcess, i: number, camera: BenchCamera, results: RelayResults): Promise<void> {
  const started = nowMs();
  await relay.addTask(pathOf(i), camera.url);
  const url = relay.httpFlvUrl(pathOf(i));
  const took = await pollUntil(async () => (await timeToFirstFrame('http-flv', url, 2000)) >= 0, 30_000, 200);
  if (took === null) throw new Error(`relay task ${pathOf(i)} not flowing within 30 s`);
  results.addToFlowingMs.push(nowMs() - started);
}

/**
 * The alternative ingest: node-media-server 4.4's own RTSP relay in a standalone
 * process, measured the same way as the gateway (same cameras, windows and viewers).
 */
export async function relayPhase(cameras: readonly BenchCamera[], o: BenchOptions): Promise<RelayResults> {
  const results: RelayResults = {
    errors: [],
    addToFlowingMs: [],
    recovery: { flowAfterRestartMs: [], viewerAfterRestartMs: [], failures: [] },
  };
  const relay = await NmsRelayProcess.start(o.relayReconnectMs);
  const W = o.cpuWindowSeconds;
  try {
    await attempt(results.errors, 'relay idle', async () => {
      progress(`nms relay: idle (0 tasks), ${W} s`);
      await sleep(o.warmupSeconds * 1000);
      results.idle = await measureTree([relay.pid], W);
    });
    const first = cameras[0] as BenchCamera;
    // The latency's direct reader joins the camera before the relay does: a client joining
    // later makes the camera skip one RTP sequence number on the connections already open,
    // which this relay does not ride over (see gapTolerance).
    const direct = new RtpFrameReader(first.url);
    await attempt(results.errors, 'relay 1 camera', async () => {
      await addAndWait(relay, 0, first, results);
      progress(`nms relay: 1 camera, ${W} s`);
      await sleep(o.warmupSeconds * 1000);
      results.one = await measureTree([relay.pid], W);
    });
    await attempt(results.errors, `relay ${cameras.length} cameras`, async () => {
      await Promise.all(cameras.slice(1).map((cam, i) => addAndWait(relay, i + 1, cam, results)));
      progress(`nms relay: ${cameras.length} cameras, ${W} s`);
      await sleep(o.warmupSeconds * 1000);
      results.many = await measureTree([relay.pid], W);
    });
    const play = { httpFlv: relay.httpFlvUrl(pathOf(0)), wsFlv: relay.wsFlvUrl(pathOf(0)) };
    await attempt(results.errors, 'relay latency', async () => {
      progress(`nms relay: live latency for ${o.latencySeconds} s`);
      // Wire level only: its FLV splits an access unit over several tags, which ffmpeg's decoder rejects.
      results.latency = await measureLatency(first.url, play, o.latencySeconds, o.latencyWarmupMs, false, direct);
    });
    direct.stop();
    await attempt(results.errors, 'relay first frame', async () => {
      progress(`nms relay: time to first frame, ${o.firstFrameRequests} viewers per protocol`);
      results.firstFrame = await measureFirstFrame(play, o.firstFrameRequests);
    });
    await attempt(results.errors, 'relay recovery', async () => {
      const r = results.recovery;
      relay.watch(true);
      for (let trial = 1; trial <= o.recoveryTrials; trial++) {
        progress(`nms relay: recovery trial ${trial}/${o.recoveryTrials}`);
        const viewer = new FlvViewer(play.httpFlv);
        try {
          await sleep(1000);
          const killedAt = nowMs();
          await first.kill();
          await sleep(Math.max(0, killedAt + o.cameraOffMs - nowMs()));
          const readyAt = await first.launch();
          const flow = await relay.nextEvent('FLOW', pathOf(0), readyAt, 40_000);
          if (flow === null) r.failures.push(`trial ${trial}: no RTP at the relay within 40 s of the restart`);
          else r.flowAfterRestartMs.push(flow - readyAt);
          await pollUntil(() => viewer.firstVideoAfter(readyAt) !== null, 10_000, 50);
          const seen = viewer.firstVideoAfter(readyAt);
          if (seen === null) r.failures.push(`trial ${trial}: the viewer saw no video after the restart`);
          else r.viewerAfterRestartMs.push(seen - readyAt);
        } finally {
          viewer.close();
        }
        await sleep(1000);
      }
      relay.watch(false);
    });
    await attempt(results.errors, 'relay RTP gap', async () => {
      progress('nms relay: a second client joins the camera (one RTP sequence gap at the relay)');
      results.gapTolerance = await measureGapTolerance(play.httpFlv, first.url);
    });
  } finally {
    progress('nms relay: stopping');
    await relay.stop();
  }
  return results;
}
