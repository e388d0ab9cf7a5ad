import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedBySecondAdmin, secondAdmin } from '../../helpers/changeSteps.js';
import { addCamera, streamUrls, type ApiError, type StreamUrls } from '../../helpers/cameraSteps.js';
import { grayFrame, grayFrames, regionStats, type GrayFrame, type Region } from '../../helpers/frames.js';
import { ADMIN_TOKEN, CLI_PATH, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { descendants } from '../../helpers/processes.js';
import { FFMPEG_INSTALL_HINT, ffprobeStreams, requireTool, streamOf } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { openWsFlv } from '../../helpers/wsFlv.js';

const SIZE = { width: 640, height: 360 };
const RECT: Region = { x: 0.05, y: 0.1, w: 0.3, h: 0.4 };
/** A triangle; POLY_INSIDE lies well inside it. */
const POLYGON: Array<[number, number]> = [
  [0.55, 0.1],
  [0.95, 0.1],
  [0.75, 0.5],
];
const POLY_INSIDE: Region = { x: 0.68, y: 0.12, w: 0.14, h: 0.13 };
const OUTSIDE: Region = { x: 0.05, y: 0.6, w: 0.4, h: 0.35 };
/** Where the patched masks put a new rectangle. */
const NEW_RECT: Region = { x: 0.55, y: 0.6, w: 0.35, h: 0.3 };

const INITIAL_MASKS = [
  { shape: 'rect', ...RECT, mode: 'fill' },
  { shape: 'polygon', points: POLYGON, mode: 'blur' },
];

interface MaskedCamera {
  id: string;
  masks: unknown[];
  masksVersion: number;
}

/** Masked: the region has lost (nearly) all the detail the raw picture has there. */
function isFlat(frame: GrayFrame, region: Region, raw: GrayFrame): boolean {
  return regionStats(frame, region).edge < 0.1 * regionStats(raw, region).edge;
}

/** This gateway's masking transcodes of the camera (another test's gateway may have a camera of the same ID). */
function maskingPids(gatewayPid: number, cameraId: string): number[] {
  return descendants(gatewayPid)
    .filter(({ argv }) => /(^|\/)ffmpeg$/.test(argv[0] ?? '') && argv.includes('-filter_complex') && argv.some((a) => a.includes(cameraId)))
    .map(({ pid }) => pid);
}

/** Seconds between the first keyframes of a few seconds of a live FLV stream. */
async function keyframeIntervals(url: string, seconds: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'frame=key_frame,pts_time',
      '-read_intervals',
      `%+${seconds}`,
      '-of',
      'csv=p=0',
      url,
    ],
    { timeout: (seconds + 10) * 1000 },
  );
  const keyTimes = stdout
    .split('\n')
    .map((line) => line.split(','))
    .filter(([key]) => key === '1')
    .map(([, pts]) => Number(pts));
  return keyTimes.slice(1).map((t, i) => t - keyTimes[i]!);
}

