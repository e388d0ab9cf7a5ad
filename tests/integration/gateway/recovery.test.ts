import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, cameraUp, loggedIngestStates, streamUrls, waitForUp } from '../../helpers/cameraSteps.js';
import { GatewayProcess, mediaProcessesMentioning, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, countFrames, ffprobeStreams, requireTool, streamOf } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

/** Targets from the design: an outage is seen within 3 s, a returning camera flows again within 5 s. */
const DEATH_DETECT_MS = 3000;
const RECOVERY_MS = 5000;
const STALL_SECONDS = 3;
/** How long the frozen camera stays frozen. */
const FREEZE_MS = 36_000;

const measured: Record<string, number> = {};

async function restarts(gw: GatewayProcess, cameraId: string): Promise<number> {
  return (await gw.metric('psvgw_camera_restarts_total', { camera_id: cameraId })) ?? 0;
}

async function stalls(gw: GatewayProcess, cameraId: string): Promise<number> {
  return (await gw.metric('psvgw_camera_stalls_total', { camera_id: cameraId })) ?? 0;
}

describe('camera outages and recovery', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    gw = await GatewayProcess.start({ configYaml: `ingest:\n  stallSeconds: ${STALL_SECONDS}` });
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    gw?.cleanup();
    console.log(`recovery summary (ms): ${JSON.stringify(measured)}`);
  });

  // The two outages are of different cameras and mostly wait: they run side by side.
  it.concurrent('sees a dead camera within 3 s and picks it up again within 5 s of its return, twice', async ({ expect }) => {
    const cam = await TestCamera.start({ width: 640, height: 360, audio: 'aac' });
    const { id } = await addCamera(gw, cam.url, 'Dying camera');
    await waitForUp(gw, id, 1, 20_000);

    // First outage: the camera process ends, its RTSP connection closes.
    const before1 = await restarts(gw, id);
    const stopAt = Date.now();
    await cam.stop();
    await waitForUp(gw, id, 0, 10_000);
    const detect1 = Date.now() - stopAt;
    console.log(`death detected after ${detect1} ms`);
    measured.deathDetect1 = detect1;
    expect(detect1).toBeLessThanOrEqual(DEATH_DETECT_MS);

    await sleep(1000);
    await cam.restart();
    const back1 = await waitForUp(gw, id, 1, 15_000);
    console.log(`live again ${back1} ms after the camera came back (short outage)`);
    measured.recovery1 = back1;
    expect(back1).toBeLessThanOrEqual(RECOVERY_MS);
    expect(await restarts(gw, id)).toBeGreaterThan(before1);

    // Second outage, long enough for the restart backoff to have grown past the recovery target.
    const before2 = await restarts(gw, id);
    const stopAt2 = Date.now();
    await cam.stop();
    await waitForUp(gw, id, 0, 10_000);
    const detect2 = Date.now() - stopAt2;
    console.log(`death detected after ${detect2} ms (second outage)`);
    measured.deathDetect2 = detect2;
    expect(detect2).toBeLessThanOrEqual(DEATH_DETECT_MS);

    await sleep(10_000);
    const duringOutage = (await restarts(gw, id)) - before2;
    // Backoff (0.5 s doubling) allows about five tries in 10 s; without it there would be 20.
    expect(duringOutage).toBeGreaterThanOrEqual(1);
    expect(duringOutage).toBeLessThanOrEqual(8);
    await cam.restart();
    const back2 = await waitForUp(gw, id, 1, 20_000);
    console.log(`live again ${back2} ms after the camera came back (10 s outage, ${duringOutage} restarts meanwhile)`);
    measured.recovery2 = back2;
    expect(back2).toBeLessThanOrEqual(RECOVERY_MS);
    expect(await restarts(gw, id)).toBeGreaterThan(before2);

    // Viewers get picture and sound again, in step (the tiers' timelines continue across restarts).
    const urls = await streamUrls(gw, id);
    const played = await countFrames(urls.shared.httpFlv, 2);
    expect(played.frames).toBeGreaterThanOrEqual(40);
    const streams = await ffprobeStreams(urls.shared.httpFlv, { timeoutMs: 15_000 });
    expect(streamOf(streams, 'audio').codec_name).toBe('aac');

    await cam.stop();
  });

  it.concurrent(
    'sees a frozen camera (socket open, no frames) within stallSeconds + 1 s and recovers within 5 s of it resuming',
    async ({ expect }) => {
      const cam = await TestCamera.start({ width: 640, height: 360 });
      const { id } = await addCamera(gw, cam.url, 'Freezing camera');
      await waitForUp(gw, id, 1, 20_000);
      // Let frames flow for a moment so the frame counter is well past its first value.
      await sleep(1000);
      const logMark = gw.logs.length;
      const stallsBefore = await stalls(gw, id);

      const frozenAt = Date.now();
      cam.freeze();
      await waitForUp(gw, id, 0, (STALL_SECONDS + 5) * 1000);
      const detect = Date.now() - frozenAt;
      measured.freezeDetect = detect;
      console.log(
        `freeze detected after ${detect} ms (stallSeconds ${STALL_SECONDS}); a dead camera was detected after ${measured.deathDetect1 ?? '?'} ms`,
      );
      expect(detect).toBeLessThanOrEqual((STALL_SECONDS + 1) * 1000);
      await gw.waitFor('stall counted', async () => (await stalls(gw, id)) >= stallsBefore + 1, 2000);
      await gw.waitFor('the stall in the log', () => loggedIngestStates(gw, id, logMark).includes('stalled'), 5000);

      // Stay frozen long enough for the restart backoff to grow to ~8 s: restarts during the
      // freeze connect but get no RTSP answer, and each waits out ffmpeg's socket timeout.
      await sleep(Math.max(0, frozenAt + FREEZE_MS - Date.now()));
      expect(await cameraUp(gw, id)).toBe(0);

      console.log(`ingest states during the freeze: ${loggedIngestStates(gw, id, logMark).join(' → ')}`);
      cam.resume();
      const resumedAt = Date.now();
      await waitForUp(gw, id, 1, 30_000);
      const back = Date.now() - resumedAt;
      measured.freezeRecovery = back;
      console.log(`live again ${back} ms after the camera resumed`);
      expect(back).toBeLessThanOrEqual(RECOVERY_MS);
      await cam.stop();
    },
  );

  it('leaves no ffmpeg behind once the gateway stops', async () => {
    const cam = await TestCamera.start({ width: 640, height: 360 });
    const { id } = await addCamera(gw, cam.url, 'Last camera');
    await waitForUp(gw, id, 1, 20_000);
    expect(mediaProcessesMentioning(`:${cam.port}/`).length).toBeGreaterThanOrEqual(1);
    expect(await gw.stop()).toBe(0);
    expect(mediaProcessesMentioning(`:${cam.port}/`)).toEqual([]);
    await cam.stop();
  });
});
