import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cameraTotal, type ApiError } from '../../helpers/cameraSteps.js';
import { ADMIN_TOKEN, CLI_PATH, GatewayProcess, mediaProcessesMentioning, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { freePort } from '../../helpers/ports.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const CAMERA_USER = 'admin';
const CAMERA_PASSWORD = 'Right-Pass-4821';
const WRONG_PASSWORD = 'WrongSecret-7731';
const WRONG_PASSWORD_IN_URL = 'UrlSecret-5519';

const tmp = mkdtempSync(join(tmpdir(), 'psvgw-errors-'));

/** The environment without any PSVGW_* variable, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSVGW_')));
  return { ...env, ...extra };
}

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { env: cleanEnv(env), encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function configFile(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('errors a user can cause', () => {
  let gw: GatewayProcess;
  let authCam: TestCamera;
  let plainCam: TestCamera;
  let totalBefore: number;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    [authCam, plainCam] = await Promise.all([TestCamera.start({ user: CAMERA_USER, password: CAMERA_PASSWORD }), TestCamera.start({})]);
    gw = await GatewayProcess.start();
    totalBefore = await cameraTotal(gw);
  });

  // Every refusal leaves the store and the process table as they were.
  afterEach(async () => {
    if (!gw) return;
    expect(await cameraTotal(gw)).toBe(totalBefore);
    expect(await gw.metric('psvgw_camera_up')).toBeUndefined();
    expect(mediaProcessesMentioning(`:${authCam.port}/`)).toEqual([]);
    expect(mediaProcessesMentioning(`:${plainCam.port}/`)).toEqual([]);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  async function refused(body: unknown) {
    const res = await gw.api<ApiError>('POST', '/api/v1/cameras', body);
    expect(res.body?.error, JSON.stringify(res.body)).toBeDefined();
    return res;
  }

  it('wrong password: 422 CAMERA_AUTH_FAILED about credentials, the password nowhere', async () => {
    const res = await refused({
      name: 'Auth cam',
      rtspUrl: authCam.baseUrl,
      siteType: 'road',
      username: CAMERA_USER,
      password: WRONG_PASSWORD,
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('CAMERA_AUTH_FAILED');
    expect(res.body.error.message).toMatch(/credentials/i);
    expect(res.body.error.hint).toMatch(/password/i);

    const inUrl = await refused({
      name: 'Auth cam',
      rtspUrl: authCam.urlWithCredentials(CAMERA_USER, WRONG_PASSWORD_IN_URL),
      siteType: 'road',
    });
    expect(inUrl.status).toBe(422);
    expect(inUrl.body.error.code).toBe('CAMERA_AUTH_FAILED');

    for (const secret of [WRONG_PASSWORD, WRONG_PASSWORD_IN_URL]) {
      expect(JSON.stringify(res.body) + JSON.stringify(inUrl.body)).not.toContain(secret);
      expect(gw.logs.filter((l) => l.includes(secret))).toEqual([]);
    }
  });

  it('unreachable host: 422 CAMERA_UNREACHABLE', async () => {
    const port = await freePort();
    const res = await refused({ name: 'Nowhere', rtspUrl: `rtsp://127.0.0.1:${port}/x`, siteType: 'road' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('CAMERA_UNREACHABLE');
    expect(res.body.error.message).toContain(`127.0.0.1:${port}`);
  });

  it.each(['http://example.invalid/x', 'not a url'])('non-RTSP URL %j: 400 CAMERA_URL_INVALID', async (rtspUrl) => {
    const res = await refused({ name: 'Bad URL', rtspUrl, siteType: 'road' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('CAMERA_URL_INVALID');
    expect(res.body.error.hint).toMatch(/rtsp:\/\//);
  });

  it('wrong path on a live camera: 422 CAMERA_STREAM_UNPLAYABLE', async () => {
    const res = await refused({ name: 'Wrong path', rtspUrl: `rtsp://127.0.0.1:${plainCam.port}/nope`, siteType: 'road' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('CAMERA_STREAM_UNPLAYABLE');
    expect(res.body.error.message).toContain('/nope');
  });

  it.each(['hotel_guest_room', 'toilet'])('forbidden site %s: 422 PRIVACY_FORBIDDEN_SITE citing an article', async (siteType) => {
    const res = await refused({ name: 'Private place', rtspUrl: plainCam.url, siteType });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('PRIVACY_FORBIDDEN_SITE');
    expect(res.body.error.message).toMatch(/Art\. \d+/);
    expect(res.body.error.message).toContain(siteType);
  });

  it('unknown site type: 400 VALIDATION_FAILED listing the valid types', async () => {
    const res = await refused({ name: 'Moon', rtspUrl: plainCam.url, siteType: 'moon_base' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toContain('moon_base');
    expect(res.body.error.hint).toContain('road');
    expect(res.body.error.hint).toContain('school_gate');
  });

  it('malformed JSON body: 400 VALIDATION_FAILED', async () => {
    const res = await refused('{"name": "Gate", "rtspUrl": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.message).toMatch(/JSON/);
  });
});

describe('the CLI on bad input', () => {
  afterAll(stopAllTestCameras);

  it.each([
    ['YAML syntax error', 'media:\n  rtmpPort: [1935\nhttp:\n  port: 8080\n', /YAML syntax error at line \d+/],
    ['unknown key', 'media:\n  rtmpPrt: 1935\n', /media\.rtmpPrt: unknown key \(did you mean rtmpPort\?\)/],
    ['stallSeconds below 1', 'ingest:\n  stallSeconds: 0\n', /ingest\.stallSeconds: must be ≥ 1/],
  ])('config check: %s → non-zero exit naming the key and the fix', (_what, yaml, problem) => {
    const file = configFile(`bad-${_what.replace(/\W+/g, '-')}.yaml`, yaml);
    const r = cli(['config', 'check', file]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('CONFIG_INVALID');
    expect(r.stderr).toMatch(problem);
    expect(r.stderr).toMatch(/how to fix: .+/);
  });

  it('start with a bad config exits non-zero and writes nothing', () => {
    const file = configFile('bad-start.yaml', 'ingest:\n  stallSeconds: 0\n');
    const dataDir = join(tmp, 'data-bad-config');
    const r = cli(['start', '--config', file], { PSVGW_DATA_DIR: dataDir, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ingest\.stallSeconds/);
    expect(existsSync(join(dataDir, 'psvgw.db'))).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('production mode without PSVGW_SECRET_KEY refuses to start, saying how to set it', () => {
    const file = configFile('prod.yaml', 'http:\n  host: 127.0.0.1\nmedia:\n  host: 127.0.0.1\n');
    const dataDir = join(tmp, 'data-prod');
    const r = cli(['start', '--config', file], {
      PSVGW_MODE: 'production',
      PSVGW_DATA_DIR: dataDir,
      PSVGW_ADMIN_TOKEN: 'c3Vw-9fQk-Lm27-xYpR-8tWz-Hn4d',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/CONFIG_INVALID|SECRET_KEY_MISSING/);
    expect(r.stderr).toContain('PSVGW_SECRET_KEY');
    expect(existsSync(join(dataDir, 'psvgw.db'))).toBe(false);
  });

  it('probe: closed port → CAMERA_UNREACHABLE, wrong password → CAMERA_AUTH_FAILED, good camera → its format', async () => {
    const port = await freePort();
    const closed = cli(['probe', `rtsp://127.0.0.1:${port}/x`, '--timeout', '5']);
    expect(closed.status).not.toBe(0);
    expect(closed.stderr).toContain('CAMERA_UNREACHABLE');

    const cam = await TestCamera.start({ user: CAMERA_USER, password: CAMERA_PASSWORD });
    const wrong = cli(['probe', cam.baseUrl, '--username', CAMERA_USER, '--password', WRONG_PASSWORD]);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('CAMERA_AUTH_FAILED');
    expect(wrong.stderr + wrong.stdout).not.toContain(WRONG_PASSWORD);

    const good = cli(['probe', cam.url]);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^video: h264( \([^)]*\))? 640x360 @ 25 fps$/m);
    expect(good.stdout).toMatch(/^audio: none$/m);
    expect(good.stdout + good.stderr).not.toContain(CAMERA_PASSWORD);
    await cam.stop();
  });
});