describe('privacy masks on the shared tier', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let urls: StreamUrls;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    camera = await TestCamera.start({ ...SIZE, fps: 25, pattern: 'snow' });
    gw = await GatewayProcess.start({ configYaml: 'ingest:\n  backoff:\n    initialMs: 300\n    maxMs: 2000' });
    cameraId = (await addCamera(gw, camera.url, 'Masked gate', { masks: INITIAL_MASKS })).id;
    await gw.waitFor(
      'psvgw_shared_tier_up == 1',
      async () => (await gw.metric('psvgw_shared_tier_up', { camera_id: cameraId })) === 1,
      20_000,
    );
    urls = await streamUrls(gw, cameraId);
    await secondAdmin(gw);
  }, 60_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('masks the regions on the shared tier only, keeping detail elsewhere', async () => {
    const [shared, raw] = await Promise.all([grayFrame(urls.shared.httpFlv, SIZE), grayFrame(urls.raw.httpFlv, SIZE)]);
    const figures = (region: Region) => ({ shared: regionStats(shared, region), raw: regionStats(raw, region) });
    const rect = figures(RECT);
    const poly = figures(POLY_INSIDE);
    const outside = figures(OUTSIDE);
    console.log(
      `rect (fill): variance shared ${rect.shared.variance.toFixed(1)} vs raw ${rect.raw.variance.toFixed(1)}, ` +
        `edge ${rect.shared.edge.toFixed(2)} vs ${rect.raw.edge.toFixed(2)}; ` +
        `polygon (blur): variance ${poly.shared.variance.toFixed(1)} vs ${poly.raw.variance.toFixed(1)}, ` +
        `edge ${poly.shared.edge.toFixed(2)} vs ${poly.raw.edge.toFixed(2)}; ` +
        `outside: edge ${outside.shared.edge.toFixed(2)} vs ${outside.raw.edge.toFixed(2)}`,
    );
    for (const r of [rect, poly]) {
      expect(r.raw.edge).toBeGreaterThan(10); // the raw tier keeps the camera's detail there
      expect(r.shared.edge).toBeLessThan(0.1 * r.raw.edge);
      expect(r.shared.variance).toBeLessThan(0.1 * r.raw.variance);
    }
    expect(outside.shared.edge).toBeGreaterThan(0.5 * outside.raw.edge);
  });

  it('serves a JPEG snapshot of the shared tier; the raw tier only under an approved access request', async () => {
    const snapshot = (tier: string) =>
      fetch(`${gw.apiUrl}/api/v1/cameras/${cameraId}/snapshot?tier=${tier}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        signal: AbortSignal.timeout(15_000),
      });
    const res = await snapshot('shared');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/jpeg/);
    const body = Buffer.from(await res.arrayBuffer());
    expect([body[0], body[1]]).toEqual([0xff, 0xd8]);
    // The admin is no exception: raw footage needs a request (the policy, src/access/policy.ts).
    expect((await snapshot('raw')).status).toBe(403);
    const anonymous = await fetch(`${gw.apiUrl}/api/v1/cameras/${cameraId}/snapshot?tier=raw`);
    expect(anonymous.status).toBe(401);
  });

  it('applies changed masks within 5 s without disturbing the raw tier', async () => {
    const restarts = await gw.metric('psvgw_camera_restarts_total', { camera_id: cameraId });
    const raw = await grayFrame(urls.raw.httpFlv, SIZE);
    const viewer = await openWsFlv(urls.raw.wsFlv);
    try {
      await viewer.until('a raw frame', (tags) => tags.some((t) => t.type === 'video'), 5000);
      // Dropping the old masks weakens protection: it applies when a second admin approves (four eyes).
      const proposed = await gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [{ shape: 'rect', ...NEW_RECT, mode: 'fill' }] });
      const before = viewer.tags.length;
      const patched = Date.now();
      await approvedBySecondAdmin(gw, proposed);
      expect((await gw.api<MaskedCamera>('GET', `/api/v1/cameras/${cameraId}`)).body.masksVersion).toBe(2);
      let frame: GrayFrame | null = null;
      for (;;) {
        frame = await grayFrame(urls.shared.httpFlv, SIZE).catch(() => null);
        if (frame && isFlat(frame, NEW_RECT, raw) && !isFlat(frame, RECT, raw)) break;
        if (Date.now() - patched > 15_000) throw new Error('the new masks never showed on the shared tier');
      }
      const elapsed = Date.now() - patched;
      const tags = viewer.tags.length - before;
      console.log(`mask change visible on the shared tier after ${elapsed} ms; the raw viewer got ${tags} tags meanwhile`);
      expect(elapsed).toBeLessThanOrEqual(5000);
      expect(tags).toBeGreaterThanOrEqual(Math.floor((elapsed / 1000) * 25 * 0.7));
      expect(await gw.metric('psvgw_camera_restarts_total', { camera_id: cameraId })).toBe(restarts);
    } finally {
      await viewer.close();
    }
  }, 30_000);

  it('fails closed: the shared tier goes dark, never raw, while the masking transcode is down', async () => {
    const raw = await grayFrame(urls.raw.httpFlv, SIZE);
    const pids = maskingPids(gw.pid, cameraId);
    expect(pids).toHaveLength(1);
    let unmasked = 0;
    let sawDown = false;
    const watching = grayFrames(urls.shared.httpFlv, SIZE, {
      count: 1000,
      timeoutMs: 8000,
      fps: 5,
      onFrame: (f) => {
        if (!isFlat(f, NEW_RECT, raw)) unmasked++;
      },
    });
    const polling = (async () => {
      const until = Date.now() + 8000;
      while (Date.now() < until && !sawDown) {
        if ((await gw.metric('psvgw_shared_tier_up', { camera_id: cameraId })) === 0) sawDown = true;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    process.kill(pids[0]!, 'SIGKILL');
    await polling;
    await gw.waitFor(
      'the shared tier back up',
      async () => (await gw.metric('psvgw_shared_tier_up', { camera_id: cameraId })) === 1,
      15_000,
    );
    const recoveredMs = Date.now() - killedAt;
    const seen = await watching;
    console.log(
      `masking killed: shared tier up again ${recoveredMs} ms later; ` +
        `${seen.length} shared frames watched across the outage, ${unmasked} unmasked`,
    );
    expect(sawDown).toBe(true);
    expect(unmasked).toBe(0);
    await gw.waitForLine((l) => l.includes('shared tier dark: masking failed') && l.includes(cameraId), 5000);
    const after = await grayFrame(urls.shared.httpFlv, SIZE);
    expect(isFlat(after, NEW_RECT, raw)).toBe(true);
    expect(maskingPids(gw.pid, cameraId)).toHaveLength(1);
  }, 40_000);

  it('refuses invalid masks, naming the problem, and changes nothing', async () => {
    const invalid: Array<[string, unknown]> = [
      [
        'self-intersecting polygon',
        {
          shape: 'polygon',
          points: [
            [0.1, 0.1],
            [0.5, 0.5],
            [0.5, 0.1],
            [0.1, 0.5],
          ],
          mode: 'fill',
        },
      ],
      ['coordinates outside 0..1', { shape: 'rect', x: 0.5, y: 0.2, w: 0.8, h: 1.4, mode: 'blur' }],
      [
        'fewer than 3 points',
        {
          shape: 'polygon',
          points: [
            [0.1, 0.1],
            [0.2, 0.2],
          ],
          mode: 'mosaic',
        },
      ],
    ];
    const before = (await gw.api<MaskedCamera>('GET', `/api/v1/cameras/${cameraId}`)).body;
    for (const [what, mask] of invalid) {
      const res = await gw.api<ApiError>('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [mask] });
      console.log(`${what}: ${res.status} ${res.body.error.message}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.message).toContain('masks[0]');
    }
    const after = (await gw.api<MaskedCamera>('GET', `/api/v1/cameras/${cameraId}`)).body;
    expect(after.masks).toEqual(before.masks);
    expect(after.masksVersion).toBe(before.masksVersion);
  });

  it('applies a per-camera encoder override to the shared tier only, restarting only the masking transcode', async () => {
    const restarts = await gw.metric('psvgw_camera_restarts_total', { camera_id: cameraId });
    const [oldPid] = maskingPids(gw.pid, cameraId);
    const res = await gw.api<MaskedCamera & { sharedEncoder: unknown }>('PATCH', `/api/v1/cameras/${cameraId}`, {
      sharedEncoder: { maxHeight: 240, gopSeconds: 2, maxBitrateKbps: 600, preset: 'ultrafast' },
    });
    expect(res.status).toBe(200);
    expect(res.body.sharedEncoder).toEqual({ maxHeight: 240, gopSeconds: 2, maxBitrateKbps: 600, preset: 'ultrafast' });
    await gw.waitFor('a new masking transcode', () => maskingPids(gw.pid, cameraId).some((pid) => pid !== oldPid), 10_000);
    await gw.waitFor(
      'a 240-line shared tier',
      async () => {
        const streams = await ffprobeStreams(urls.shared.httpFlv).catch(() => []);
        return streams.length > 0 && streamOf(streams, 'video').height === 240;
      },
      15_000,
    );
    const raw = streamOf(await ffprobeStreams(urls.raw.httpFlv), 'video');
    const gaps = await keyframeIntervals(urls.shared.httpFlv, 7);
    console.log(
      `encoder override: shared 240 lines, raw ${raw.height} lines; shared keyframe intervals ${gaps.map((g) => g.toFixed(2)).join(', ')} s`,
    );
    expect(raw.height).toBe(SIZE.height);
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    for (const gap of gaps) expect(gap).toBeCloseTo(2, 1);
    expect(await gw.metric('psvgw_camera_restarts_total', { camera_id: cameraId })).toBe(restarts);

    const refused = await gw.api<ApiError>('PATCH', `/api/v1/cameras/${cameraId}`, { sharedEncoder: { gopSeconds: 5, codec: 'h265' } });
    console.log(`invalid override: ${refused.status} ${refused.body.error.message}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('sharedEncoder.gopSeconds must be more than 0 and at most 2 s');
    expect(refused.body.error.message).toContain('unknown field "codec" in sharedEncoder');
    const after = (await gw.api<{ sharedEncoder: unknown }>('GET', `/api/v1/cameras/${cameraId}`)).body;
    expect(after.sharedEncoder).toEqual(res.body.sharedEncoder);
  }, 60_000);

  it('mirrors raw again once the masks are removed', async () => {
    await approvedBySecondAdmin(gw, await gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [] }));
    await gw.waitFor('no masking transcode', () => maskingPids(gw.pid, cameraId).length === 0, 10_000);
    const raw = await grayFrame(urls.raw.httpFlv, SIZE);
    await gw.waitFor(
      'an unmasked shared frame',
      async () => {
        const frame = await grayFrame(urls.shared.httpFlv, SIZE).catch(() => null);
        return frame !== null && !isFlat(frame, NEW_RECT, raw);
      },
      10_000,
    );
    await gw.waitFor('no masking gauge', async () => (await gw.metric('psvgw_masking_up', { camera_id: cameraId })) === undefined, 5000);
  }, 30_000);

  it('draws masks from the CLI and previews them on a shared-tier snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psvgw-cli-'));
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [CLI_PATH, 'cameras', ...args], {
        env: { ...process.env, PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN },
        encoding: 'utf8',
        timeout: 30_000,
      });
    writeFileSync(join(dir, 'masks.json'), JSON.stringify([{ shape: 'rect', ...RECT, mode: 'mosaic' }]));
    const saved = cli('update', cameraId, '--masks', join(dir, 'masks.json'), '--shared-encoder', '{}');
    expect(saved.stderr).toBe('');
    expect(saved.stdout).toMatch(/^updated \d{20}: masks, sharedEncoder; masks version \d+/);
    const camera = (await gw.api<MaskedCamera>('GET', `/api/v1/cameras/${cameraId}`)).body;
    expect(camera.masks).toEqual([{ shape: 'rect', ...RECT, mode: 'mosaic' }]);
    await gw.waitFor('the masked shared tier', async () => (await gw.metric('psvgw_masking_up', { camera_id: cameraId })) === 1, 15_000);
    const preview = cli('snapshot', cameraId, '--tier', 'shared', '-o', join(dir, 'preview.jpg'));
    expect(preview.stdout).toMatch(/wrote .*preview\.jpg \(shared tier, \d+ bytes\)/);
    expect([...readFileSync(join(dir, 'preview.jpg')).subarray(0, 2)]).toEqual([0xff, 0xd8]);

    const bad = cli('update', cameraId, '--shared-encoder', '{"gopSeconds":4}');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('sharedEncoder.gopSeconds must be more than 0 and at most 2 s');
    const notJson = cli('update', cameraId, '--masks', join(dir, 'missing.json'));
    expect(notJson.status).not.toBe(0);
    expect(notJson.stderr).toContain('cannot read');
  }, 60_000);
});
