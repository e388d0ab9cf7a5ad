import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegisterEntry } from '../../../src/domain/index.js';
import { decideRequest, fileRequest, STAFF, userWithRole } from '../../helpers/accessSteps.js';
import { runCli } from '../../helpers/cli.js';
import { addCamera, waitForUp, type ApiError } from '../../helpers/cameraSteps.js';
import { ADMIN_TOKEN, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { PushReceiver, stopAllPushReceivers } from '../../helpers/pushReceiver.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { openWsFlv } from '../../helpers/wsFlv.js';

const SEGMENT_SECONDS = 2;

interface Urls {
  httpFlv: string;
  wsFlv: string;
}
interface Streams {
  raw: Urls | { refused: string };
  shared: Urls;
}
interface Recordings {
  segments: { seq: number }[];
  playback: { hls: string } | { refused: string };
}
interface Register {
  items: RegisterEntry[];
  ongoing: unknown[];
}

/** Plays a WS-FLV URL until some video arrived, then closes it: one view. */
async function watch(url: string): Promise<number> {
  const viewer = await openWsFlv(url);
  await viewer.until('a video frame', (tags) => tags.some((t) => t.type === 'video'), 15_000);
  await viewer.close();
  return viewer.bytes;
}

describe('the access register lists every view of the run (Must show 4)', () => {
  let gw: GatewayProcess;
  let receiver: PushReceiver;
  let cameraId: string;
  let tokens: Record<'officer' | 'approver1' | 'op' | 'aud', string>;
  let liveRequest: string;
  let recordedRequest: string;
  const started = new Date();
  let hlsBytes = 0;

  const register = (query: string, token: string) =>
    gw.api<Register | ApiError>('GET', `/api/v1/access-register?${query}`, undefined, token);
  /** CSV, HTML: the status and the body as text. */
  const download = async (query: string, token: string) => {
    const res = await fetch(`${gw.apiUrl}/api/v1/access-register?${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.text() };
  };

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start();
    receiver = await PushReceiver.rtmp('live', 'register-test-key');
    // A push lingers for twice the restart backoff (plus 5 s) after its relay's last read: keep that short here.
    gw = await GatewayProcess.start({
      configYaml: `recording:\n  segmentSeconds: ${SEGMENT_SECONDS}\ningest:\n  backoff:\n    initialMs: 500\n    maxMs: 1000`,
    });
    cameraId = (await addCamera(gw, camera.url, 'Gate south', { pushTargets: [receiver.url] })).id;
    tokens = {
      officer: await userWithRole(gw, 'officer', 'police'),
      approver1: await userWithRole(gw, 'approver1', 'approver'),
      op: await userWithRole(gw, 'op', 'operator'),
      aud: await userWithRole(gw, 'aud', 'auditor'),
    };
    await waitForUp(gw, cameraId, 1, 30_000);
  }, 90_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllPushReceivers();
    await stopAllTestCameras();
  });

  it('registers the shared-tier, raw live and recorded views and the platform push, with every field', async () => {
    // The operator watches the shared tier.
    const opStreams = (await gw.api<Streams>('GET', `/api/v1/cameras/${cameraId}/streams`, undefined, tokens.op)).body;
    expect(await watch(opStreams.shared.wsFlv)).toBeGreaterThan(0);
    // A snapshot is a view of live footage too.
    const snapshot = await fetch(`${gw.apiUrl}/api/v1/cameras/${cameraId}/snapshot?tier=shared`, {
      headers: { authorization: `Bearer ${tokens.op}` },
    });
    expect(snapshot.status).toBe(200);
    const jpegBytes = (await snapshot.arrayBuffer()).byteLength;

    // The officer, under approved requests, watches raw live and plays the recordings over HLS.
    const now = Date.now();
    liveRequest = await fileRequest(gw, tokens.officer, 'view_live_raw', [cameraId], {
      from: new Date(now - 60_000),
      to: new Date(now + 600_000),
    });
    recordedRequest = await fileRequest(gw, tokens.officer, 'view_recorded', [cameraId], {
      from: new Date(now - 3600_000),
      to: new Date(now + 600_000),
    });
    for (const id of [liveRequest, recordedRequest]) await decideRequest(gw, tokens.approver1, id, 'approve');
    const raw = (await gw.api<Streams>('GET', `/api/v1/cameras/${cameraId}/streams`, undefined, tokens.officer)).body.raw;
    if ('refused' in raw) throw new Error(`raw refused: ${raw.refused}`);
    expect(await watch(raw.wsFlv)).toBeGreaterThan(0);

    let list: Recordings | undefined;
    await gw.waitFor(
      'a recorded segment',
      async () => {
        const res = await gw.api<Recordings>(
          'GET',
          `/api/v1/cameras/${cameraId}/recordings?from=${now - 3600_000}&to=${Date.now()}`,
          undefined,
          tokens.officer,
        );
        list = res.body;
        return list.segments.length > 0;
      },
      30_000,
    );
    const playback = list!.playback;
    if ('refused' in playback) throw new Error(`HLS refused: ${playback.refused}`);
    const playlist = await fetch(playback.hls);
    expect(playlist.status).toBe(200);
    const m3u8 = await playlist.text();
    hlsBytes += Buffer.byteLength(m3u8);
    for (const line of m3u8.split('\n').filter((l) => /\.ts\?token=/.test(l))) {
      const segment = await fetch(new URL(line, playback.hls));
      expect(segment.status).toBe(200);
      hlsBytes += (await segment.arrayBuffer()).byteLength;
    }

    // The platform push: the target is removed from the camera, which ends the relay's reads of the shared tier.
    await receiver.waitForFrames(1, 20_000);
    const unpushed = await gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { pushTargets: [] });
    expect(unpushed.status).toBe(200);

    // Running sessions are listed as ongoing until they end; then each is one row.
    let rows: RegisterEntry[] = [];
    const by = (pred: (r: RegisterEntry) => boolean) => rows.find(pred);
    const shared = (r: RegisterEntry) => r.method === 'view_live' && r.protocol === 'ws-flv' && r.tier === 'shared';
    const rawLive = (r: RegisterEntry) => r.method === 'view_live' && r.protocol === 'ws-flv' && r.tier === 'raw';
    const recorded = (r: RegisterEntry) => r.method === 'view_recorded';
    const push = (r: RegisterEntry) => r.method === 'platform_play';
    const still = (r: RegisterEntry) => r.protocol === 'snapshot';
    await gw.waitFor(
      'every view of the run in the register',
      async () => {
        const res = await register(`from=${started.toISOString()}`, tokens.aud);
        rows = (res.body as Register).items;
        return [shared, rawLive, recorded, push, still].every((p) => rows.some(p));
      },
      40_000,
      500,
    );

    for (const row of rows) {
      expect(row.cameraIds).toEqual([cameraId]);
      expect(Date.parse(row.startedAt)).toBeGreaterThanOrEqual(started.getTime() - 1000);
      expect(Date.parse(row.endedAt)).toBeGreaterThanOrEqual(Date.parse(row.startedAt));
      expect(Date.parse(row.footageTo)).toBeGreaterThanOrEqual(Date.parse(row.footageFrom));
    }
    expect(by(shared)).toMatchObject({ tier: 'shared', recorder: 'psv-gateway', requestId: null, protocol: 'ws-flv' });
    expect(by(shared)!.bytes).toBeGreaterThan(0);
    expect(by(shared)!.clientAddress).toMatch(/127\.0\.0\.1/);
    expect(by(shared)!.retriever.username).toBe('op');
    expect(by(still)).toMatchObject({ method: 'view_live', tier: 'shared', bytes: jpegBytes, recorder: 'psv-gateway' });
    expect(by(still)!.retriever.username).toBe('op');

    // Under a request: the approver registered it; the retriever is the officer and the request's two staff.
    const request = { purpose: 'theft case 2026-118', destination: 'viewed on site, nothing copied', recorder: 'approver1' };
    expect(by(rawLive)).toMatchObject({ ...request, requestId: liveRequest, protocol: 'ws-flv', exemption: null });
    expect(by(rawLive)!.retriever).toMatchObject({ username: 'officer', staff: STAFF });
    expect(by(rawLive)!.bytes).toBeGreaterThan(0);
    expect(by(recorded)).toMatchObject({ ...request, requestId: recordedRequest, protocol: 'hls', tier: 'raw', bytes: hlsBytes });
    expect(by(recorded)!.retriever).toMatchObject({ username: 'officer', staff: STAFF });
    expect(Date.parse(by(recorded)!.footageFrom)).toBe(now - 3600_000);

    // The platform push: the gateway registers it, destination the target's name (no stream key).
    const platform = by(push)!;
    expect(platform).toMatchObject({ tier: 'shared', recorder: 'psv-gateway', requestId: null, protocol: 'rtmp' });
    expect(platform.retriever.username).toBeNull();
    expect(platform.destination).toMatch(/^rtmp:\/\/127\.0\.0\.1:\d+\/live#[0-9a-f]{8}$/);
    expect(platform.bytes).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain('register-test-key');

    // Each row is also in the audit chain.
    const audit = await gw.api<{ items: { details: { registerId?: number } }[] }>(
      'GET',
      '/api/v1/audit?action=register.record',
      undefined,
      tokens.aud,
    );
    expect(audit.status).toBe(200);
    const audited = new Set(audit.body.items.map((e) => e.details.registerId));
    for (const row of rows) expect(audited.has(row.id)).toBe(true);
  }, 120_000);

  it('prints as CSV and HTML with every field, for the auditor only; the CLI writes the same', async () => {
    const csv = await download(`from=${started.toISOString()}&format=csv`, tokens.aud);
    expect(csv.status).toBe(200);
    const text = csv.body;
    const [header, ...lines] = text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    for (const field of [
      'recorder',
      'retriever_username',
      'staff',
      'started_at',
      'ended_at',
      'method',
      'purpose',
      'destination',
      'camera_ids',
      'footage_from',
      'footage_to',
      'bytes',
      'request_id',
    ]) {
      expect(header!.split(',')).toContain(field);
    }
    expect(lines.some((l) => l.includes('platform_play') && l.includes('psv-gateway'))).toBe(true);
    expect(
      lines.some((l) => l.includes(`view_recorded,raw,approver1,officer`) && l.includes(recordedRequest) && l.includes('GA-7340101')),
    ).toBe(true);

    const html = await download(`from=${started.toISOString()}&format=html`, tokens.aud);
    expect(html.status).toBe(200);
    const page = html.body;
    for (const text of [
      '视频图像信息调取登记表',
      '登记人',
      '调取人',
      '调取事由',
      '去向',
      '实时查看',
      '回放查看',
      '平台调用',
      liveRequest,
      'Zhang Wei',
    ]) {
      expect(page).toContain(text);
    }
    const en = (await download(`from=${started.toISOString()}&format=html&lang=en`, tokens.aud)).body;
    expect(en).toContain('Access register');

    // Footage retrievers do not read the register; a bad format is named.
    const refused = await register('format=csv', tokens.op);
    expect(refused.status).toBe(403);
    const bad = await register('format=xlsx', tokens.aud);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('format must be one of json, csv, html, pdf');

    const out = join(gw.dataDir, 'register.csv');
    const cli = await runCli(['register', '--from', started.toISOString(), '--format', 'csv', '-o', out], {
      env: { PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    expect(cli.stderr).toContain('wrote');
    expect(cli.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain(recordedRequest);
  });
});
