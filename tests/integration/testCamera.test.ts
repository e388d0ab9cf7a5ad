import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FFMPEG_INSTALL_HINT,
  ToolError,
  countFrames,
  ffprobeStreams,
  frameRate,
  requireTool,
  streamOf,
  watchFrames,
} from '../helpers/media.js';
import { grayFrame, type GrayFrame } from '../helpers/frames.js';
import { TestCamera, assertGstRtspAvailable, stopAllTestCameras } from '../helpers/testCamera.js';

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('TestCamera (GStreamer RTSP fixture)', { timeout: 20_000 }, () => {
  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    assertGstRtspAvailable();
  });

  afterAll(stopAllTestCameras);

  it('serves H.264 at 640x360, 25 fps, and stops', async () => {
    const cam = await TestCamera.start();
    expect(cam.url).toBe(`rtsp://127.0.0.1:${cam.port}/stream`);
    const streams = await ffprobeStreams(cam.url);
    const v = streamOf(streams, 'video');
    expect(v).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(frameRate(v)).toBe(25);
    expect(streams.some((s) => s.codec_type === 'audio')).toBe(false);

    const pid = cam.pid;
    await cam.stop();
    await cam.stop();
    expect(cam.running).toBe(false);
    expect(isAlive(pid)).toBe(false);
  });

  it('serves H.265', async () => {
    const cam = await TestCamera.start({ codec: 'h265', path: '/cam/main' });
    expect(cam.url).toMatch(/\/cam\/main$/);
    const v = streamOf(await ffprobeStreams(cam.url), 'video');
    expect(v.codec_name).toBe('hevc');
    expect(frameRate(v)).toBe(25);
    await cam.stop();
  });

  it.each([
    ['pcma', 'pcm_alaw', '8000'],
    ['pcmu', 'pcm_mulaw', '8000'],
    ['aac', 'aac', '48000'],
  ] as const)('serves %s audio', async (audio, codec, rate) => {
    const cam = await TestCamera.start({ audio });
    const a = streamOf(await ffprobeStreams(cam.url), 'audio');
    expect(a).toMatchObject({ codec_name: codec, sample_rate: rate, channels: 1 });
    await cam.stop();
  });

  it('demands Basic auth when given credentials', async () => {
    const cam = await TestCamera.start({ user: 'admin', password: 'p@ss:w/rd' });
    const refused = await ffprobeStreams(cam.urlWithCredentials('admin', 'wrong')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ToolError);
    expect((refused as ToolError).stderr).toMatch(/401 Unauthorized/);
    await expect(ffprobeStreams(cam.baseUrl)).rejects.toThrow(/401/);

    // The default url carries the camera's own (percent-encoded) credentials.
    expect(cam.url).toBe(`rtsp://admin:p%40ss%3Aw%2Frd@127.0.0.1:${cam.port}/stream`);
    expect(streamOf(await ffprobeStreams(cam.url), 'video').codec_name).toBe('h264');
    await cam.stop();
  });

  it('delivers about 25 frames per second', async () => {
    const cam = await TestCamera.start();
    const got = await countFrames(cam.url, 2);
    expect(got.frames).toBeGreaterThanOrEqual(45);
    expect(got.frames).toBeLessThanOrEqual(55);
    expect(got.fps).toBeGreaterThan(22);
    expect(got.fps).toBeLessThan(28);
    await cam.stop();
  });

  it('freeze() stops frame flow with the socket open; resume() restarts it', async () => {
    const cam = await TestCamera.start();
    const reader = watchFrames(cam.url);
    try {
      await reader.waitForFrames(10);
      cam.freeze();
      // Let frames already in flight drain before taking the reference count.
      await sleep(500);
      const frozenAt = reader.progress.frames;
      await sleep(2000);
      expect(reader.progress.frames).toBe(frozenAt);

      cam.resume();
      await reader.waitForFrames(frozenAt + 10, 5000);
    } finally {
      await reader.stop();
    }
    await cam.stop();
  });

  it('restart() comes back on the same port, even from frozen', async () => {
    const cam = await TestCamera.start();
    const { port } = cam;
    const firstPid = cam.pid;
    expect(streamOf(await ffprobeStreams(cam.url), 'video').codec_name).toBe('h264');
    cam.freeze();
    await cam.restart();
    expect(cam.port).toBe(port);
    expect(cam.pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect(streamOf(await ffprobeStreams(cam.url), 'video').codec_name).toBe('h264');
    await cam.stop();
  });

  it('setScene() switches the picture while frames keep flowing', async () => {
    const size = { width: 160, height: 90 };
    const cam = await TestCamera.start({ ...size, fps: 10, sceneControl: true });
    const mean = (f: GrayFrame) => f.pixels.reduce((s, v) => s + v, 0) / f.pixels.length;
    expect(mean(await grayFrame(cam.url, size))).toBeGreaterThan(60);
    await cam.setScene('black');
    expect(cam.scene).toBe('black');
    expect(mean(await grayFrame(cam.url, size))).toBeLessThan(5);
    // Frozen: the picture stands still but the stream goes on (unlike freeze()).
    await cam.setScene('frozen');
    const [a, b] = [await grayFrame(cam.url, size), await grayFrame(cam.url, size)];
    const meanAbsDiff = a.pixels.reduce((s, v, i) => s + Math.abs(v - (b.pixels[i] ?? 0)), 0) / a.pixels.length;
    expect(meanAbsDiff).toBeLessThan(1);
    expect((await countFrames(cam.url, 2)).frames).toBeGreaterThanOrEqual(12);
    await cam.stop();
    const plain = await TestCamera.start();
    await expect(plain.setScene('black')).rejects.toThrow(/sceneControl/);
    await plain.stop();
  });

  it('stopAllTestCameras() ends every running camera', async () => {
    const cams = await Promise.all([TestCamera.start(), TestCamera.start({ pattern: 'smpte' })]);
    expect(new Set(cams.map((c) => c.port)).size).toBe(2);
    const pids = cams.map((c) => c.pid);
    await stopAllTestCameras();
    expect(pids.map(isAlive)).toEqual([false, false]);
  });
});
