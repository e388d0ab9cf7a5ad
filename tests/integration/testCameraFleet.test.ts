import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../helpers/cameraFleet.js';
import { FFMPEG_INSTALL_HINT, ffprobeStreams, frameRate, requireTool, streamOf, watchFrames, type FrameWatcher } from '../helpers/media.js';

const run = promisify(execFile);
const MOUNTS = 12;
const LOOP_SECONDS = 4;

/** user+sys CPU seconds of one process so far. */
function cpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/PID/stat; the split starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe('camera fleet (one GStreamer RTSP server, many mounts from one pre-encoded loop)', { timeout: 60_000 }, () => {
  let fleet: CameraFleet;
  const readers: FrameWatcher[] = [];

  beforeAll(async () => {
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    fleet = await startCameraFleet({ count: MOUNTS, loopSeconds: LOOP_SECONDS });
  });

  afterAll(async () => {
    await Promise.all(readers.map((r) => r.stop()));
    await stopAllCameraFleets();
  });

  it('serves /cam1 … /cam12 as H.264 640x360 at 25 fps', async () => {
    expect(fleet.urls).toHaveLength(MOUNTS);
    expect(fleet.urls[11]).toBe(`rtsp://127.0.0.1:${fleet.port}/cam12`);
    const v = streamOf(await ffprobeStreams(fleet.urls[0] as string), 'video');
    expect(v).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(frameRate(v)).toBe(25);
  });

  it('keeps timestamps rising across loop points (more than two loops read)', async () => {
    const seconds = 2 * LOOP_SECONDS + 2;
    const { stdout } = await run(
      'ffprobe',
      [
        ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v'],
        ...['-show_entries', 'packet=pts_time', '-of', 'csv=p=0', '-read_intervals', `%+${seconds}`],
        fleet.urls[1] as string,
      ],
      { timeout: (seconds + 20) * 1000, maxBuffer: 8 * 1024 * 1024 },
    );
    const pts = stdout
      .split('\n')
      .map((l) => Number.parseFloat(l))
      .filter((n) => Number.isFinite(n));
    expect(pts.length).toBeGreaterThan(25 * (seconds - 1));
    const steps = pts.slice(1).map((p, i) => p - (pts[i] as number));
    expect(Math.min(...steps)).toBeGreaterThan(0);
    // A loop point adds at most a frame interval or two, never a jump.
    expect(Math.max(...steps)).toBeLessThan(0.1);
    expect((pts.at(-1) as number) - (pts[0] as number)).toBeGreaterThan(2 * LOOP_SECONDS);
  });

  it('counts the RTSP clients of each mount', async () => {
    const reader = watchFrames(fleet.urls[2] as string);
    try {
      await reader.waitForFrames(10, 15_000);
      expect(await fleet.waitForClients(3, (n) => n === 1, 5000)).toBe(1);
      expect(fleet.clientCount('/cam4')).toBe(0);
    } finally {
      await reader.stop();
    }
    expect(await fleet.waitForClients('cam3', (n) => n === 0, 5000)).toBe(0);
  });

  it('costs the machine little: 12 mounts, each with a reader', async () => {
    readers.push(...fleet.urls.map((u) => watchFrames(u)));
    await Promise.all(readers.map((r) => r.waitForFrames(25, 30_000)));
    for (let i = 1; i <= MOUNTS; i++) expect(fleet.clientCount(i)).toBe(1);

    const pid = fleet.pid as number;
    const before = { cpu: cpuSeconds(pid), at: performance.now(), frames: readers.map((r) => r.progress.frames) };
    await new Promise((r) => setTimeout(r, 5000));
    const wall = (performance.now() - before.at) / 1000;
    const cpuPct = ((cpuSeconds(pid) - before.cpu) / wall) * 100;
    const fps = readers.map((r, i) => (r.progress.frames - (before.frames[i] as number)) / wall);
    console.log(
      `camera fleet: ${MOUNTS} mounts with one reader each: server CPU ${cpuPct.toFixed(1)}% of a core ` +
        `(${(cpuPct / MOUNTS).toFixed(2)}% per mount); reader frame rates ${Math.min(...fps).toFixed(1)}–${Math.max(...fps).toFixed(1)} fps`,
    );
    for (const f of fps) expect(f).toBeGreaterThan(15);
    // Pre-encoded: well under the 1-2% of a core per camera that the gateway spends.
    expect(cpuPct).toBeLessThan(MOUNTS * 2);
  });
});
