import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GatewayError, isGatewayError } from '../errors.js';
import { createLogger } from '../log.js';
import {
  OnvifDiscovery,
  onboardRowsFromCsv,
  probeNetwork,
  readDeviceInformation,
  type DeviceProbe,
  type DiscoveryResult,
  type OnboardResult,
} from '../onvif/index.js';
import { callApi, resolveApiTarget, type ApiTarget } from './apiClient.js';
import { apiOptions, dropUndefined, type ApiOptions } from './cameraCommands.js';
import { printJson, printTable } from './output.js';

interface DiscoverOptions extends ApiOptions {
  timeout: number;
  interface?: string;
  probe?: string[];
  username?: string;
  password?: string;
  json?: boolean;
  local?: boolean;
}

export function registerOnvifCommands(program: Command): void {
  apiOptions(
    program
      .command('discover')
      .description('find ONVIF cameras with a WS-Discovery probe and show what they are and whether they are registered')
      .option('--timeout <seconds>', 'how long to listen for answers', Number, 3)
      .option('--interface <name>', 'network interface to probe from, e.g. eth1 (default: the default route)')
      .option('--probe <address...>', 'HOST[:PORT] addresses probed directly instead of multicast 239.255.255.250:3702')
      .option('--username <user>', 'ONVIF account to read model and serial of unregistered devices')
      .option('--password <password>', 'its password (or $PSVGW_CAMERA_PASSWORD)')
      .option('--local', 'probe from this machine without asking a gateway (cannot tell what is registered)')
      .option('--json', 'print the list as JSON (an empty list when nothing answers)')
      .addHelpText(
        'after',
        `
Runs on the gateway (its network) unless --local. Devices are merged by endpoint
reference over repeated probes. Model and serial come from the gateway's records for
registered devices, else from the device (anonymously, or with --username), else from
its discovery scopes (column SOURCE says which).

Examples:
  psvgw discover --timeout 5
  psvgw discover --probe 192.168.10.21 --probe 192.168.10.22 --json
  psvgw discover --local --interface eth1`,
      ),
  ).action(async (o: DiscoverOptions) => {
    if (!(o.timeout >= 0.5 && o.timeout <= 60)) throw new GatewayError('VALIDATION_FAILED', '--timeout must be 0.5 to 60 seconds');
    const password = o.password ?? process.env.PSVGW_CAMERA_PASSWORD;
    const where = o.local ? 'from this machine' : 'from the gateway';
    const listen = `${o.timeout} s`;
    process.stderr.write(
      `probing for ONVIF devices ${where}${o.probe ? ` at ${o.probe.join(', ')}` : ' (multicast)'}, listening ${listen}…\n`,
    );
    const result = o.local ? await discoverLocally(o, password) : await discoverViaGateway(resolveApiTarget(o), o, password);
    process.stderr.write(`found ${result.devices.length} device(s) in ${(result.elapsedMs / 1000).toFixed(1)} s\n`);
    if (o.json) return printJson(result.devices);
    printTable(
      result.devices.map((d) => ({
        address: d.address,
        manufacturer: d.manufacturer ?? '',
        model: d.model ?? '',
        serial: d.serialNumber ?? '',
        firmware: d.firmwareVersion ?? '',
        hardware: d.hardwareId ?? '',
        source: d.infoSource,
        registered: o.local ? '?' : d.registered ? `yes (${d.cameraId ?? ''})` : 'no',
        endpoint: d.endpointRef,
      })),
      ['address', 'manufacturer', 'model', 'serial', 'firmware', 'hardware', 'source', 'registered', 'endpoint'],
    );
  });

  apiOptions(
    program
      .command('onboard')
      .description('register an ONVIF camera (or every row of a CSV file): read its profiles, check its clock and stream, then add it')
      .argument('[device]', 'camera address (192.168.1.64, 192.168.1.64:8000) or its device-service URL from discover')
      .option(
        '--csv <file>',
        'onboard every row of this CSV file (columns: device,username,password,name,siteType,address,lat,lon,owner,…)',
      )
      .option('--site-type <type>', 'where the camera is, e.g. school_gate, road (forbidden places are refused)')
      .option('--name <name>', 'camera name (default: manufacturer, model and address)')
      .option('--username <user>', 'ONVIF account (for --csv: used where a row has none)')
      .option('--password <password>', 'its password, or $PSVGW_CAMERA_PASSWORD (for --csv: where a row has none)')
      .option('--address <text>', 'street address of the installation')
      .option('--lat <deg>', 'latitude', Number)
      .option('--lon <deg>', 'longitude', Number)
      .option('--owner <unit>', 'owner unit (使用单位)')
      .option('--id <gbid>', 'GB/T 28181 20-digit ID (generated when absent)')
      .option('--record-profile <token>', 'profile ingested and recorded (default: the largest H.264 profile, the main stream)')
      .option(
        '--shared-profile <token>',
        'profile for the shared tier, e.g. the sub stream (a second pull from the camera); default: the recorded profile, one pull',
      )
      .option('--endpoint-ref <urn>', 'endpoint reference from discover, so the device is recognised at a new address')
      .option('--profiles-only', 'only read the device and list its profiles, to choose --record-profile and --shared-profile')
      .option('--json', 'print the result (for --csv: the per-row report) as JSON')
      .addHelpText(
        'after',
        `
Steps, each named when it fails: validate (fields, site type: forbidden places are refused
with PRIVACY_FORBIDDEN_SITE), connect, services, auth, profiles, stream URI, clock,
profile choice, play check (ffprobe of each chosen stream), register. A failure leaves
nothing registered. A device already onboarded (same endpoint reference or serial) is
reported as already registered, so a CSV run can be repeated.

CSV example (keep the file private: it holds passwords):
  device,username,password,name,siteType,address,owner
  192.168.10.21,admin,secret,East gate,school_gate,1 School Rd,No. 3 Middle School

  psvgw onboard 192.168.10.21 --username admin --site-type school_gate --name "East gate"
  psvgw onboard --csv cameras.csv --site-type road`,
      ),
  ).action(async (device: string | undefined, o: Record<string, unknown> & ApiOptions) => {
    const target = resolveApiTarget(o);
    const password = (o.password as string | undefined) ?? process.env.PSVGW_CAMERA_PASSWORD;
    const common = dropUndefined({
      username: o.username,
      password,
      siteType: o.siteType,
      ownerUnit: o.owner,
    });
    if (typeof o.csv === 'string') {
      if (device !== undefined) throw usage('give either a device or --csv, not both');
      return onboardCsv(target, o.csv, common as Record<string, string>, o.json === true);
    }
    if (device === undefined) throw usage('name a device, e.g. psvgw onboard 192.168.1.64 --site-type road, or give --csv FILE');
    const body = dropUndefined({
      ...common,
      device,
      name: o.name,
      address: o.address,
      lat: o.lat,
      lon: o.lon,
      id: o.id,
      recordProfile: o.recordProfile,
      sharedProfile: o.sharedProfile,
      endpointRef: o.endpointRef,
    });
    if (o.profilesOnly === true)
      return printProfiles(await callApi<DeviceProbe>(target, 'POST', '/api/v1/onvif/probe', body), o.json === true);
    process.stderr.write(`onboarding ${device}…\n`);
    const result = await callApi<OnboardResult>(target, 'POST', '/api/v1/onboard', body);
    if (o.json) return printJson(result);
    if (result.outcome === 'already_registered') {
      process.stdout.write(`already registered as camera ${result.cameraId}\n`);
      return;
    }
    process.stdout.write(
      `onboarded as camera ${result.cameraId}: records profile ${result.onvif.recordProfileToken}, shares profile ${result.onvif.sharedProfileToken}, clock off by ${result.onvif.clockDriftSeconds} s\n`,
    );
  });
}

