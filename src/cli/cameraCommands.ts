import type { CameraView, PendingChange } from '../domain/index.js';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GatewayError } from '../errors.js';
import { callApi, requestApi, resolveApiTarget } from './apiClient.js';
import { printJson, printTable } from './output.js';

type CameraWithStatus = CameraView & { status?: { state: string; reason: string | null } };

export interface ApiOptions {
  api?: string;
  token?: string;
}

export const apiOptions = (cmd: Command) =>
  cmd
    .option('--api <url>', 'gateway API base URL (default $PSVGW_API_URL or http://127.0.0.1:$PSVGW_HTTP_PORT)')
    .option('--token <token>', 'admin bearer token (default $PSVGW_ADMIN_TOKEN)');

export function registerCameraCommands(program: Command): void {
  const cameras = program.command('cameras').description('register, list, inspect and remove cameras of a running gateway');

  apiOptions(
    cameras
      .command('add')
      .description('register a camera by its RTSP URL; the gateway checks that the stream plays before storing it')
      .requiredOption('--name <name>', 'a name people recognise, e.g. "North gate 1"')
      .requiredOption('--url <rtsp-url>', 'RTSP URL, e.g. rtsp://192.168.1.64:554/Streaming/Channels/101')
      .requiredOption('--site-type <type>', 'where the camera is, e.g. school_gate, road, mall (forbidden places are refused)')
      .option('--username <user>', 'camera account (or put it in the URL)')
      .option('--password <password>', 'camera password (or $PSVGW_CAMERA_PASSWORD, which keeps it out of the shell history)')
      .option('--id <gbid>', 'GB/T 28181 20-digit ID (generated from the configured region code when absent)')
      .option('--address <text>', 'street address of the installation')
      .option('--lat <deg>', 'latitude', Number)
      .option('--lon <deg>', 'longitude', Number)
      .option('--owner <unit>', 'owner unit (使用单位)')
      .option('--government-funded', 'the camera was built with government funds')
      .option('--signage', 'signage (提示标识) is installed')
      .option('--commissioned <YYYY-MM-DD>', 'date the camera went into service')
      .option('--push <url...>', "RTMP/RTSP targets for this camera's shared tier")
      .option('--skip-probe', 'register without checking the stream (camera offline during onboarding)')
      .option('--json', 'print the registered camera as JSON'),
  ).action(async (o: Record<string, unknown> & ApiOptions) => {
    const body = dropUndefined({
      name: o.name,
      rtspUrl: o.url,
      siteType: o.siteType,
      username: o.username,
      password: o.password ?? process.env.PSVGW_CAMERA_PASSWORD,
      id: o.id,
      address: o.address,
      lat: o.lat,
      lon: o.lon,
      ownerUnit: o.owner,
      governmentFunded: o.governmentFunded === true ? true : undefined,
      signageInstalled: o.signage === true ? true : undefined,
      commissionedAt: o.commissioned,
      pushTargets: o.push,
    });
    const camera = await callApi<CameraWithStatus>(
      resolveApiTarget(o),
      'POST',
      `/api/v1/cameras${o.skipProbe ? '?skipProbe=true' : ''}`,
      body,
    );
    if (o.json) printJson(camera);
    else
      process.stdout.write(`registered ${camera.id} "${camera.name}" (${camera.siteType}); state: ${camera.status?.state ?? 'unknown'}\n`);
  });

  apiOptions(cameras.command('list').description('list registered cameras with their live state').option('--json', 'print JSON')).action(
    async (o: ApiOptions & { json?: boolean }) => {
      const page = await callApi<{ items: CameraWithStatus[]; total: number }>(resolveApiTarget(o), 'GET', '/api/v1/cameras?limit=10000');
      if (o.json) return printJson(page);
      printTable(
        page.items.map((c) => ({ id: c.id, name: c.name, site: c.siteType, state: c.status?.state ?? '', url: c.rtspUrl })),
        ['id', 'name', 'site', 'state', 'url'],
      );
      process.stdout.write(`${page.total} camera(s)\n`);
    },
  );

  apiOptions(cameras.command('show').description('show one camera, its state and its playback URLs').argument('<id>', 'camera ID')).action(
    async (id: string, o: ApiOptions) => {
      const target = resolveApiTarget(o);
      const camera = await callApi<CameraWithStatus>(target, 'GET', `/api/v1/cameras/${encodeURIComponent(id)}`);
      const streams = await callApi<unknown>(target, 'GET', `/api/v1/cameras/${encodeURIComponent(id)}/streams`);
      printJson({ ...camera, streams });
    },
  );

  apiOptions(
    cameras
      .command('update')
      .description(
        'change a registered camera; only the fields given change (masks and encoder settings restart only the masking transcode)',
      )
      .argument('<id>', 'camera ID')
      .option('--name <name>', 'new name')
      .option('--site-type <type>', 'new site type (checked against the active profile)')
      .option('--enable', 'start pulling the camera')
      .option('--disable', 'stop pulling the camera (it stays registered)')
      .option('--masks <file>', 'privacy masks as a JSON list read from a file ("-" for stdin); [] removes them')
      .option(
        '--shared-encoder <json>',
        'shared-tier encoder override, e.g. \'{"maxHeight":480,"maxBitrateKbps":800}\'; {} for the defaults',
      )
      .option(
        '--desensitize <kinds>',
        'blur what moves on the shared tier: faces, plates or faces,plates (optionally :FPS and :dark|blur, e.g. faces:8:blur); off turns it off (a second admin approves)',
      )
      .option('--set <json>', 'any other fields as a JSON object, e.g. \'{"signageInstalled":true}\'')
      .option('--json', 'print the changed camera as JSON')
      .addHelpText(
        'after',
        `
Masks are fractions of the frame (0..1), mode fill, blur or mosaic:
  [{"shape":"rect","x":0.1,"y":0.1,"w":0.2,"h":0.3,"mode":"fill"},
   {"shape":"polygon","points":[[0.5,0.1],[0.9,0.1],[0.7,0.5]],"mode":"blur"}]
Check the result before sharing: psvgw cameras snapshot <id> --tier shared -o preview.jpg`,
      ),
  ).action(async (id: string, o: Record<string, unknown> & ApiOptions) => {
    if (o.enable && o.disable) throw usage('--enable and --disable contradict each other');
    const body = dropUndefined({
      ...(o.set === undefined ? {} : jsonObject('--set', parseJsonOption('--set', String(o.set)))),
      name: o.name,
      siteType: o.siteType,
      enabled: o.enable ? true : o.disable ? false : undefined,
      masks: o.masks === undefined ? undefined : parseJsonOption('--masks', readInput(String(o.masks))),
      sharedEncoder: o.sharedEncoder === undefined ? undefined : parseJsonOption('--shared-encoder', String(o.sharedEncoder)),
      desensitize: o.desensitize === undefined ? undefined : parseDesensitize(String(o.desensitize)),
    });
    if (Object.keys(body).length === 0) throw usage('nothing to change: give at least one option (see --help)');
    const camera = await callApi<CameraWithStatus | PendingChange>(
      resolveApiTarget(o),
      'PATCH',
      `/api/v1/cameras/${encodeURIComponent(id)}`,
      body,
    );
    if (o.json) printJson(camera);
    // Masks that hide less wait for a second admin (four eyes): the answer is the pending change.
    else if ('kind' in camera)
      process.stdout.write(`pending change ${camera.id}: ${camera.summary}; a second admin approves it (psvgw changes approve)\n`);
    else process.stdout.write(`updated ${camera.id}: ${Object.keys(body).join(', ')}; masks version ${camera.masksVersion}\n`);
  });

  apiOptions(
    cameras
      .command('snapshot')
      .description('save one JPEG frame of a camera: the shared tier shows what the platform receives, masks burnt in')
      .argument('<id>', 'camera ID')
      .option('--tier <tier>', 'shared (masked) or raw (original)', 'shared')
      .requiredOption('-o, --output <file>', 'where to write the JPEG'),
  ).action(async (id: string, o: ApiOptions & { tier: string; output: string }) => {
    if (o.tier !== 'shared' && o.tier !== 'raw') throw usage(`--tier must be shared or raw, not "${o.tier}"`);
    const res = await requestApi(resolveApiTarget(o), 'GET', `/api/v1/cameras/${encodeURIComponent(id)}/snapshot?tier=${o.tier}`);
    const jpeg = Buffer.from(await res.arrayBuffer());
    writeFileSync(o.output, jpeg);
    process.stdout.write(`wrote ${o.output} (${o.tier} tier, ${jpeg.length} bytes)\n`);
  });

  apiOptions(cameras.command('remove').description('stop a camera and remove it from the registry').argument('<id>', 'camera ID')).action(
    async (id: string, o: ApiOptions) => {
      await callApi(resolveApiTarget(o), 'DELETE', `/api/v1/cameras/${encodeURIComponent(id)}`);
      process.stdout.write(`removed ${id}\n`);
    },
  );
}

