import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryEntry } from '../../../src/onvif/index.js';
import { type ApiError, cameraTotal, streamUrls, waitForUp } from '../../helpers/cameraSteps.js';
import { runCli, type CliRun } from '../../helpers/cli.js';
import { ADMIN_TOKEN, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, countFrames, requireTool } from '../../helpers/media.js';
import { OnvifDeviceSim, stopAllOnvifSims, type SimConfig } from '../../helpers/onvifDevice.js';
import { freePort } from '../../helpers/ports.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const USER = 'admin';
const PASSWORD = 'Onvif-pass-7731';

interface OnboardBody {
  outcome: 'onboarded' | 'already_registered';
  cameraId: string;
  onvif: {
    recordProfileToken: string;
    sharedProfileToken: string;
    sharedStreamUrl: string;
    recordStreamUrl: string;
    clockDriftSeconds: number;
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'psvgw-onvif-'));

function cli(gw: GatewayProcess, args: string[]): Promise<CliRun> {
  return runCli(args, { env: { PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN } });
}

function stepOf(body: unknown): string | undefined {
  return ((body as ApiError).error?.details as { step?: string } | undefined)?.step;
}

describe('ONVIF discovery and onboarding against a simulated device', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let good: OnvifDeviceSim;
  const sim = (over: SimConfig) =>
    OnvifDeviceSim.start({
      username: USER,
      password: PASSWORD,
      profiles: [
        { token: 'Profile_101', name: 'mainStream', width: 1920, height: 1080, streamUri: camera.url },
        { token: 'Profile_102', name: 'subStream', width: 640, height: 360, streamUri: camera.url },
      ],
      ...over,
    });

  /** Onboards `device` expecting a refusal with `code` at `step`; checks that nothing was registered. */
  const refused = async (device: string, code: string, step: string, over: Record<string, unknown> = {}): Promise<ApiError> => {
    const res = await gw.api<ApiError>('POST', '/api/v1/onboard', {
      device,
      username: USER,
      password: PASSWORD,
      siteType: 'road',
      ...over,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect([res.body.error.code, stepOf(res.body)]).toEqual([code, step]);
    expect(await cameraTotal(gw)).toBe(0);
    return res.body;
  };

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    camera = await TestCamera.start({ width: 640, height: 360, fps: 25 });
    gw = await GatewayProcess.start({ configYaml: 'onvif:\n  requestTimeoutSeconds: 2\n  clockCheckIntervalSeconds: 1' });
    good = await sim({ endpointRef: 'urn:uuid:6a1c0d2e-0000-4000-8000-00000000a001', serial: '12345678901234567890123' });
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllOnvifSims();
    await stopAllTestCameras();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('discover lists a device that answers, with its identity read from the device, and shows progress', async () => {
    const r = await cli(gw, [
      'discover',
      '--probe',
      good.probeAddress,
      '--timeout',
      '1.5',
      '--username',
      USER,
      '--password',
      PASSWORD,
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/probing for ONVIF devices from the gateway/);
    expect(r.stderr).toMatch(/found 1 device\(s\) in \d+\.\d s/);
    console.log(`discovery: ${/found .*/.exec(r.stderr)?.[0]}`);
    const devices = JSON.parse(r.stdout) as DiscoveryEntry[];
    // Two probes were sent and both answered: merged into one entry.
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({
      endpointRef: 'urn:uuid:6a1c0d2e-0000-4000-8000-00000000a001',
      address: '127.0.0.1',
      xaddrs: [good.xaddr],
      manufacturer: 'SimVision',
      model: 'SV-IPC-2120',
      // 23 digits: read as text, not as a number that would round it.
      serialNumber: '12345678901234567890123',
      infoSource: 'device',
      registered: false,
    });
  });

  it('discover prints an empty list, not an error, when nothing answers', async () => {
    const r = await cli(gw, ['discover', '--probe', `127.0.0.1:${await freePort()}`, '--timeout', '0.5', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const api = await gw.api<{ devices: unknown[] }>('GET', `/api/v1/discovery?timeout=0.5&probe=127.0.0.1:${await freePort()}`);
    expect(api.status).toBe(200);
    expect(api.body.devices).toEqual([]);
  });

  it('refuses wrong credentials at the auth step and registers nothing', async () => {
    const error = (await refused(good.xaddr, 'ONVIF_AUTH_FAILED', 'auth', { password: 'wrong' })).error;
    expect(error.message).toMatch(/step "auth" failed: the device refused the credentials of user "admin"/);
    expect(good.stderr.join('\n')).toMatch(/refused: wrong digest/);
  });

  it('names the connect step for a device that answers discovery but not SOAP', async () => {
    const mute = await sim({ soap: 'closed', endpointRef: 'urn:uuid:6a1c0d2e-0000-4000-8000-00000000a002' });
    const found = await gw.api<{ devices: DiscoveryEntry[] }>('GET', `/api/v1/discovery?timeout=1&probe=${mute.probeAddress}`);
    expect(found.body.devices.map((d) => d.endpointRef)).toEqual(['urn:uuid:6a1c0d2e-0000-4000-8000-00000000a002']);
    // Its identity then comes only from the discovery scopes.
    expect(found.body.devices[0]).toMatchObject({ infoSource: 'scopes', manufacturer: 'SimVision', serialNumber: null });
    const error = (await refused(found.body.devices[0]?.xaddrs[0] ?? '', 'ONVIF_UNREACHABLE', 'connect')).error;
    expect(error.message).toMatch(/does not answer ONVIF SOAP requests \(.*ECONNREFUSED/);
    await mute.stop();
  });

  it('gives up on a device that accepts SOAP connections but never answers, after the request timeout', async () => {
    const hung = await sim({ soap: 'hang', serial: 'HUNG-1' });
    const started = Date.now();
    const error = (await refused(hung.xaddr, 'ONVIF_UNREACHABLE', 'connect')).error;
    expect(error.message).toMatch(/Network timeout/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await hung.stop();
  });

  it('refuses a device without an H.264 profile at the profile-choice step', async () => {
    const mjpeg = await sim({
      serial: 'MJPEG-ONLY-1',
      profiles: [{ token: 'jpeg_1', encoding: 'JPEG', width: 1280, height: 720, streamUri: camera.url }],
    });
    const error = (await refused(mjpeg.xaddr, 'ONVIF_NO_H264_PROFILE', 'profile choice')).error;
    expect(error.message).toMatch(/no media profile encodes H\.264 \(profiles: jpeg_1 \(JPEG 1280x720\)\)/);
    await mjpeg.stop();
  });

  it('refuses a dead stream URI at the play-check step', async () => {
    const dead = `rtsp://127.0.0.1:${await freePort()}/Streaming/Channels/101`;
    const broken = await sim({ serial: 'DEAD-STREAM-1', profiles: [{ token: 'p1', width: 1920, height: 1080, streamUri: dead }] });
    const error = (await refused(broken.xaddr, 'CAMERA_UNREACHABLE', 'play check')).error;
    expect(error.message).toMatch(/step "play check" failed/);
    await broken.stop();
  });

  it('refuses a device whose clock is off, saying by how much', async () => {
    const late = await sim({ serial: 'CLOCK-OFF-1', clockOffsetSeconds: -600 });
    const error = (await refused(late.xaddr, 'ONVIF_CLOCK_DRIFT', 'clock')).error;
    // The device's own clock dated the WS-Security token, so its credentials were accepted first.
    expect(error.message).toMatch(/clock is off by -(599|600|601) s \(behind; at most 30 s allowed\)/);
    await late.stop();
  });

  it('refuses a forbidden site type before talking to the device', async () => {
    const before = good.stderr.length;
    const error = (await refused(good.xaddr, 'PRIVACY_FORBIDDEN_SITE', 'validate', { siteType: 'hotel_guest_room', password: 'wrong' }))
      .error;
    // With a wrong password too: had the device been asked, the refusal would have been at auth.
    expect(error.message).toMatch(/step "validate" failed/);
    expect(good.stderr.length).toBe(before);
  });

  it('lists the profiles with their encoders for the integrator to choose from, registering nothing', async () => {
    const r = await cli(gw, ['onboard', good.xaddr, '--username', USER, '--password', PASSWORD, '--profiles-only']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /SimVision SV-IPC-2120, serial 12345678901234567890123, firmware V5\.6\.3 build 210113; clock off by -?[01] s/,
    );
    expect(r.stdout).toMatch(/Profile_101 +mainStream +H264 +1920x1080 +25 +2048 +rtsp:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stdout).toMatch(/Profile_102 +subStream +H264 +640x360 /);
    expect(await cameraTotal(gw)).toBe(0);
  });

  let cameraId: string;

  it('onboards with the CLI: main stream recorded, the chosen sub stream shared, and the camera goes live and plays through the gateway', async () => {
    const r = await cli(gw, [
      'onboard',
      `127.0.0.1:${good.httpPort}`,
      '--username',
      USER,
      '--password',
      PASSWORD,
      '--shared-profile',
      'Profile_102',
      '--site-type',
      'road',
      '--name',
      'North gate',
      '--endpoint-ref',
      'urn:uuid:6a1c0d2e-0000-4000-8000-00000000a001',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as OnboardBody & { camera: { name: string; rtspUrl: string; hasCredentials: boolean } };
    expect(body.outcome).toBe('onboarded');
    expect(body.camera).toMatchObject({ name: 'North gate', rtspUrl: camera.url, hasCredentials: true });
    expect(body.onvif).toMatchObject({ recordProfileToken: 'Profile_101', sharedProfileToken: 'Profile_102', sharedStreamUrl: camera.url });
    expect(Math.abs(body.onvif.clockDriftSeconds)).toBeLessThanOrEqual(2);
    cameraId = body.cameraId;
    expect(cameraId).toMatch(/^\d{20}$/);

    await waitForUp(gw, cameraId, 1, 15_000);
    const urls = await streamUrls(gw, cameraId);
    const progress = await countFrames(urls.shared.httpFlv, 2);
    expect(progress.frames).toBeGreaterThanOrEqual(25);

    const stored = await gw.api<{ serialNumber: string; clockCheckedAt: string }>('GET', `/api/v1/onvif/devices/${cameraId}`);
    expect(stored.status).toBe(200);
    expect(stored.body.serialNumber).toBe('12345678901234567890123');
    await gw.waitForLine(/ONVIF camera onboarded/, 5000);
    const audit = gw.logs.join('\n');
    expect(audit).not.toContain(PASSWORD);
  });

  it('then lists the device as registered, and a second onboarding is reported, not duplicated', async () => {
    const found = await gw.api<{ devices: DiscoveryEntry[] }>('POST', '/api/v1/discovery', {
      timeoutSeconds: 1,
      probeAddresses: [good.probeAddress],
    });
    expect(found.body.devices).toEqual([expect.objectContaining({ registered: true, cameraId, infoSource: 'registry' })]);
    const again = await gw.api<OnboardBody>('POST', '/api/v1/onboard', {
      device: good.xaddr,
      username: USER,
      password: PASSWORD,
      siteType: 'road',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'already_registered', cameraId });
    expect(await cameraTotal(gw)).toBe(1);
  });

  it('onboards a CSV file with a progress bar and a per-row report; a second run changes nothing', async () => {
    // This one accepts only HTTP Digest, not WS-Security: onboarding it proves the digest path.
    const second = await sim({ endpointRef: 'urn:uuid:6a1c0d2e-0000-4000-8000-00000000a003', serial: 'SECOND-DEVICE-1', auth: 'digest' });
    const file = join(tmp, 'cameras.csv');
    writeFileSync(
      file,
      '\uFEFFdevice,username,password,name,siteType,address,owner\r\n' +
        `127.0.0.1:${good.httpPort},${USER},${PASSWORD},North gate,road,,\r\n` +
        `${second.xaddr},${USER},${PASSWORD},"South gate, lane 2",road,"1 Harbour Rd",No. 3 Middle School\r\n` +
        `${second.xaddr},${USER},not-the-password,Wrong password,road,,\r\n`,
    );
    const first = await cli(gw, ['onboard', '--csv', file, '--json']);
    const rows = JSON.parse(first.stdout) as Array<{
      line: number;
      outcome: string;
      cameraId: string | null;
      step: string | null;
      code: string | null;
    }>;
    expect(rows.map((r) => [r.line, r.outcome, r.step])).toEqual([
      [2, 'already_registered', null],
      [3, 'onboarded', null],
      [4, 'failed', 'auth'],
    ]);
    expect(rows[2]?.code).toBe('ONVIF_AUTH_FAILED');
    expect(first.status).toBe(1);
    expect(first.stderr).toMatch(/\[#{7}-{13}\] 1\/3 127\.0\.0\.1:\d+: already registered/);
    expect(first.stderr).toMatch(/\[#{20}\] 3\/3 .*: failed at auth/);
    expect(first.stderr).toMatch(/3 row\(s\): 1 onboarded, 1 already registered, 1 failed/);
    expect(await cameraTotal(gw)).toBe(2);
    const south = await gw.api<{ name: string; address: string; ownerUnit: string }>('GET', `/api/v1/cameras/${rows[1]?.cameraId}`);
    expect(south.body).toMatchObject({ name: 'South gate, lane 2', address: '1 Harbour Rd', ownerUnit: 'No. 3 Middle School' });

    const rerun = await cli(gw, ['onboard', '--csv', file, '--json']);
    const rows2 = JSON.parse(rerun.stdout) as Array<{ outcome: string; cameraId: string | null }>;
    expect(rows2.map((r) => r.outcome)).toEqual(['already_registered', 'already_registered', 'failed']);
    expect(rows2[1]?.cameraId).toBe(rows[1]?.cameraId);
    expect(await cameraTotal(gw)).toBe(2);
  });

  it('keeps reading the clocks of onboarded devices: a drift beyond the limit raises clock_drift', async () => {
    // 12 s is within onboarding's limit (30 s) but beyond the health limit (5 s).
    const drifting = await sim({ serial: 'CLOCK-DRIFT-12', clockOffsetSeconds: 12 });
    const res = await gw.api<OnboardBody>('POST', '/api/v1/onboard', {
      device: drifting.xaddr,
      username: USER,
      password: PASSWORD,
      siteType: 'road',
      name: 'Drifting clock',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // Without a choice the recorded main stream also feeds the shared tier: one pull per camera.
    expect(res.body.onvif).toMatchObject({ recordProfileToken: 'Profile_101', sharedProfileToken: 'Profile_101' });
    const { cameraId } = res.body;
    await gw.waitFor(
      'a clock_drift incident',
      async () => {
        const incidents = await gw.api<{ items: Array<{ kind: string; cameraId: string }> }>(
          'GET',
          `/api/v1/incidents?cameraId=${cameraId}`,
        );
        return incidents.body.items.some((i) => i.kind === 'clock_drift');
      },
      10_000,
    );
    const drift = await gw.metric('psvgw_camera_clock_drift_seconds', { camera_id: cameraId });
    console.log(`ONVIF clock check: camera ${cameraId} drifts ${drift} s`);
    expect(drift).toBeGreaterThan(11);
    expect(drift).toBeLessThan(13);
    // The device that keeps good time raises nothing.
    const devices = (await gw.api<{ items: Array<{ cameraId: string; serialNumber: string | null }> }>('GET', '/api/v1/onvif/devices'))
      .body;
    const goodId = devices.items.find((d) => d.serialNumber === '12345678901234567890123')?.cameraId;
    expect(goodId).toBeDefined();
    const goodIncidents = await gw.api<{ items: Array<{ kind: string }> }>('GET', `/api/v1/incidents?cameraId=${goodId}`);
    expect(goodIncidents.body.items.filter((i) => i.kind === 'clock_drift')).toEqual([]);
  });
});