async function discoverViaGateway(target: ApiTarget, o: DiscoverOptions, password: string | undefined): Promise<DiscoveryResult> {
  return callApi<DiscoveryResult>(
    target,
    'POST',
    '/api/v1/discovery',
    dropUndefined({
      timeoutSeconds: o.timeout,
      interface: o.interface,
      probeAddresses: o.probe,
      username: o.username,
      password: o.username === undefined ? undefined : password,
    }),
  );
}

async function discoverLocally(o: DiscoverOptions, password: string | undefined): Promise<DiscoveryResult> {
  const discovery = new OnvifDiscovery({
    // Nothing is registered from this machine's point of view.
    devices: { list: async () => [], markSeen: async () => undefined },
    probe: probeNetwork,
    readInfo: readDeviceInformation,
    settings: {
      timeoutMs: o.timeout * 1000,
      repeats: 2,
      interface: o.interface,
      probeAddresses: o.probe ?? [],
      requestTimeoutMs: 5000,
      intervalMs: 0,
    },
    logger: createLogger({ level: 'error' }),
  });
  return discovery.discover({ credentials: o.username === undefined ? null : { username: o.username, password: password ?? '' } });
}

interface RowReport {
  line: number;
  device: string;
  outcome: 'onboarded' | 'already_registered' | 'failed';
  cameraId: string | null;
  step: string | null;
  code: string | null;
  message: string | null;
}

