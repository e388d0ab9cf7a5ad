import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey, KEY_PURPOSES } from '../../../src/cameras/credentialBox.js';
import { signPlayToken, type PlayGrant } from '../../../src/media/playToken.js';
import { decideRequest, fileRequest, userWithRole } from '../../helpers/accessSteps.js';
import { addCamera, waitForUp, type ApiError } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, ffprobeStreams, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { httpFlvStart } from '../../helpers/httpFlv.js';
import { openWsFlv } from '../../helpers/wsFlv.js';

const SEGMENT_SECONDS = 2;

interface Urls {
  httpFlv: string;
  wsFlv: string;
  expiresAt: string;
}
interface Streams {
  raw: Urls | { refused: string };
  shared: Urls;
}
interface Recordings {
  segments: { seq: number }[];
  playback: { hls: string; expiresAt: string } | { refused: string };
}

/** A WS-FLV play that must be refused: close 4403 with the reason, and no FLV byte. */
async function wsRefusal(url: string): Promise<string> {
  const viewer = await openWsFlv(url);
  const closed = await Promise.race([viewer.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
  await viewer.close();
  expect(closed?.code).toBe(4403);
  expect(viewer.bytes).toBe(0);
  return closed?.reason ?? '';
}

function urlsOf(tier: Streams['raw']): Urls {
  if ('refused' in tier) throw new Error(`the raw tier was refused: ${tier.refused}`);
  return tier;
}

describe('playback governed by access requests (strict profile)', () => {
  let gw: GatewayProcess;
  let cameraId: string;
  let tokens: Record<'officer' | 'approver1' | 'op' | 'aud' | 'maint', string>;
  let key: Buffer;
  let liveRequest: string;
  let recordedRequest: string;
  let rawUrls: Urls;
  let hls: string;

  const streams = (token: string) => gw.api<Streams | ApiError>('GET', `/api/v1/cameras/${cameraId}/streams`, undefined, token);
  const recordings = (token: string | undefined, from = Date.now() - 3600_000, to = Date.now()) =>
    gw.api<Recordings | ApiError>('GET', `/api/v1/cameras/${cameraId}/recordings?from=${from}&to=${to}`, undefined, token);
  const handMade = (grant: Omit<PlayGrant, 'cameraId' | 'expiresAt' | 'purpose'>) =>
    signPlayToken({ cameraId, expiresAt: Math.floor(Date.now() / 1000) + 120, purpose: 'view', ...grant }, key);
  const flvUrl = (token: string) => `http://127.0.0.1:${gw.ports.flv}/raw/${cameraId}.flv?token=${token}`;
  const hlsUrl = (token: string) =>
    `${gw.apiUrl}/playback/${cameraId}/index.m3u8?from=${Date.now() - 3600_000}&to=${Date.now()}&token=${encodeURIComponent(token)}`;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start();
    gw = await GatewayProcess.start({ configYaml: `recording:\n  segmentSeconds: ${SEGMENT_SECONDS}` });
    cameraId = (await addCamera(gw, camera.url, 'Gate south')).id;
    // Development mode keeps its generated secret in the data directory: a forger who had it could sign tokens.
    const secret = readFileSync(join(gw.dataDir, 'data', 'keys', 'secret.key'), 'utf8').trim();
    key = deriveKey(secret, KEY_PURPOSES.playbackToken);
    tokens = {
      officer: await userWithRole(gw, 'officer', 'police'),
      approver1: await userWithRole(gw, 'approver1', 'approver'),
      op: await userWithRole(gw, 'op', 'operator'),
      aud: await userWithRole(gw, 'aud', 'auditor'),
      maint: await userWithRole(gw, 'maint', 'maintainer'),
    };
    await waitForUp(gw, cameraId, 1, 30_000);
  }, 90_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('before approval: no raw URL (saying why), hand-made raw tokens refused over HTTP-FLV and WS-FLV, no HLS', async () => {
    const before = await streams(tokens.officer);
    expect(before.status).toBe(200);
    const body = before.body as Streams;
    expect('refused' in body.raw && body.raw.refused).toContain('needs an approved access request of kind view_live_raw');
    expect(body.shared.httpFlv).toContain(`/shared/${cameraId}.flv?token=`);

    // Signed with the real key, but naming no viewer and request, or a request that was never approved.
    const unbound = handMade({ tier: 'raw' });
    const inventedRequest = handMade({ tier: 'raw', binding: { userId: 'someone', requestId: 'no-such-request' } });
    for (const [token, why] of [
      [unbound, 'must name its viewer and access request'],
      [inventedRequest, 'access request no-such-request is no longer approved'],
    ] as const) {
      const http = await httpFlvStart(flvUrl(token));
      expect(http.status).toBe(403);
      expect(http.head).toContain(why);
      expect(await wsRefusal(flvUrl(token).replace(/^http:/, 'ws:'))).toContain('playback token refused');
    }

    // RTMP (loopback) is governed by the same hook.
    const rtmpRefusals = () => gw.logs.filter((l) => l.includes('playback refused') && l.includes('must name its viewer')).length;
    const seen = rtmpRefusals();
    await expect(
      ffprobeStreams(`rtmp://127.0.0.1:${gw.ports.rtmp}/raw/${cameraId}?token=${unbound}`, { timeoutMs: 10_000 }),
    ).rejects.toThrow();
    await gw.waitFor('the RTMP refusal in the log', () => Promise.resolve(rtmpRefusals() > seen), 5000);

    for (const who of [tokens.officer, undefined]) {
      const list = await recordings(who);
      expect(list.status).toBe(200);
      const playback = (list.body as Recordings).playback;
      expect('refused' in playback && playback.refused).toContain('needs an approved access request of kind view_recorded');
    }
    const hlsRefused = await fetch(hlsUrl(handMade({ tier: 'recording' })));
    expect(hlsRefused.status).toBe(403);
    expect(await hlsRefused.text()).toContain('must name its viewer and access request');
  });

  it('after approval by approver1 the officer plays raw HTTP-FLV and gets the HLS list, no longer than the window', async () => {
    const now = Date.now();
    liveRequest = await fileRequest(gw, tokens.officer, 'view_live_raw', [cameraId], {
      from: new Date(now - 60_000),
      to: new Date(now + 600_000),
    });
    recordedRequest = await fileRequest(gw, tokens.officer, 'view_recorded', [cameraId], {
      from: new Date(now - 86_400_000),
      to: new Date(now + 600_000),
    });
    for (const id of [liveRequest, recordedRequest]) await decideRequest(gw, tokens.approver1, id, 'approve');

    rawUrls = urlsOf(((await streams(tokens.officer)).body as Streams).raw);
    expect(Date.parse(rawUrls.expiresAt)).toBeLessThanOrEqual(now + 600_000);
    const played = await httpFlvStart(rawUrls.httpFlv);
    expect(played.status).toBe(200);
    expect(played.head.startsWith('FLV')).toBe(true);

    // Wait for a recorded segment, then play the list.
    let list: Recordings | undefined;
    await gw.waitFor(
      'a recorded segment',
      async () => {
        list = (await recordings(tokens.officer, now - 3600_000, Date.now())).body as Recordings;
        return list.segments.length > 0;
      },
      60_000,
    );
    const playback = list!.playback;
    if ('refused' in playback) throw new Error(`HLS refused: ${playback.refused}`);
    hls = playback.hls;
    const m3u8 = await fetch(hls);
    expect(m3u8.status).toBe(200);
    expect(await m3u8.text()).toContain('#EXTM3U');
    // The range is signed into the token: widening the URL's from is refused.
    const widened = new URL(hls);
    widened.searchParams.set('from', String(now - 2 * 86_400_000));
    const wide = await fetch(widened);
    expect(wide.status).toBe(403);
    expect(await wide.text()).toContain('the token plays');
  });

  it('after revocation the running raw viewer is cut off within 5 s and new plays are refused', async () => {
    const viewer = await openWsFlv(rawUrls.wsFlv);
    await gw.waitFor('FLV bytes at the raw viewer', () => Promise.resolve(viewer.bytes > 0), 15_000);
    const revokedAt = Date.now();
    await decideRequest(gw, tokens.approver1, liveRequest, 'revoke');
    const closed = await Promise.race([viewer.closed, new Promise<null>((r) => setTimeout(() => r(null), 8000))]);
    const cutAfterMs = Date.now() - revokedAt;
    await viewer.close();
    console.log(`raw viewer cut off ${cutAfterMs} ms after revocation`);
    expect(closed).not.toBeNull();
    expect(cutAfterMs).toBeLessThanOrEqual(5000);

    const again = await httpFlvStart(rawUrls.httpFlv);
    expect(again.status).toBe(403);
    expect(again.head).toContain(`access request ${liveRequest} is no longer approved`);
    expect(await wsRefusal(rawUrls.wsFlv)).toContain('no longer approved');
    expect('refused' in ((await streams(tokens.officer)).body as Streams).raw).toBe(true);

    await decideRequest(gw, tokens.approver1, recordedRequest, 'revoke');
    const hlsAgain = await fetch(hls);
    expect(hlsAgain.status).toBe(403);
    expect(await hlsAgain.text()).toContain('no longer approved');
  });

  it('when the request expires the running raw viewer is cut off within 5 s and new plays are refused', async () => {
    // Long enough for filing, approval and a first frame on a loaded machine.
    const windowEnd = Date.now() + 15_000;
    const shortLived = await fileRequest(gw, tokens.officer, 'view_live_raw', [cameraId], {
      from: new Date(Date.now() - 60_000),
      to: new Date(windowEnd),
    });
    await decideRequest(gw, tokens.approver1, shortLived, 'approve');
    const urls = urlsOf(((await streams(tokens.officer)).body as Streams).raw);
    expect(Date.parse(urls.expiresAt)).toBeLessThanOrEqual(windowEnd);
    const viewer = await openWsFlv(urls.wsFlv);
    await gw.waitFor('FLV bytes at the raw viewer', () => Promise.resolve(viewer.bytes > 0), 10_000);
    const closed = await Promise.race([viewer.closed, new Promise<null>((r) => setTimeout(() => r(null), windowEnd - Date.now() + 8000))]);
    const lateMs = Date.now() - windowEnd;
    await viewer.close();
    console.log(`raw viewer cut off ${lateMs} ms after its request's window ended`);
    expect(closed).not.toBeNull();
    expect(lateMs).toBeLessThanOrEqual(5000);
    const again = await httpFlvStart(urls.httpFlv);
    expect(again.status).toBe(403);
  });

  it('an operator plays the shared tier and is refused the raw tier', async () => {
    const body = (await streams(tokens.op)).body as Streams;
    const shared = await httpFlvStart(body.shared.httpFlv);
    expect(shared.status).toBe(200);
    expect(shared.head.startsWith('FLV')).toBe(true);
    expect('refused' in body.raw && body.raw.refused).toContain('needs an approved access request');
    expect((await gw.api('GET', `/api/v1/cameras/${cameraId}/snapshot?tier=raw`, undefined, tokens.op)).status).toBe(403);
  });

  it('an auditor reads the audit log and is refused all footage', async () => {
    const audit = await gw.api<{ items: { action: string }[] }>('GET', '/api/v1/audit?limit=1000', undefined, tokens.aud);
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((e) => e.action)).toEqual(expect.arrayContaining(['access_request.approve', 'access_request.revoke']));
    await expectNoFootage(tokens.aud);
  });

  it('a maintainer edits masks and is refused all footage', async () => {
    const masks = [{ shape: 'rect', x: 0.1, y: 0.1, w: 0.2, h: 0.2, mode: 'fill' }];
    const patched = await gw.api<{ masks: unknown[] } | ApiError>('PATCH', `/api/v1/cameras/${cameraId}`, { masks }, tokens.maint);
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await expectNoFootage(tokens.maint);
    // Nor may they read the audit log.
    expect((await gw.api('GET', '/api/v1/audit', undefined, tokens.maint)).status).toBe(403);
  });

  async function expectNoFootage(token: string): Promise<void> {
    for (const path of [
      `/streams`,
      `/snapshot?tier=raw`,
      `/snapshot?tier=shared`,
      `/recordings?from=${Date.now() - 3600_000}&to=${Date.now()}`,
    ]) {
      const res = await gw.api<ApiError>('GET', `/api/v1/cameras/${cameraId}${path}`, undefined, token);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
  }
});

describe('the guangdong exemption (Art. 22): police view raw without a request, and it is audited', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await GatewayProcess.start({ configYaml: 'profile: guangdong' });
  }, 60_000);

  afterAll(async () => {
    await stopAllGateways();
  });

  it('hands the officer a raw URL under no request and writes footage.exempt_view with the article', async () => {
    const created = await gw.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
      name: 'Gate west',
      rtspUrl: 'rtsp://127.0.0.1:9/stream',
      siteType: 'road',
      enabled: false,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const officer = await userWithRole(gw, 'officer', 'police');
    const body = (await gw.api<Streams>('GET', `/api/v1/cameras/${created.body.id}/streams`, undefined, officer)).body;
    expect(urlsOf(body.raw).httpFlv).toContain(`/raw/${created.body.id}.flv?token=`);
    const audit = await gw.api<{ items: { action: string; actor: string; details: Record<string, unknown> }[] }>(
      'GET',
      '/api/v1/audit?action=footage.exempt_view',
    );
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        actor: 'officer',
        details: { footageAction: 'live.raw', article: 'guangdong-2025 Art. 22 ¶1, 23 ¶2' },
      }),
    ]);
  });
});
