import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDecodableStart } from '../../../src/media/flv.js';
import { footageViewer } from '../../helpers/accessSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, countFrames, ffprobeStreams, requireTool, streamOf } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { openWsFlv } from '../../helpers/wsFlv.js';

const CAMERA_FPS = 25;

interface StreamUrls {
  httpFlv: string;
  wsFlv: string;
  expiresAt: string;
}
interface StreamsBody {
  cameraId: string;
  raw: StreamUrls;
  shared: StreamUrls;
}

describe('a camera added over the API goes live and plays', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let urls: StreamsBody;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    camera = await TestCamera.start({ fps: CAMERA_FPS, width: 640, height: 360 });
    gw = await GatewayProcess.start();
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('is live within 5 s of being added', async () => {
    const posted = Date.now();
    const res = await gw.api<{ id: string }>('POST', '/api/v1/cameras', {
      name: 'Gate east',
      rtspUrl: camera.url,
      siteType: 'school_gate',
    });
    expect(res.status).toBe(201);
    cameraId = res.body.id;
    const created = Date.now() - posted;
    const elapsed = await gw.waitFor(
      'psvgw_camera_up == 1',
      async () => (await gw.metric('psvgw_camera_up', { camera_id: cameraId })) === 1,
      10_000,
    );
    console.log(`time to live: ${elapsed} ms after the 201 (the POST, which probes the camera, took ${created} ms more)`);
    expect(elapsed).toBeLessThanOrEqual(5000);
  });

  it('is listed as live', async () => {
    const list = await gw.api<{ items: Array<{ id: string; status: { state: string } }>; total: number }>('GET', '/api/v1/cameras');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.items.find((c) => c.id === cameraId)?.status.state).toBe('live');
  });

  it('hands out playback URLs for both tiers', async () => {
    // The raw tier's URL is handed out only under an approved view_live_raw request.
    const officer = await footageViewer(gw, [cameraId]);
    const res = await gw.api<StreamsBody>('GET', `/api/v1/cameras/${cameraId}/streams`, undefined, officer);
    expect(res.status).toBe(200);
    urls = res.body;
    for (const tier of ['raw', 'shared'] as const) {
      expect(urls[tier].httpFlv).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${gw.ports.flv}/${tier}/${cameraId}\\.flv\\?token=`));
      expect(urls[tier].wsFlv).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${gw.ports.flv}/${tier}/${cameraId}\\.flv\\?token=`));
      expect(Date.parse(urls[tier].expiresAt)).toBeGreaterThan(Date.now());
    }
  });

  it('serves the raw tier as HTTP-FLV H.264 at the camera frame rate', async () => {
    const video = streamOf(await ffprobeStreams(urls.raw.httpFlv), 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    const measured = await countFrames(urls.raw.httpFlv, 3);
    console.log(
      `raw tier over HTTP-FLV: ${measured.frames} frames in ${measured.outTimeSec.toFixed(2)} s of media = ${measured.fps.toFixed(2)} fps`,
    );
    expect(measured.frames).toBeGreaterThanOrEqual(CAMERA_FPS * 2);
    expect(measured.fps).toBeGreaterThanOrEqual(CAMERA_FPS * 0.85);
    expect(measured.fps).toBeLessThanOrEqual(CAMERA_FPS * 1.15);
  });

  it('serves the shared tier too', async () => {
    const video = streamOf(await ffprobeStreams(urls.shared.httpFlv), 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    const measured = await countFrames(urls.shared.httpFlv, 2);
    expect(measured.frames).toBeGreaterThanOrEqual(CAMERA_FPS);
  });

  it('serves WS-FLV starting with a decodable frame, and counts the viewer', async () => {
    const requested = Date.now();
    const viewer = await openWsFlv(urls.raw.wsFlv);
    try {
      await viewer.until('a keyframe', (tags) => tags.some((t) => t.type === 'video' && t.keyframe && t.avcPacketType === 1), 5000);
      const firstPicture = Date.now() - requested;
      await viewer.until('50 video tags', (tags) => tags.filter((t) => t.type === 'video').length >= 50, 10_000);
      console.log(`WS-FLV: first keyframe ${firstPicture} ms after the request; ${viewer.tags.length} tags, ${viewer.bytes} bytes`);
      expect(viewer.header).toMatchObject({ hasVideo: true, hasAudio: false });

      // The GOP cache hands a new viewer the AVC sequence header, then a keyframe, before live frames.
      const video = viewer.tags.filter((t) => t.type === 'video');
      expect(video[0]).toMatchObject({ codecId: 7, avcPacketType: 0 });
      expect(isDecodableStart(video[0]!)).toBe(true);
      const frames = video.filter((t) => t.avcPacketType === 1);
      expect(frames[0]?.keyframe).toBe(true);
      expect(firstPicture).toBeLessThanOrEqual(500);
      // What follows is a live stream: at least 48 more frames, their DTS spanning over a second.
      expect(frames.length).toBeGreaterThanOrEqual(49);
      expect(frames.at(-1)!.timestamp - frames[0]!.timestamp).toBeGreaterThanOrEqual(1000);

      const viewers = async () => (await gw.metric('psvgw_stream_viewers', { camera_id: cameraId, tier: 'raw' })) ?? 0;
      expect(await viewers()).toBeGreaterThanOrEqual(1);
      await viewer.close();
      await gw.waitFor('the raw viewer count to drop back to 0', async () => (await viewers()) === 0, 5000);
    } finally {
      await viewer.close();
    }
  });

  it('reports frame rate and bitrate in /metrics', async () => {
    const fps = await gw.metric('psvgw_camera_fps', { camera_id: cameraId });
    expect(fps).toBeGreaterThan(0);
    await gw.waitFor(
      'a bitrate sample',
      async () => ((await gw.metric('psvgw_camera_bitrate_bps', { camera_id: cameraId })) ?? 0) > 0,
      5000,
    );
    const bitrate = await gw.metric('psvgw_camera_bitrate_bps', { camera_id: cameraId });
    console.log(`metrics: psvgw_camera_fps=${fps} psvgw_camera_bitrate_bps=${bitrate}`);
    expect(bitrate).toBeGreaterThan(10_000);
  });
});