function usage(message: string): GatewayError {
  return new GatewayError('VALIDATION_FAILED', message, { hint: 'See psvgw cameras <command> --help.' });
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new GatewayError('VALIDATION_FAILED', `cannot read ${file}: ${(err as Error).message}`, {
      hint: 'Give the path of a JSON file.',
    });
  }
}

function parseJsonOption(option: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new GatewayError('VALIDATION_FAILED', `${option} is not valid JSON: ${(err as Error).message}`, {
      hint: 'Quote JSON for the shell, e.g. \'{"maxHeight":480}\'.',
    });
  }
}

function jsonObject(option: string, value: unknown): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new GatewayError('VALIDATION_FAILED', `${option} must be a JSON object of camera fields`, {
    hint: 'e.g. \'{"signageInstalled":true}\'.',
  });
}

export function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/**
 * `--desensitize faces,plates[:FPS][:dark|blur]` → the API's setting; `off` → null. The API
 * checks the values themselves (range of FPS); this only reads the words.
 */
export function parseDesensitize(text: string): { faces: boolean; plates: boolean; detectFps?: number; failMode?: string } | null {
  const value = text.trim();
  if (value === 'off' || value === 'none') return null;
  const [kinds = '', ...rest] = value.split(':');
  const words = kinds
    .split(',')
    .map((w) => w.trim())
    .filter(Boolean);
  const unknown = words.filter((w) => w !== 'faces' && w !== 'plates');
  if (words.length === 0 || unknown.length > 0) {
    throw usage(`--desensitize: expected faces, plates, faces,plates or off (got ${JSON.stringify(text)})`);
  }
  const setting: { faces: boolean; plates: boolean; detectFps?: number; failMode?: string } = {
    faces: words.includes('faces'),
    plates: words.includes('plates'),
  };
  for (const part of rest) {
    if (part === 'dark' || part === 'blur') setting.failMode = part;
    else if (/^\d+(\.\d+)?$/.test(part)) setting.detectFps = Number(part);
    else throw usage(`--desensitize: after the kinds, expected detections per second or dark/blur (got ${JSON.stringify(part)})`);
  }
  return setting;
}