async function onboardCsv(target: ApiTarget, file: string, defaults: Record<string, string>, json: boolean): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatewayError('VALIDATION_FAILED', `cannot read ${file}: ${(err as Error).message}`, {
      hint: 'Check the path of the CSV file.',
    });
  }
  const rows = onboardRowsFromCsv(text, defaults);
  const reports: RowReport[] = [];
  for (const [i, row] of rows.entries()) {
    const device = String(row.request.device ?? '');
    let report: RowReport;
    if (row.problem !== undefined) {
      report = {
        line: row.line,
        device,
        outcome: 'failed',
        cameraId: null,
        step: 'validate',
        code: 'VALIDATION_FAILED',
        message: row.problem,
      };
    } else {
      try {
        const result = await callApi<OnboardResult>(target, 'POST', '/api/v1/onboard', row.request);
        report = { line: row.line, device, outcome: result.outcome, cameraId: result.cameraId, step: null, code: null, message: null };
      } catch (err) {
        if (isGatewayError(err) && err.code === 'UNAUTHORIZED') throw err;
        const details = isGatewayError(err) ? (err.details as { step?: string } | undefined) : undefined;
        report = {
          line: row.line,
          device,
          outcome: 'failed',
          cameraId: null,
          step: details?.step ?? null,
          code: isGatewayError(err) ? err.code : null,
          message: err instanceof Error ? err.message : String(err),
        };
      }
    }
    reports.push(report);
    process.stderr.write(
      `${progressBar(i + 1, rows.length)} ${device}: ${report.outcome.replace('_', ' ')}${report.step ? ` at ${report.step}` : ''}\n`,
    );
  }
  const failed = reports.filter((r) => r.outcome === 'failed').length;
  if (json) printJson(reports);
  else
    printTable(
      reports.map((r) => ({
        line: String(r.line),
        device: r.device,
        result: r.outcome.replace('_', ' '),
        camera: r.cameraId ?? '',
        step: r.step ?? '',
        reason: r.code === null ? '' : `${r.code}: ${r.message ?? ''}`,
      })),
      ['line', 'device', 'result', 'camera', 'step', 'reason'],
    );
  process.stderr.write(
    `${reports.length} row(s): ${reports.filter((r) => r.outcome === 'onboarded').length} onboarded, ` +
      `${reports.filter((r) => r.outcome === 'already_registered').length} already registered, ${failed} failed\n`,
  );
  if (failed > 0) process.exitCode = 1;
}

function printProfiles(probe: DeviceProbe, json: boolean): void {
  if (json) return printJson(probe);
  const i = probe.info;
  process.stdout.write(
    `${i.manufacturer ?? '?'} ${i.model ?? '?'}, serial ${i.serialNumber ?? '?'}, firmware ${i.firmwareVersion ?? '?'}; clock off by ${probe.clockDriftSeconds} s\n`,
  );
  printTable(
    probe.profiles.map((p) => ({
      token: p.token,
      name: p.name,
      encoding: p.encoding ?? 'no video',
      size: p.width === null ? '' : `${p.width}x${p.height ?? '?'}`,
      fps: p.fps === null ? '' : String(p.fps),
      kbps: p.bitrateKbps === null ? '' : String(p.bitrateKbps),
      stream: p.streamUri ?? '',
    })),
    ['token', 'name', 'encoding', 'size', 'fps', 'kbps', 'stream'],
  );
}

function progressBar(done: number, total: number, width = 20): string {
  const filled = Math.round((done / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}

function usage(message: string): GatewayError {
  return new GatewayError('VALIDATION_FAILED', message, { hint: 'See psvgw onboard --help.' });
}
