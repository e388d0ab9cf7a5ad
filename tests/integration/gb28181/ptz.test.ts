/**
 * GB/T 28181 PTZ end to end (issue 13, Must show 6): two cameras onboarded over ONVIF from the
 * device simulator (one a PTZ dome, one without a PTZ service), both fed by one GStreamer test
 * camera; sipp plays the upper platform (tests/fixtures/sipp/gb-ptz.xml): it queries the
 * catalog and sends DeviceControl PTZCmds. The simulator's PTZ log shows each command
 * arriving as the matching ONVIF call with the right direction and speed sign; the platform
 * gets a DeviceControl Response per command (Result ERROR for the camera without PTZ), and
 * each command is in the audit chain as `ptz.command`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePtzCmd } from '../../../src/platform/gb28181/manscdp/ptz.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { OnvifDeviceSim, ptzCalls, stopAllOnvifSims } from '../../helpers/onvifDevice.js';
import { freePorts } from '../../helpers/ports.js';
import { sendSippGo } from '../../helpers/sipp.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SIPP = '/usr/bin/sipp';
const SCENARIO = join(import.meta.dirname, '../../fixtures/sipp/gb-ptz.xml');
const GATEWAY_ID = '34020000001180000001';
const USER = 'admin';
const PASSWORD = 'Ptz-pass-4410';
const still = { pan: 0, tilt: 0, zoom: 0, panSpeed: 0, tiltSpeed: 0, zoomSpeed: 0 } as const;
/** The PTZCmds sipp sends, built as a platform builds them (Annex A.3). */
const CMD = {
  left: encodePtzCmd({ kind: 'move', ...still, pan: -1, panSpeed: 0x40 }),
  up: encodePtzCmd({ kind: 'move', ...still, tilt: 1, tiltSpeed: 0x80 }),
  zoomin: encodePtzCmd({ kind: 'move', ...still, zoom: 1, zoomSpeed: 0x0f }),
  stop: encodePtzCmd({ kind: 'stop' }),
  goto1: encodePtzCmd({ kind: 'preset', action: 'goto', index: 1 }),
  set2: encodePtzCmd({ kind: 'preset', action: 'set', index: 2 }),
  focus: encodePtzCmd({ kind: 'other', instruction: 0x41, data1: 0x20, data2: 0, data3: 0 }),
};

interface AuditItem {
  cameraId: string;
  outcome: string;
  actor: string;
  details: { command: string; reason: string | null };
}

/** MANSCDP Response bodies sipp received from the gateway, from its -trace_msg file. */
function responses(trace: string): string[] {
  if (!existsSync(trace)) return [];
  return [...readFileSync(trace, 'latin1').matchAll(/<Response>[\s\S]*?<\/Response>/g)].map((m) => m[0]);
}

const field = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

