import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamUrls } from '../../helpers/cameraSteps.js';
import { ADMIN_TOKEN, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, ffprobeStreams, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { httpFlvStart } from '../../helpers/httpFlv.js';
import { openWsFlv } from '../../helpers/wsFlv.js';

const CAMERA_USER = 'gate-operator7';
const CAMERA_PASSWORD = 'S3cret-cam-pw';

interface StreamUrls {
  httpFlv: string;
  wsFlv: string;
}
interface StreamsBody {
  raw: StreamUrls;
  shared: StreamUrls;
}

function tokenOf(url: string): string {
  const token = new URL(url).searchParams.get('token');
  if (!token) throw new Error(`no token in ${url}`);
  return token;
}

/** The same URL with its token replaced (or removed when `token` is null). */
function withToken(url: string, token: string | null): string {
  const u = new URL(url);
  if (token === null) u.searchParams.delete('token');
  else u.searchParams.set('token', token);
  return u.toString();
}

describe('playback and API access control', () => {
  let gw: GatewayProcess;
  let cameraId: string;
  let live: StreamsBody;
  let other: StreamsBody;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start({ user: CAMERA_USER, password: CAMERA_PASSWORD });
    gw = await GatewayProcess.start();
    const created = await gw.api<{ id: string }>('POST', '/api/v1/cameras', {
      name: 'Gate west',
      rtspUrl: camera.url,
      siteType: 'school_gate',
    });
    expect(created.status).toBe(201);
    cameraId = created.body.id;
    // A second, disabled camera: only its tokens are needed.
    const second = await gw.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
      name: 'Gate north',
      rtspUrl: camera.baseUrl,
      siteType: 'school_gate',
      enabled: false,
    });
    expect(second.status).toBe(201);
    live = await streamUrls(gw, cameraId);
    other = await streamUrls(gw, second.body.id);
    await gw.waitFor('the camera to be live', async () => (await gw.metric('psvgw_camera_up', { camera_id: cameraId })) === 1, 15_000);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  // Each case is a URL of the live camera's raw tier that must be refused.
  const refusals: Array<[string, () => string]> = [
    ['no token', () => withToken(live.raw.httpFlv, null)],
    ['a garbage token', () => withToken(live.raw.httpFlv, 'not-a-token')],
    ['a token with a forged signature', () => withToken(live.raw.httpFlv, `${tokenOf(live.raw.httpFlv).split('.')[0]}.AAAA`)],
    ["another camera's token", () => withToken(live.raw.httpFlv, tokenOf(other.raw.httpFlv))],
    ["the shared tier's token", () => withToken(live.raw.httpFlv, tokenOf(live.shared.httpFlv))],
  ];

  it('plays with the token it handed out', async () => {
    for (const url of [live.raw.httpFlv, live.shared.httpFlv]) {
      const res = await httpFlvStart(url);
      expect(res.status).toBe(200);
      expect(res.head.startsWith('FLV')).toBe(true);
    }
  });

  it.each(refusals)('refuses HTTP-FLV with %s: 403, no video', async (_what, url) => {
    const res = await httpFlvStart(url());
    expect(res.status).toBe(403);
    expect(res.head).toMatch(/^playback token refused/);
  });

  it.each(refusals)('refuses WS-FLV with %s: close 4403, no FLV data', async (_what, url) => {
    const viewer = await openWsFlv(url().replace(/^http:/, 'ws:'));
    const closed = await Promise.race([viewer.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    await viewer.close();
    expect(closed?.code).toBe(4403);
    expect(closed?.reason).toMatch(/^playback token refused/);
    expect(viewer.bytes).toBe(0);
  });

  it('refuses RTMP playback without a token', async () => {
    const refusedSoFar = () => gw.logs.filter((l) => l.includes('playback refused') && l.includes('no token')).length;
    const before = refusedSoFar();
    const url = `rtmp://127.0.0.1:${gw.ports.rtmp}/raw/${cameraId}`;
    await expect(ffprobeStreams(url, { timeoutMs: 10_000 })).rejects.toThrow();
    await gw.waitFor('the refusal in the log', () => refusedSoFar() > before, 2000);
  });

  it('counts no viewer for refused attempts, and one for a real one', async () => {
    // The accepted viewer of the first test has left; none of the refused ones may linger.
    await gw.waitFor('no viewers', async () => ((await gw.metric('psvgw_stream_viewers', { camera_id: cameraId })) ?? 0) === 0, 3000);
    const viewer = await openWsFlv(live.raw.wsFlv);
    try {
      await viewer.until('a video tag', (tags) => tags.some((t) => t.type === 'video'), 5000);
      await gw.waitFor(
        'one raw viewer counted',
        async () => (await gw.metric('psvgw_stream_viewers', { camera_id: cameraId, tier: 'raw' })) === 1,
        3000,
      );
    } finally {
      await viewer.close();
    }
  });

  it('refuses API calls without a valid bearer token with 401 UNAUTHORIZED', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['no header', {}],
      ['a wrong token', { authorization: 'Bearer wrong-token-0123456789' }],
      ['the admin token under another scheme', { authorization: `Basic ${ADMIN_TOKEN}` }],
      ['an empty bearer', { authorization: 'Bearer ' }],
    ];
    for (const [what, headers] of cases) {
      for (const path of ['/api/v1/cameras', `/api/v1/cameras/${cameraId}/streams`, '/api/v1/system']) {
        const res = await fetch(`${gw.apiUrl}${path}`, { headers });
        const body = (await res.json()) as { error?: { code?: string } };
        expect({ what, path, status: res.status, code: body.error?.code }).toEqual({ what, path, status: 401, code: 'UNAUTHORIZED' });
      }
    }
    const refusedCreate = await gw.api(
      'POST',
      '/api/v1/cameras',
      { name: 'x', rtspUrl: 'rtsp://127.0.0.1/x', siteType: 'school_gate' },
      null,
    );
    expect(refusedCreate.status).toBe(401);
    expect((await gw.api<{ total: number }>('GET', '/api/v1/cameras')).body.total).toBe(2);
  });

  it('serves /healthz and /metrics without a token, and /metrics leaks no URL or secret', async () => {
    const health = await fetch(`${gw.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const res = await fetch(`${gw.apiUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`psvgw_camera_up{camera_id="${cameraId}"} 1`);
    for (const secret of [
      'rtsp://',
      CAMERA_PASSWORD,
      CAMERA_USER,
      ADMIN_TOKEN,
      tokenOf(live.raw.httpFlv),
      tokenOf(live.shared.httpFlv),
      'token=',
      'sign=',
    ]) {
      expect(text, `/metrics contains ${secret}`).not.toContain(secret);
    }
  });

  it('writes neither the camera password nor playback tokens to its log', () => {
    const log = gw.logs.join('\n');
    expect(log).toContain('playback refused');
    for (const secret of [CAMERA_PASSWORD, ADMIN_TOKEN, tokenOf(live.raw.httpFlv), tokenOf(live.shared.httpFlv)]) {
      expect(log, `the log contains ${secret}`).not.toContain(secret);
    }
  });
});
