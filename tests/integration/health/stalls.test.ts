import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, cameraUp, loggedIngestStates, waitForUp } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

/** Issue 15, Must show 5: a 25 fps camera frozen is down within 3 s, a thawed one resolves within 5 s, slow cameras never stall. */
const DOWN_MS = 3000;
const RESOLVE_MS = 5000;
const FREEZE_TRIALS = 3;
/** How long the slow and irregular cameras are watched for a false stall. */
const WATCH_MS = 15_000;
/** A (re)started ingest waits the full ingest.stallSeconds until it has seen this long of frames (StallJudge's learnMs). */
const LEARN_MS = 5000;

interface Incident {
  kind: string;
  cameraId: string;
}

async function metric(gw: GatewayProcess, name: string, cameraId: string): Promise<number> {
  return (await gw.metric(name, { camera_id: cameraId })) ?? 0;
}

async function cameraDown(gw: GatewayProcess, cameraId: string): Promise<boolean> {
  const res = await gw.api<{ items: Incident[] }>('GET', '/api/v1/incidents');
  return res.body.items.some((i) => i.kind === 'camera_down' && i.cameraId === cameraId);
}

describe('stalls judged by the camera’s own frame interval (default config)', () => {
  let gw: GatewayProcess;
  /** A gateway whose cameras may restart once a minute: a camera that used up its restarts, as after a flapping link. */
  let capped: GatewayProcess;
  let fast: TestCamera;
  let fastId: string;
  const slowIds: Record<string, string> = {};
  /** Moments a slow camera was seen not up, filled by a watcher running alongside the freeze trials. */
  const slowDown: string[] = [];
  let watchedFrom = 0;
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    gw = await GatewayProcess.start();
    capped = await GatewayProcess.start({ configYaml: 'ingest:\n  maxRestartsPerMinute: 1\n' });
    fast = await TestCamera.start({ width: 320, height: 180, fps: 25 });
    const oneFps = await TestCamera.start({ width: 320, height: 180, fps: 1 });
    const irregular = await TestCamera.start({ width: 320, height: 180, fps: 25, pacing: 'irregular' });
    fastId = (await addCamera(gw, fast.url, 'Fast camera')).id;
    slowIds['1 fps'] = (await addCamera(gw, oneFps.url, 'One frame a second')).id;
    slowIds.irregular = (await addCamera(gw, irregular.url, 'Irregular pacing')).id;
    for (const id of [fastId, ...Object.values(slowIds)]) await waitForUp(gw, id, 1, 30_000);
    watchedFrom = Date.now();
    watcher = (async () => {
      while (watching) {
        for (const [name, id] of Object.entries(slowIds)) {
          if ((await cameraUp(gw, id)) !== 1) slowDown.push(`${name} at +${Date.now() - watchedFrom} ms`);
        }
        await sleep(200);
      }
    })();
  });

  afterAll(async () => {
    watching = false;
    await watcher;
    await stopAllGateways();
    await stopAllTestCameras();
    gw?.cleanup();
    capped?.cleanup();
  });

  // The freeze trials and the capped gateway's thaws are of different gateways and cameras: side by side.
  it.concurrent('sees a frozen 25 fps camera down within 3 s and resolves it within 5 s of the thaw', async ({ expect }) => {
    const downMs: number[] = [];
    const backMs: number[] = [];
    for (let trial = 0; trial < FREEZE_TRIALS; trial++) {
      const logMark = gw.logs.length;
      // Live long enough for its frame interval to be known.
      await sleep(LEARN_MS + 500);
      const stallsBefore = await metric(gw, 'psvgw_camera_stalls_total', fastId);
      const frozenAt = Date.now();
      fast.freeze();
      await waitForUp(gw, fastId, 0, 15_000);
      downMs.push(Date.now() - frozenAt);
      await gw.waitFor('the camera_down incident', () => cameraDown(gw, fastId), 2000);
      expect(await metric(gw, 'psvgw_camera_stalls_total', fastId)).toBe(stallsBefore + 1);
      // The last trial stays frozen past the first restart, which finds the camera silent.
      if (trial === FREEZE_TRIALS - 1) await sleep(4000);
      fast.resume();
      const thawedAt = Date.now();
      await gw.waitFor('camera_down resolved', async () => !(await cameraDown(gw, fastId)), 30_000);
      backMs.push(Date.now() - thawedAt);
      console.log(`trial ${trial}: ingest states ${loggedIngestStates(gw, fastId, logMark).join(' → ')}`);
      await waitForUp(gw, fastId, 1, 10_000);
    }
    console.log(`frozen → down, ms: ${JSON.stringify(downMs)}; thawed → resolved, ms: ${JSON.stringify(backMs)}`);
    expect(Math.max(...downMs)).toBeLessThanOrEqual(DOWN_MS);
    expect(Math.max(...backMs)).toBeLessThanOrEqual(RESOLVE_MS);
  });

  it.concurrent('takes a thawed camera back within 5 s even when its restarts for the minute are used up', async ({ expect }) => {
    const cam = await TestCamera.start({ width: 320, height: 180, fps: 25 });
    const id = (await addCamera(capped, cam.url, 'Thawed camera')).id;
    await waitForUp(capped, id, 1, 30_000);
    const backMs: number[] = [];
    // The first stall uses the one restart of the minute; the second is past the cap.
    for (let trial = 0; trial < 2; trial++) {
      cam.freeze();
      await waitForUp(capped, id, 0, 15_000);
      cam.resume();
      const thawedAt = Date.now();
      await waitForUp(capped, id, 1, 60_000);
      backMs.push(Date.now() - thawedAt);
      await sleep(1000);
    }
    console.log(`thawed → live past the restart cap, ms: ${JSON.stringify(backMs)}`);
    expect(Math.max(...backMs)).toBeLessThanOrEqual(RESOLVE_MS);
    await cam.stop();
  });

  it('never stalls a 1 fps camera nor one with irregular frame pacing', async () => {
    await sleep(Math.max(0, watchedFrom + WATCH_MS - Date.now()));
    watching = false;
    await watcher;
    expect(slowDown).toEqual([]);
    for (const [name, id] of Object.entries(slowIds)) {
      expect({ name, stalls: await metric(gw, 'psvgw_camera_stalls_total', id) }).toEqual({ name, stalls: 0 });
      expect({ name, restarts: await metric(gw, 'psvgw_camera_restarts_total', id) }).toEqual({ name, restarts: 0 });
    }
  });
});
