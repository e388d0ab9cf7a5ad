import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { ADMIN_TOKEN, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

/** Secrets inside push target URLs: stream keys in the path, a query signature, a password. */
const KEY_RTMP = 'StreamKey-8841c7';
const QUERY_SECRET = 'AuthSig-Q9w2e7';
const PASSWORD = 'PushPass-55d1';
const KEY_RTSP = 'cam-Key-7713aa';
const TARGETS = [
  `rtmp://platform.example/live/${KEY_RTMP}?auth_key=${QUERY_SECRET}`,
  `rtsp://pusher:${PASSWORD}@platform.example:554/app/${KEY_RTSP}`,
];
const REDACTED = ['rtmp://platform.example/live/***?***', 'rtsp://pusher:***@platform.example:554/app/***'];
/** Two keys on one application: their redacted forms are the same. */
const TWINS = ['rtmp://platform.example/live/TwinKey-A1', 'rtmp://platform.example/live/TwinKey-B2'];
const SECRETS = [KEY_RTMP, QUERY_SECRET, PASSWORD, KEY_RTSP, 'TwinKey-A1', 'TwinKey-B2'];

interface CameraBody {
  id: string;
  name: string;
  pushTargets: string[];
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('push targets in the API and the CLI', () => {
  let gw: GatewayProcess;
  let cameraId: string;
  let twinsId: string;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    gw = await GatewayProcess.start();
    // Disabled: the test is about what the API returns and keeps, not about pushing.
    const camera = { rtspUrl: 'rtsp://127.0.0.1:9/stream', siteType: 'school_gate', enabled: false };
    const created = await gw.api<CameraBody>('POST', '/api/v1/cameras?skipProbe=true', {
      ...camera,
      name: 'Gate east',
      pushTargets: TARGETS,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.pushTargets).toEqual(REDACTED);
    expectNoSecret(JSON.stringify(created.body));
    cameraId = created.body.id;
    const twins = await gw.api<CameraBody>('POST', '/api/v1/cameras?skipProbe=true', { ...camera, name: 'Gate west', pushTargets: TWINS });
    expect(twins.status, JSON.stringify(twins.body)).toBe(201);
    twinsId = twins.body.id;
  });

  afterAll(async () => {
    await stopAllGateways();
  });

  it('GET /api/v1/cameras and GET /api/v1/cameras/:id return push targets with their keys, query and password replaced by ***', async () => {
    const list = await gw.api<{ items: CameraBody[] }>('GET', '/api/v1/cameras');
    expect(list.status).toBe(200);
    expect(list.body.items.find((c) => c.id === cameraId)?.pushTargets).toEqual(REDACTED);
    expectNoSecret(JSON.stringify(list.body));
    const one = await gw.api<CameraBody>('GET', `/api/v1/cameras/${cameraId}`);
    expect(one.body.pushTargets).toEqual(REDACTED);
    expectNoSecret(JSON.stringify(one.body));
  });

  it('psvgw cameras list and show print no stream key', async () => {
    const env = { PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN };
    for (const args of [
      ['cameras', 'list'],
      ['cameras', 'list', '--json'],
      ['cameras', 'show', cameraId],
    ]) {
      const run = await runCli(args, { env });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.length).toBeGreaterThan(0);
      expectNoSecret(run.stdout + run.stderr);
    }
  });

  it('a change that does not touch push targets keeps them, and answers redacted', async () => {
    const res = await gw.api<CameraBody>('PATCH', `/api/v1/cameras/${cameraId}`, { name: 'Gate east (renamed)' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.pushTargets).toEqual(REDACTED);
    expectNoSecret(JSON.stringify(res.body));
  });

  it('sending back the redacted targets as read (a read-modify-write client) keeps the stored ones, in order', async () => {
    const read = await gw.api<CameraBody>('GET', `/api/v1/cameras/${twinsId}`);
    expect(read.body.pushTargets).toEqual(['rtmp://platform.example/live/***', 'rtmp://platform.example/live/***']);
    const edited = { name: 'Gate west (renamed)', pushTargets: read.body.pushTargets };
    const written = await gw.api<CameraBody>('PATCH', `/api/v1/cameras/${twinsId}`, edited);
    expect(written.status, JSON.stringify(written.body)).toBe(200);
    const kept = await gw.api<CameraBody>('PATCH', `/api/v1/cameras/${cameraId}`, { pushTargets: [REDACTED[1], REDACTED[0]] });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body.pushTargets).toEqual([REDACTED[1], REDACTED[0]]);
  });

  it('refuses a redacted target that matches no stored one, saying what to send instead', async () => {
    const res = await gw.api<{ error: { code: string; message: string } }>('PATCH', `/api/v1/cameras/${twinsId}`, {
      pushTargets: ['rtmp://other.example/live/***'],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toContain('pushTargets[0]');
    expect(res.body.error.message).toContain('full URL');
  });

  it('stores the full targets (read from the SQLite file after the gateway stopped), and never logs a key', async () => {
    await gw.stop();
    const db = new Database(join(gw.dataDir, 'data', 'psvgw.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT id, push_targets FROM cameras').all() as Array<{ id: string; push_targets: string }>;
      const stored = new Map(rows.map((r) => [r.id, JSON.parse(r.push_targets) as string[]]));
      expect(stored.get(cameraId)).toEqual([TARGETS[1], TARGETS[0]]);
      expect(stored.get(twinsId)).toEqual(TWINS);
    } finally {
      db.close();
    }
    expectNoSecret(gw.logs.join('\n'));
  });
});
