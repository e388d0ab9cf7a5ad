import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDesensitizer, type DesensitizerHealth, type DesensitizerWithStats } from '../../../src/desensitize/index.js';
import { composeFacesScene } from '../../helpers/facesScene.js';
import { TestCamera } from '../../helpers/testCamera.js';

/**
 * startDesensitizer against a live RTSP camera playing the faces scene (standing in for the raw
 * tier's fan-out): regions appear, and the health follows the detector worker: a stopped worker
 * (SIGSTOP, as if starved of CPU) turns it 'lagging', a killed one 'dead', and both recover by
 * themselves (SIGCONT; the worker restarted with backoff).
 */
const DETECT_FPS = 5;

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('startDesensitizer on a live camera', () => {
  let dir: string;
  let camera: TestCamera;
  let des: DesensitizerWithStats;
  const transitions: { to: DesensitizerHealth; at: number }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psvgw-faces-live-'));
    const scene = await composeFacesScene({ dir, jpegFrames: true, segmentSeconds: 2 });
    camera = await TestCamera.start({ frames: { pattern: scene.framesPattern!, count: scene.truth.length } });
    des = startDesensitizer({
      cameraId: 'cam-faces',
      sourceUrl: camera.url,
      width: scene.width,
      height: scene.height,
      faces: true,
      plates: false,
      detectFps: DETECT_FPS,
      log: pino({ level: process.env.DESENS_LOG ?? 'silent' }),
    });
    des.on('health', (to) => transitions.push({ to, at: performance.now() }));
  }, 60_000);

  afterAll(async () => {
    await des?.close();
    await camera?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns ok and finds the faces', async () => {
    await until('health ok', 45_000, () => des.health() === 'ok');
    const snap = await until('a face region', 20_000, () => {
      const s = des.regionsAt(performance.now());
      return s.regions.length > 0 && s;
    });
    expect(snap.regions.every((r) => r.kind === 'face' && r.x >= 0 && r.x + r.width <= 640 && r.y + r.height <= 360)).toBe(true);
    expect(snap.freshAt).toBeLessThanOrEqual(performance.now());
    expect(snap.detectorLatencyMs).toBeGreaterThan(0);
    console.log(
      `regions ${snap.regions.length}, detector latency ${snap.detectorLatencyMs.toFixed(0)} ms, stats ${JSON.stringify({ ...des.stats, latencyMs: undefined, cpuMs: undefined })}`,
    );
  });

  it('is lagging while the worker is stopped, ok again once it goes on', async () => {
    const pid = des.detectorPid()!;
    const stoppedAt = performance.now();
    process.kill(pid, 'SIGSTOP');
    try {
      await until('health lagging', 10_000, () => des.health() === 'lagging');
      console.log(`lagging ${(performance.now() - stoppedAt).toFixed(0)} ms after SIGSTOP`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until('health ok after SIGCONT', 20_000, () => des.health() === 'ok');
  });

  it('is dead once the worker is killed, and ok again after it is restarted', async () => {
    const pid = des.detectorPid()!;
    const killedAt = performance.now();
    process.kill(pid, 'SIGKILL');
    await until('health dead', 5_000, () => des.health() === 'dead');
    console.log(`dead ${(performance.now() - killedAt).toFixed(0)} ms after SIGKILL`);
    await until('health ok after the restart', 30_000, () => des.health() === 'ok');
    expect(des.detectorPid()).not.toBe(pid);
    expect(des.stats.workerRestarts).toBeGreaterThanOrEqual(1);
    expect(transitions.map((t) => t.to)).toEqual(expect.arrayContaining(['ok', 'lagging', 'dead']));
  });

  it('is dead after close, with no process left', async () => {
    const pid = des.detectorPid()!;
    await des.close();
    expect(des.health()).toBe('dead');
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
