import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, mediaProcessesMentioning, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { PushReceiver, stopAllPushReceivers } from '../../helpers/pushReceiver.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

/** ffmpeg/ffprobe processes reading the camera (its RTSP address is in their argv). */
function pullsOf(camera: TestCamera): number[] {
  return mediaProcessesMentioning(`127.0.0.1:${camera.port}/`);
}

/** ffmpeg/ffprobe processes whose parent is `pid` (an ingest writes to its parent's pipe, not to a port). */
function mediaChildrenOfPid(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
      const [comm, rest] = [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat.slice(stat.lastIndexOf(')') + 2)];
      if (/^ff(mpeg|probe)$/.test(comm) && Number(rest.split(' ')[1]) === pid) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/** ffmpeg processes of the gateway: its children, and whatever reads from its embedded RTMP server (also once orphaned). */
function childrenOf(gw: GatewayProcess): number[] {
  return [...new Set([...mediaProcessesMentioning(`127.0.0.1:${gw.ports.rtmp}/`), ...mediaChildrenOfPid(gw.pid)])];
}

async function addCamera(gw: GatewayProcess, camera: TestCamera, name: string, pushTargets: string[] = []): Promise<string> {
  const res = await gw.api<{ id: string }>('POST', '/api/v1/cameras', { name, rtspUrl: camera.url, siteType: 'school_gate', pushTargets });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function waitLive(gw: GatewayProcess, cameraId: string): Promise<number> {
  return gw.waitFor(`camera ${cameraId} live`, async () => (await gw.metric('psvgw_camera_up', { camera_id: cameraId })) === 1, 15_000);
}

/** Polls until `check` returns an empty list; returns the elapsed ms, or throws with what remains. */
async function waitUntilNone(what: string, check: () => number[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const left = check();
    if (left.length === 0) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: processes ${left.join(', ')} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `check` lists exactly `count` processes (children start a moment after the ingest goes live). */
async function waitUntilCount(what: string, check: () => number[], count: number, timeoutMs: number): Promise<number[]> {
  const started = Date.now();
  for (;;) {
    const now = check();
    if (now.length === count) return now;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: ${now.length} processes (${now.join(', ')}), expected ${count}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('gateway lifecycle: stopping leaves no media process behind', () => {
  let cameraA: TestCamera;
  let cameraB: TestCamera;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    // Cameras with credentials: a restored camera must decrypt them again.
    [cameraA, cameraB] = await Promise.all([
      TestCamera.start({ user: 'gate-a', password: 'pw-a-1d9c' }),
      TestCamera.start({ user: 'gate-b', password: 'pw-b-77e0' }),
    ]);
  });

  afterEach(async () => {
    await stopAllGateways();
    await stopAllPushReceivers();
  });

  afterAll(stopAllTestCameras);

  it.each(['SIGTERM', 'SIGINT'] as const)('on %s, exits 0 within 15 s and stops every ffmpeg', async (signal) => {
    const receiver = await PushReceiver.rtmp('live', 'sk-lifecycle-3e1f');
    const gw = await GatewayProcess.start();
    const idA = await addCamera(gw, cameraA, 'Gate A', [receiver.url]);
    const idB = await addCamera(gw, cameraB, 'Gate B');
    await Promise.all([waitLive(gw, idA), waitLive(gw, idB)]);
    await receiver.waitForFrames(1, 20_000);
    // Two ingests feeding the live tiers; one push and two image-diagnostics samplers reading: all children of this gateway.
    await waitUntilCount('children of the gateway', () => childrenOf(gw), 5, 10_000);
    expect(pullsOf(cameraA)).toHaveLength(1);
    expect(pullsOf(cameraB)).toHaveLength(1);

    const started = Date.now();
    const code = await gw.stop(signal, 20_000);
    const took = Date.now() - started;
    console.log(`${signal}: gateway exited with ${code} after ${took} ms`);
    expect(code).toBe(0);
    expect(took).toBeLessThan(15_000);
    expect(gw.logs.some((l) => l.includes('psv-gateway stopped'))).toBe(true);

    expect(childrenOf(gw)).toEqual([]);
    expect(pullsOf(cameraA)).toEqual([]);
    expect(pullsOf(cameraB)).toEqual([]);
    // The platform sees the push end.
    await waitUntilNone('push receiver', () => (receiver.running ? [receiver.pid ?? -1] : []), 5000);
  });

  describe('after SIGKILL', () => {
    let first: GatewayProcess | undefined;

    afterAll(async () => {
      await stopAllGateways();
      first?.cleanup();
    });

    it('the kernel kills its ffmpeg children, and a new gateway on the same data restores the camera', async () => {
      first = await GatewayProcess.start();
      const cameraId = await addCamera(first, cameraA, 'Gate A');
      await waitLive(first, cameraId);
      // The ingest and its image-diagnostics sampler.
      await waitUntilCount('children of the first gateway', () => childrenOf(first!), 2, 10_000);

      expect(await first.stop('SIGKILL')).toBeNull();
      const gone = await waitUntilNone('children of the killed gateway', () => [...childrenOf(first!), ...pullsOf(cameraA)], 3000);
      console.log(`SIGKILL: no ffmpeg left ${gone} ms after the gateway died`);
      expect(gone).toBeLessThanOrEqual(3000);

      const second = await GatewayProcess.start({ env: { PSVGW_DATA_DIR: join(first.dataDir, 'data') } });
      const restored = await waitLive(second, cameraId);
      console.log(`restart: camera restored and live ${restored} ms after the new gateway was ready`);

      const list = await second.api<{ items: Array<{ id: string; name: string; status: { state: string } }>; total: number }>(
        'GET',
        '/api/v1/cameras',
      );
      expect(list.body.total).toBe(1);
      expect(list.body.items[0]).toMatchObject({ id: cameraId, name: 'Gate A', status: { state: 'live' } });
      // Exactly one pull of the camera, by the new gateway's ingest; none left from the old one.
      const pulls = pullsOf(cameraA);
      expect(pulls).toHaveLength(1);
      const children = await waitUntilCount('children of the second gateway', () => childrenOf(second), 2, 10_000);
      expect(children).toEqual(expect.arrayContaining(pulls));
      expect(childrenOf(first)).toEqual([]);
    });
  });
});
