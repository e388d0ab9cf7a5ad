import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { freePort } from '../../helpers/ports.js';
import { PushReceiver, stopAllPushReceivers } from '../../helpers/pushReceiver.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const CAMERA_FPS = 25;
const RTMP_KEY = 'sk-7f3a9c2e41';
const DEAD_KEY = 'sk-dead-55b1d0';

interface PushStatus {
  target: string;
  state: string;
  restarts: number;
  lastError: string | null;
}

/** `target` labels of a metric's samples for the camera, with their values. */
async function targetSamples(gw: GatewayProcess, metric: string, cameraId: string): Promise<Map<string, number>> {
  const samples = new Map<string, number>();
  const pattern = new RegExp(`^${metric}\\{camera_id="${cameraId}",target="([^"]*)"\\} (\\S+)$`);
  for (const line of (await gw.metrics()).split('\n')) {
    const m = pattern.exec(line);
    if (m) samples.set(m[1] as string, Number(m[2]));
  }
  return samples;
}

/**
 * The one label among `labels` naming `target` the documented way: scheme, host and
 * application, then a digest of the whole URL. Throws unless exactly one matches.
 */
function labelOf(labels: string[], target: string): string {
  const u = new URL(target);
  const prefix = `${u.protocol}//${u.host}/${u.pathname.split('/')[1]}#`;
  const found = labels.filter((l) => l.startsWith(prefix) && /#[0-9a-f]{8}$/.test(l) && l.length === prefix.length + 8);
  if (found.length !== 1) throw new Error(`expected one label ${prefix}<digest> among ${labels.join(', ')}`);
  return found[0] as string;
}

describe('pushing the shared tier to the sharing platform', () => {
  let gw: GatewayProcess;
  let rtmp: PushReceiver;
  let rtsp: PushReceiver;
  let deadTarget: string;
  let cameraId: string;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start({ fps: CAMERA_FPS });
    rtmp = await PushReceiver.rtmp('live', RTMP_KEY);
    rtsp = await PushReceiver.rtsp('push');
    // A platform endpoint that is down: nothing listens there.
    deadTarget = `rtmp://127.0.0.1:${await freePort()}/live/${DEAD_KEY}`;
    gw = await GatewayProcess.start();
    const res = await gw.api<{ id: string; pushTargets: string[] }>('POST', '/api/v1/cameras', {
      name: 'Gate south',
      rtspUrl: camera.url,
      siteType: 'school_gate',
      pushTargets: [rtmp.url, rtsp.url, deadTarget],
    });
    expect(res.status).toBe(201);
    // Stored whole, shown without their stream keys.
    expect(res.body.pushTargets).toHaveLength(3);
    expect(JSON.stringify(res.body.pushTargets)).not.toMatch(new RegExp(`${RTMP_KEY}|${DEAD_KEY}`));
    cameraId = res.body.id;
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllPushReceivers();
    await stopAllTestCameras();
  });

  it('starts relaying to the RTMP target within 2.5 s of the camera going live', async () => {
    await gw.waitFor('the camera live', async () => (await gw.metric('psvgw_camera_up', { camera_id: cameraId })) === 1, 15_000);
    const firstFrame = await rtmp.waitForFrames(1, 15_000);
    console.log(`RTMP target: first frame ${firstFrame} ms after the camera went live`);
    expect(firstFrame).toBeLessThanOrEqual(2500);
  });

  it('delivers H.264 frames to the RTMP target at the camera frame rate', async () => {
    await rtmp.waitForFrames(75, 10_000);
    console.log(`RTMP target: ${rtmp.frames} frames at ${rtmp.fps.toFixed(2)} fps`);
    expect(rtmp.videoCodec).toBe('h264');
    expect(rtmp.fps).toBeGreaterThanOrEqual(CAMERA_FPS * 0.85);
    expect(rtmp.fps).toBeLessThanOrEqual(CAMERA_FPS * 1.15);
    // Frames keep coming: it is a live relay, not a burst.
    const before = rtmp.frames;
    await rtmp.waitForFrames(before + 25, 5000);
  });

  it('delivers H.264 frames to the RTSP target at the camera frame rate', async () => {
    await rtsp.waitForFrames(75, 10_000);
    console.log(`RTSP target: ${rtsp.frames} frames at ${rtsp.fps.toFixed(2)} fps`);
    expect(rtsp.videoCodec).toBe('h264');
    expect(rtsp.fps).toBeGreaterThanOrEqual(CAMERA_FPS * 0.85);
    expect(rtsp.fps).toBeLessThanOrEqual(CAMERA_FPS * 1.15);
  });

  it('reports each push in psvgw_push_up under a label without the stream key', async () => {
    let up = new Map<string, number>();
    await gw.waitFor(
      'both live pushes up',
      async () => {
        up = await targetSamples(gw, 'psvgw_push_up', cameraId);
        return [...up.values()].filter((v) => v === 1).length === 2;
      },
      10_000,
    );
    expect(up.size).toBe(3);
    const labels = [...up.keys()];
    const rtmpLabel = labelOf(labels, rtmp.url);
    expect(rtmpLabel).toMatch(new RegExp(`^rtmp://127\\.0\\.0\\.1:${rtmp.port}/live#[0-9a-f]{8}$`));
    expect(up.get(rtmpLabel)).toBe(1);
    expect(up.get(labelOf(labels, rtsp.url))).toBe(1);
    expect(up.get(labelOf(labels, deadTarget))).toBe(0);
  });

  it('keeps retrying a target that is down, and names it by its label only', async () => {
    await gw.waitFor(
      'restarts of the dead push',
      async () => {
        const restarts = await targetSamples(gw, 'psvgw_push_restarts_total', cameraId);
        return (restarts.get(labelOf([...restarts.keys()], deadTarget)) ?? 0) >= 2;
      },
      15_000,
    );

    const status = await gw.api<{ pipeline: { pushes: PushStatus[] } }>('GET', `/api/v1/cameras/${cameraId}/status`);
    const pushes = status.body.pipeline.pushes;
    expect(pushes).toHaveLength(3);
    expect(pushes.filter((p) => p.state === 'live')).toHaveLength(2);
    const dead = pushes.find((p) => p.state !== 'live');
    expect(dead?.restarts).toBeGreaterThanOrEqual(2);
    expect(dead?.lastError).toMatch(/refused|error/i);

    // The stream keys are secrets of the platform: no metric, status or log line shows them.
    const exposed = { metrics: await gw.metrics(), status: JSON.stringify(status.body), log: gw.logs.join('\n') };
    for (const [where, text] of Object.entries(exposed)) {
      for (const key of [RTMP_KEY, DEAD_KEY]) expect(text.includes(key), `${where} shows the stream key ${key}`).toBe(false);
    }
  });
});