describe('GB/T 28181 PTZ to ONVIF against sipp and the ONVIF device simulator', () => {
  let gw: GatewayProcess;
  let dir: string;
  let sipp: ChildProcess;
  let trace: string;
  let domeLog: string;
  let fixedLog: string;
  let dome: string;
  let fixed: string;

  beforeAll(async () => {
    expect(existsSync(SIPP), 'sipp is needed: apt-get install sip-tester').toBe(true);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-ptz-'));
    domeLog = join(dir, 'dome-ptz.jsonl');
    fixedLog = join(dir, 'fixed-ptz.jsonl');
    trace = join(dir, 'sipp.trace');
    const camera = await TestCamera.start({ width: 640, height: 360, fps: 25 });
    const sim = (over: Parameters<typeof OnvifDeviceSim.start>[0]) =>
      OnvifDeviceSim.start({
        discovery: 'none',
        username: USER,
        password: PASSWORD,
        profiles: [{ token: 'Profile_1', name: 'main', width: 640, height: 360, streamUri: camera.url }],
        ...over,
      });
    const [domeSim, fixedSim] = await Promise.all([
      // The device names its preset "1" under a token of its own: GB preset numbers are matched by name.
      sim({ serial: 'PTZ-DOME-0001', ptz: 'dome', ptzLog: domeLog, presets: [{ token: 'Preset_A', name: '1' }] }),
      sim({ serial: 'FIXED-0001', ptz: 'none', ptzLog: fixedLog }),
    ]);
    const [sipPort, platformPort] = (await freePorts(2)) as [number, number];
    const keys = Object.entries({ gateway: GATEWAY_ID, ...CMD }).flatMap(([k, v]) => ['-key', k, v]);
    sipp = spawn(
      SIPP,
      [
        ...['-sf', SCENARIO, '-i', '127.0.0.1', '-p', String(platformPort), '-m', '1000', '-nostdin', ...keys],
        ...['-timeout', '120s', '-trace_msg', '-message_file', trace, '-trace_err', '-error_file', join(dir, 'sipp.errors')],
      ],
      { stdio: 'ignore', cwd: dir },
    );
    gw = await GatewayProcess.start({
      configYaml: [
        'onvif:',
        '  requestTimeoutSeconds: 5',
        'gb28181:',
        '  sipHost: 127.0.0.1',
        `  sipPort: ${sipPort}`,
        '  platforms:',
        '    - name: ptz',
        '      serverId: "34020000002000000001"',
        '      serverDomain: "3402000000"',
        '      host: 127.0.0.1',
        `      port: ${platformPort}`,
        `      deviceId: "${GATEWAY_ID}"`,
      ].join('\n'),
      env: { PSVGW_PLATFORM_PTZ_PASSWORD: 'sipp-secret' },
    });
    const onboard = async (device: OnvifDeviceSim): Promise<string> => {
      const res = await gw.api<{ cameraId: string }>('POST', '/api/v1/onboard', {
        device: device.xaddr,
        username: USER,
        password: PASSWORD,
        siteType: 'road',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.cameraId;
    };
    dome = await onboard(domeSim);
    fixed = await onboard(fixedSim);
    await gw.waitFor(
      'platform registered',
      async () => (await gw.api<{ registered: boolean }>('GET', '/api/v1/platforms/ptz')).body.registered,
      30_000,
    );
    // The go: an OPTIONS in the REGISTER's Call-ID names the two channels.
    const register = readFileSync(trace, 'latin1');
    const callId = /^REGISTER [\s\S]*?^Call-ID:\s*(.+)$/im.exec(register)?.[1]?.trim();
    expect(callId, 'sipp saw the REGISTER').toBeDefined();
    await sendSippGo({ sippPort: platformPort, callId: callId ?? '', subject: `${dome},${fixed}`, viaPort: 9 });
  }, 90_000);

  afterAll(async () => {
    sipp?.kill('SIGTERM');
    await stopAllGateways();
    await stopAllOnvifSims();
    await stopAllTestCameras();
    if (dir !== undefined && process.env.KEEP_SIPP === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('onboarding stores the PTZ capability and the camera and ONVIF device APIs show it; a device without a PTZ service has none', async () => {
    const device = async (id: string) => (await gw.api<{ ptz: unknown }>('GET', `/api/v1/onvif/devices/${id}`)).body.ptz;
    expect(await device(dome)).toEqual({ kind: 'dome', profileToken: 'Profile_1', maxPresets: 255, home: true });
    expect(await device(fixed)).toBeNull();
    const camera = async (id: string) => (await gw.api<{ ptz: unknown }>('GET', `/api/v1/cameras/${id}`)).body.ptz;
    expect(await camera(dome)).toEqual({ kind: 'dome', profileToken: 'Profile_1', maxPresets: 255, home: true });
    expect(await camera(fixed)).toBeNull();
  });

  it('the catalog gives PTZType 1 for the dome and 3 for the fixed camera', async () => {
    await gw.waitFor('the catalog response', async () => responses(trace).some((r) => field(r, 'CmdType') === 'Catalog'), 20_000);
    const items = responses(trace)
      .filter((r) => field(r, 'CmdType') === 'Catalog')
      .flatMap((r) => [...r.matchAll(/<Item>[\s\S]*?<\/Item>/g)].map((m) => m[0]));
    const ptzType = (id: string) => items.map((i) => [field(i, 'DeviceID'), field(i, 'PTZType')]).find(([d]) => d === id)?.[1];
    expect(ptzType(dome)).toBe('1');
    expect(ptzType(fixed)).toBe('3');
  });

  it('PTZCmds reach the device as ContinuousMove (left -x, up +y, zoom in +zoom), Stop, GotoPreset and SetPreset, in order, over one session', async () => {
    const moves = () => ptzCalls(domeLog).filter((c) => c.action !== 'GetServices');
    await gw.waitFor('six PTZ calls on the dome', async () => moves().length >= 6, 30_000);
    const calls = moves().map(({ action, profileToken, x, y, zoom, presetToken, presetName }) => ({
      action,
      profileToken,
      ...(x === undefined ? {} : { x }),
      ...(y === undefined ? {} : { y }),
      ...(zoom === undefined ? {} : { zoom }),
      ...(presetToken === undefined ? {} : { presetToken }),
      ...(presetName === undefined ? {} : { presetName }),
    }));
    const on = { profileToken: 'Profile_1' };
    expect(calls).toEqual([
      // Speed bytes 0x40 and 0x80 of 255, zoom speed 15 of 15.
      { action: 'ContinuousMove', ...on, x: -0.251, y: 0, zoom: 0 },
      { action: 'ContinuousMove', ...on, x: 0, y: 0.502, zoom: 0 },
      { action: 'ContinuousMove', ...on, x: 0, y: 0, zoom: 1 },
      { action: 'Stop', ...on },
      { action: 'GotoPreset', ...on, presetToken: 'Preset_A', presetName: '1' },
      { action: 'SetPreset', ...on, presetToken: 'Preset_1', presetName: '2' },
    ]);
    // One ONVIF session per camera: GetServices once at onboarding and once when the first command opened the session.
    expect(ptzCalls(domeLog).filter((c) => c.action === 'GetServices')).toHaveLength(2);
    expect(ptzCalls(fixedLog).filter((c) => c.action !== 'GetServices')).toEqual([]);
  });

  it('answers each command with a DeviceControl Response (ERROR for the camera without PTZ) and audits it as ptz.command', async () => {
    const control = () => responses(trace).filter((r) => field(r, 'CmdType') === 'DeviceControl');
    await gw.waitFor('seven DeviceControl responses', async () => control().length >= 7, 30_000);
    // By SN: the refusal for the camera without PTZ does not wait behind the dome's queue; a retransmission counts once.
    const bySn = new Map(control().map((r) => [field(r, 'SN'), [field(r, 'SN'), field(r, 'DeviceID'), field(r, 'Result')]]));
    expect([...bySn.values()].sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ['301', dome, 'OK'],
      ['302', dome, 'OK'],
      ['303', dome, 'OK'],
      ['304', dome, 'OK'],
      ['305', dome, 'OK'],
      ['306', dome, 'OK'],
      ['307', fixed, 'ERROR'],
    ]);
    const audit = async () => (await gw.api<{ items: AuditItem[] }>('GET', '/api/v1/audit?action=ptz.command')).body.items;
    await gw.waitFor('eight audited PTZ commands', async () => (await audit()).length >= 8, 10_000);
    const entries = (await audit()).map((e) => [e.cameraId, e.details.command, e.outcome]);
    expect(entries).toEqual(
      expect.arrayContaining([
        [dome, CMD.left, 'ok'],
        [dome, CMD.stop, 'ok'],
        [dome, CMD.goto1, 'ok'],
        [fixed, CMD.left, 'refused'],
        [dome, CMD.focus, 'refused'],
      ]),
    );
    expect((await audit()).find((e) => e.cameraId === fixed)?.details.reason).toMatch(/no ONVIF PTZ/);
  });
});
