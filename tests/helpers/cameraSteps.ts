import { footageViewer } from './accessSteps.js';
import { parseLogLine, type GatewayProcess } from './gateway.js';

export { parseLogLine };

/** The API's error body. */
export interface ApiError {
  error: { code: string; message: string; hint?: string; details?: unknown };
}

export interface CameraBody {
  id: string;
  name: string;
  rtspUrl: string;
  status: { state: string; reason: string | null };
}

export interface CameraList {
  items: CameraBody[];
  total: number;
}

export interface StreamUrls {
  cameraId: string;
  raw: { httpFlv: string; wsFlv: string };
  shared: { httpFlv: string; wsFlv: string };
}

/** Registers a camera at a public site type; fails the test with the API's answer unless it is 201. */
export async function addCamera(
  gw: GatewayProcess,
  rtspUrl: string,
  name = 'Test camera',
  extra: Record<string, unknown> = {},
): Promise<CameraBody> {
  const res = await gw.api<CameraBody | ApiError>('POST', '/api/v1/cameras', { name, rtspUrl, siteType: 'road', ...extra });
  if (res.status !== 201) throw new Error(`camera registration answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as CameraBody;
}

export async function cameraTotal(gw: GatewayProcess): Promise<number> {
  const res = await gw.api<CameraList>('GET', '/api/v1/cameras');
  if (res.status !== 200) throw new Error(`camera list answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.total;
}

export async function cameraUp(gw: GatewayProcess, cameraId: string): Promise<number | undefined> {
  return gw.metric('psvgw_camera_up', { camera_id: cameraId });
}

/** Waits until `psvgw_camera_up` for the camera reads `value`; returns the elapsed ms. */
export function waitForUp(gw: GatewayProcess, cameraId: string, value: 0 | 1, timeoutMs: number): Promise<number> {
  return gw.waitFor(
    `psvgw_camera_up{camera_id="${cameraId}"} == ${value}`,
    async () => (await cameraUp(gw, cameraId)) === value,
    timeoutMs,
  );
}

/** Until the camera's shared tier has a picture (its masking ffmpeg, when masks apply, starts after the ingest is up). */
export function waitForSharedUp(gw: GatewayProcess, cameraId: string, timeoutMs: number): Promise<number> {
  return gw.waitFor(
    `the shared tier of ${cameraId} up`,
    async () =>
      (await gw.api<{ pipeline: { shared: { up: boolean } } | null }>('GET', `/api/v1/cameras/${cameraId}/status`)).body.pipeline?.shared
        .up === true,
    timeoutMs,
  );
}

const rawViewers = new WeakMap<GatewayProcess, Map<string, Promise<string>>>();

/**
 * Both tiers' URLs. The raw tier is given only under an approved view_live_raw request, so
 * (unless `token` is given) a police officer with one for this camera is made, once per
 * gateway and camera.
 */
export async function streamUrls(gw: GatewayProcess, cameraId: string, token?: string): Promise<StreamUrls> {
  let byCamera = rawViewers.get(gw);
  if (byCamera === undefined) rawViewers.set(gw, (byCamera = new Map()));
  let viewer = byCamera.get(cameraId);
  if (token === undefined && viewer === undefined) byCamera.set(cameraId, (viewer = footageViewer(gw, [cameraId])));
  const res = await gw.api<StreamUrls>('GET', `/api/v1/cameras/${cameraId}/streams`, undefined, token ?? (await viewer!));
  if (res.status !== 200) throw new Error(`streams answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The ingest state changes the gateway logged for a camera, in order, as `to` states. */
export function loggedIngestStates(gw: GatewayProcess, cameraId: string, fromLine = 0): string[] {
  return gw.logs
    .slice(fromLine)
    .map(parseLogLine)
    .filter((e): e is Record<string, unknown> => e !== null && e.msg === 'stream state' && e.cameraId === cameraId && e.stream === 'ingest')
    .map((e) => String(e.to));
}
