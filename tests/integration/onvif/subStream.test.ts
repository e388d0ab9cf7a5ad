import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedBySecondAdmin } from '../../helpers/changeSteps.js';
import { streamUrls, waitForUp, type StreamUrls } from '../../helpers/cameraSteps.js';
import { grayFrame, grayFrames, regionStats, type GrayFrame, type Region } from '../../helpers/frames.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, countFrames, ffprobeStreams, requireTool, streamOf } from '../../helpers/media.js';
import { OnvifDeviceSim, stopAllOnvifSims } from '../../helpers/onvifDevice.js';
import { recordingList, type SegmentView } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const USER = 'admin';
const PASSWORD = 'Sub-stream-pass-4419';
const MAIN = { width: 640, height: 360 };
const SUB = { width: 320, height: 180 };
const RECT: Region = { x: 0.1, y: 0.1, w: 0.4, h: 0.5 };
const OUTSIDE: Region = { x: 0.6, y: 0.55, w: 0.35, h: 0.4 };

interface SharedStatus {
  pipeline: {
    ingest: { state: string; pid: number | null; restarts: number };
    shared: {
      mode: string;
      source: string;
      up: boolean;
      masking: { state: string } | null;
      relay: { state: string } | null;
    };
  };
}

/** The URL a device hands out: no user info (the gateway inserts the ONVIF credentials). */
function bare(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

async function size(url: string): Promise<{ width: number | undefined; height: number | undefined }> {
  const video = streamOf(await ffprobeStreams(url, { timeoutMs: 20_000 }), 'video');
  return { width: video.width, height: video.height };
}

/** Masked: the region has lost (nearly) all the detail the camera's picture has there. */
function isFlat(frame: GrayFrame, region: Region, original: GrayFrame): boolean {
  return regionStats(frame, region, 2).edge < 0.1 * regionStats(original, region, 2).edge;
}

describe('the integrator chooses the sub stream for the shared tier', () => {
  let main: TestCamera;
  let sub: TestCamera;
  let device: OnvifDeviceSim;
  let gw: GatewayProcess;
  let cameraId: string;
  let urls: StreamUrls;
  let ingestPid: number | null;

  const status = async () => (await gw.api<SharedStatus>('GET', `/api/v1/cameras/${cameraId}/status`)).body.pipeline;
  const waitShared = (what: string, test: (s: SharedStatus['pipeline']['shared']) => boolean, timeoutMs = 30_000) =>
    gw.waitFor(what, async () => test((await status()).shared), timeoutMs);

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    // Both streams demand the device's credentials, as a real camera's do.
    const auth = { user: USER, password: PASSWORD };
    main = await TestCamera.start({ ...MAIN, fps: 25, path: '/Streaming/Channels/101', ...auth });
    sub = await TestCamera.start({ ...SUB, fps: 25, path: '/Streaming/Channels/102', pattern: 'snow', ...auth });
    device = await OnvifDeviceSim.start({
      username: USER,
      password: PASSWORD,
      serial: 'SUB-STREAM-1',
      profiles: [
        { token: 'Profile_101', name: 'mainStream', ...MAIN, streamUri: bare(main.url) },
        { token: 'Profile_102', name: 'subStream', ...SUB, streamUri: bare(sub.url) },
      ],
    });
    gw = await GatewayProcess.start({
      configYaml: 'recording:\n  segmentSeconds: 2\ningest:\n  backoff:\n    initialMs: 300\n    maxMs: 2000',
    });
  }, 60_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllOnvifSims();
    await stopAllTestCameras();
  });

  it('onboards with sharedProfile: raw and recording carry the main stream, the shared tier the sub stream', async () => {
    const res = await gw.api<{ cameraId: string; onvif: { recordProfileToken: string; sharedProfileToken: string } }>(
      'POST',
      '/api/v1/onboard',
      { device: device.xaddr, username: USER, password: PASSWORD, siteType: 'road', name: 'Sub-stream gate', sharedProfile: 'Profile_102' },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.onvif).toMatchObject({ recordProfileToken: 'Profile_101', sharedProfileToken: 'Profile_102' });
    cameraId = res.body.cameraId;
    await waitForUp(gw, cameraId, 1, 20_000);
    await waitShared('the sub-stream relay live', (s) => s.relay?.state === 'live');
    const pipeline = await status();
    expect(pipeline.shared).toMatchObject({ mode: 'relayed', source: 'sub stream', up: true, masking: null });
    ingestPid = pipeline.ingest.pid;
    expect(ingestPid).not.toBeNull();

    urls = await streamUrls(gw, cameraId);
    const [raw, shared] = await Promise.all([size(urls.raw.httpFlv), size(urls.shared.httpFlv)]);
    console.log(`raw ${raw.width}x${raw.height}, shared ${shared.width}x${shared.height}`);
    expect(raw).toEqual(MAIN);
    expect(shared).toEqual(SUB);
    expect((await countFrames(urls.shared.httpFlv, 2)).frames).toBeGreaterThanOrEqual(25);

    // The recording is the main stream's, untouched by the second pull.
    let segment: SegmentView | undefined;
    await gw.waitFor(
      'a finished recorded segment',
      async () => (segment = (await recordingList(gw, cameraId)).segments.find((s) => !s.partial)) !== undefined,
      30_000,
    );
    expect(await size(join(gw.dataDir, 'data', 'recordings', segment?.path ?? 'none'))).toEqual(MAIN);
    const logs = gw.logs.join('\n');
    expect(logs).not.toContain(PASSWORD);
  });

  it('masks the sub stream on its own resolution, without touching the ingest', async () => {
    const patched = await gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [{ shape: 'rect', ...RECT, mode: 'fill' }] });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await waitShared('the masking transcode of the sub stream live', (s) => s.mode === 'masked' && s.masking?.state === 'live');
    const pipeline = await status();
    expect(pipeline.shared.source).toBe('sub stream');
    expect(pipeline.ingest).toMatchObject({ state: 'live', pid: ingestPid, restarts: 0 });

    expect(await size(urls.shared.httpFlv)).toEqual(SUB);
    const [shared, original] = await Promise.all([grayFrame(urls.shared.httpFlv, SUB, 15_000), grayFrame(sub.url, SUB, 15_000)]);
    const inside = { shared: regionStats(shared, RECT, 2), camera: regionStats(original, RECT, 2) };
    const outside = { shared: regionStats(shared, OUTSIDE, 2), camera: regionStats(original, OUTSIDE, 2) };
    console.log(
      `masked rect edge ${inside.shared.edge.toFixed(2)} vs camera ${inside.camera.edge.toFixed(2)}; ` +
        `outside ${outside.shared.edge.toFixed(2)} vs ${outside.camera.edge.toFixed(2)}`,
    );
    expect(inside.camera.edge).toBeGreaterThan(10);
    expect(isFlat(shared, RECT, original)).toBe(true);
    expect(outside.shared.edge).toBeGreaterThan(0.5 * outside.camera.edge);
  });

  it('goes back to the copy relay when the masks are removed', async () => {
    // Removing masks weakens protection: a second admin approves it (four eyes).
    await approvedBySecondAdmin(gw, await gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [] }));
    await waitShared('the sub-stream relay live again', (s) => s.mode === 'relayed' && s.relay?.state === 'live');
    expect(await size(urls.shared.httpFlv)).toEqual(SUB);
    const [shared, original] = await Promise.all([grayFrame(urls.shared.httpFlv, SUB, 15_000), grayFrame(sub.url, SUB, 15_000)]);
    expect(isFlat(shared, RECT, original)).toBe(false);
    expect((await status()).ingest).toMatchObject({ pid: ingestPid, restarts: 0 });
  });

  it('keeps the shared tier dark while the sub stream is down (never raw), and raw plays on', async () => {
    await sub.stop();
    await waitShared('the shared tier down', (s) => !s.up, 20_000);
    await gw.waitFor(
      'a shared_tier_dark incident',
      async () => {
        const res = await gw.api<{ items: Array<{ kind: string }> }>('GET', `/api/v1/incidents?cameraId=${cameraId}`);
        return res.body.items.some((i) => i.kind === 'shared_tier_dark');
      },
      20_000,
    );
    const dark = await grayFrames(urls.shared.httpFlv, SUB, { count: 1, timeoutMs: 5000 });
    expect(dark).toHaveLength(0);
    expect((await countFrames(urls.raw.httpFlv, 2)).frames).toBeGreaterThanOrEqual(25);
    expect(await gw.metric('psvgw_camera_up', { camera_id: cameraId })).toBe(1);
    const pipeline = await status();
    expect(pipeline.shared.source).toBe('sub stream');
    expect(pipeline.ingest).toMatchObject({ state: 'live', pid: ingestPid });
  });

  it('brings the shared tier back when the sub stream returns, resolving the incident', async () => {
    await sub.restart();
    await waitShared('the sub-stream relay live again', (s) => s.up && s.relay?.state === 'live', 30_000);
    await gw.waitFor(
      'the shared_tier_dark incident resolved',
      async () => {
        const res = await gw.api<{ items: Array<{ kind: string }> }>('GET', `/api/v1/incidents?cameraId=${cameraId}`);
        return !res.body.items.some((i) => i.kind === 'shared_tier_dark');
      },
      10_000,
    );
    expect(await size(urls.shared.httpFlv)).toEqual(SUB);
    expect((await status()).ingest).toMatchObject({ pid: ingestPid });
  });
});
