import type { Command } from 'commander';
import type { CameraView } from '../cameras/index.js';
import { callApi, resolveApiTarget } from './apiClient.js';
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

  apiOptions(cameras.command('remove').description('stop a camera and remove it from the registry').argument('<id>', 'camera ID')).action(
    async (id: string, o: ApiOptions) => {
      await callApi(resolveApiTarget(o), 'DELETE', `/api/v1/cameras/${encodeURIComponent(id)}`);
      process.stdout.write(`removed ${id}\n`);
    },
  );
}

function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
