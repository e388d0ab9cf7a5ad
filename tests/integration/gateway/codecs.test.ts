import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, streamUrls, waitForUp } from '../../helpers/cameraSteps.js';
import { GatewayProcess, mediaProcessesMentioning, stopAllGateways } from '../../helpers/gateway.js';
import {
  FFMPEG_INSTALL_HINT,
  countFrames,
  ffprobeStreams,
  frameRate,
  requireTool,
  streamOf,
  type ProbeStream,
} from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras, type TestCameraOptions } from '../../helpers/testCamera.js';

/** The argv of the gateway's ffmpeg pulling the camera (exactly one: one pull per camera). */
function ingestArgv(cam: TestCamera): string[] {
  const pids = mediaProcessesMentioning(`:${cam.port}/`);
  expect(pids, 'one ffmpeg pull per camera').toHaveLength(1);
  return readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8').split('\0');
}

function codecArg(argv: string[], flag: '-c:v' | '-c:a'): string | undefined {
  const i = argv.indexOf(flag);
  return i < 0 ? undefined : argv[i + 1];
}

/** Both live tiers as a player sees them over HTTP-FLV. */
async function probeTiers(
  gw: GatewayProcess,
  cameraId: string,
): Promise<{ raw: ProbeStream[]; shared: ProbeStream[]; urls: Awaited<ReturnType<typeof streamUrls>> }> {
  const urls = await streamUrls(gw, cameraId);
  const [raw, shared] = await Promise.all([
    ffprobeStreams(urls.raw.httpFlv, { timeoutMs: 15_000 }),
    ffprobeStreams(urls.shared.httpFlv, { timeoutMs: 15_000 }),
  ]);
  return { raw, shared, urls };
}

describe('camera codecs on the live tiers', () => {
  let gw: GatewayProcess;
  let current: { cam: TestCamera; id: string } | null = null;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    gw = await GatewayProcess.start();
  });

  // One camera at a time: the H.265 encoder of the test camera and the gateway's transcode are costly.
  // A removed camera's ID is given to the next one, so each test also republishes the previous one's tier paths.
  afterEach(async () => {
    if (!current) return;
    const { cam, id } = current;
    current = null;
    if (id) expect((await gw.api('DELETE', `/api/v1/cameras/${id}`)).status).toBe(204);
    await gw.waitFor('the camera pull to stop', () => mediaProcessesMentioning(`:${cam.port}/`).length === 0, 10_000);
    await cam.stop();
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  async function liveCamera(options: TestCameraOptions, name: string): Promise<{ cam: TestCamera; id: string }> {
    const cam = await TestCamera.start({ width: 640, height: 360, fps: 25, ...options });
    current = { cam, id: '' };
    const { id } = await addCamera(gw, cam.url, name);
    current.id = id;
    await waitForUp(gw, id, 1, 30_000);
    return { cam, id };
  }

  it('an H.265 camera plays as H.264 at ~25 fps on both FLV tiers (FLV cannot carry H.265)', async () => {
    const { cam, id } = await liveCamera({ codec: 'h265' }, 'H.265 camera');
    const argv = ingestArgv(cam);
    expect(codecArg(argv, '-c:v')).toBe('libx264');
    expect(codecArg(argv, '-c:a')).toBeUndefined();

    const { raw, shared, urls } = await probeTiers(gw, id);
    for (const streams of [raw, shared]) {
      const v = streamOf(streams, 'video');
      expect(v).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
      expect(streams.some((s) => s.codec_type === 'audio')).toBe(false);
    }
    const played = await countFrames(urls.shared.httpFlv, 3);
    console.log(
      `H.265 camera, shared tier: ${played.frames} frames in ${played.outTimeSec.toFixed(2)} s (${played.fps.toFixed(1)} fps), r_frame_rate ${frameRate(streamOf(shared, 'video'))}`,
    );
    expect(played.frames).toBeGreaterThan(40);
    expect(played.fps).toBeGreaterThan(22);
    expect(played.fps).toBeLessThan(28);
    expect(await gw.metric('psvgw_camera_fps', { camera_id: id })).toBeGreaterThan(15);
  });

  it('a G.711 A-law camera plays with H.264 copied and AAC audio', async () => {
    const { cam, id } = await liveCamera({ codec: 'h264', audio: 'pcma' }, 'G.711 camera');
    const argv = ingestArgv(cam);
    expect(codecArg(argv, '-c:v')).toBe('copy');
    expect(codecArg(argv, '-c:a')).toBe('aac');

    const { raw, shared, urls } = await probeTiers(gw, id);
    for (const streams of [raw, shared]) {
      const v = streamOf(streams, 'video');
      const a = streamOf(streams, 'audio');
      expect(v).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
      expect(a.codec_name).toBe('aac');
      // Sound and picture on one timeline, though this path last carried a camera without audio.
      expect(Math.abs(Number(a.start_time) - Number(v.start_time))).toBeLessThan(1);
    }
    const played = await countFrames(urls.shared.httpFlv, 2);
    expect(played.frames).toBeGreaterThan(0);
  });

  it('an AAC camera keeps its AAC audio (copied, not re-encoded)', async () => {
    const { cam, id } = await liveCamera({ codec: 'h264', audio: 'aac' }, 'AAC camera');
    const argv = ingestArgv(cam);
    expect(codecArg(argv, '-c:v')).toBe('copy');
    expect(codecArg(argv, '-c:a')).toBe('copy');

    const { raw, shared, urls } = await probeTiers(gw, id);
    for (const streams of [raw, shared]) {
      expect(streamOf(streams, 'video').codec_name).toBe('h264');
      const a = streamOf(streams, 'audio');
      expect(a.codec_name).toBe('aac');
      // The camera's own 48 kHz mono AAC, as sent.
      expect(a.sample_rate).toBe('48000');
      expect(a.channels).toBe(1);
    }
    const played = await countFrames(urls.raw.httpFlv, 2);
    expect(played.frames).toBeGreaterThan(0);
  });
});
