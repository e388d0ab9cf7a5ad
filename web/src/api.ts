/**
 * The console's only way to the gateway: the same /api/v1 as the CLI. The session lives in
 * HttpOnly cookies that no script here can read (README "Web console"); state-changing
 * calls echo the readable CSRF cookie in X-CSRF-Token. An expired session token is renewed
 * once by the refresh cookie before a call gives up with 401. Pages add their calls next
 * to their own code and reach the gateway through `call`. The shapes come from the
 * gateway's own src/api/contract.ts, so the two cannot drift apart.
 */
import type {
  CameraListItem,
  CameraListQuery,
  CameraPage,
  CameraStreams,
  CookieGrant,
  SavedWall,
  StreamUrls,
  WallLayoutSize,
} from '../../src/api/contract.js';

export type { CameraListItem, CameraListQuery, CameraPage, CameraStreams, SavedWall, StreamUrls, WallLayoutSize };
/** The list's item under its old name. */
export type CameraItem = CameraListItem;

const CSRF_COOKIE = 'psvgw_csrf';
const SAFE = new Set(['GET', 'HEAD']);

export interface ApiError {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

export function isApiError(e: unknown): e is ApiError {
  return typeof e === 'object' && e !== null && 'status' in e && 'code' in e;
}

function csrfToken(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join('='));
  }
  return null;
}

/** Whether a session is (probably) open: its CSRF cookie is there. The API has the last word. */
export function hasSession(): boolean {
  return csrfToken() !== null;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const csrf = csrfToken();
  if (!SAFE.has(method) && csrf !== null) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw { status: 0, code: 'NETWORK', message: 'network' } satisfies ApiError;
  }
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time, shared by every call that met an expired session token. */
function refreshSession(): Promise<boolean> {
  refreshing ??= send('POST', '/auth/refresh')
    .then((res) => res.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** The answer to a call, after one refresh of an expired session; an error answer is thrown as an ApiError. */
async function answered(method: string, path: string, body?: unknown): Promise<Response> {
  let res = await send(method, path, body);
  if (res.status === 401 && !path.startsWith('/auth/') && hasSession() && (await refreshSession())) res = await send(method, path, body);
  if (res.ok) return res;
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  const retry = res.headers.get('retry-after');
  throw {
    status: res.status,
    code: json.error?.code ?? 'HTTP_' + res.status,
    message: json.error?.message ?? res.statusText,
    ...(retry === null ? {} : { retryAfterSeconds: Number(retry) }),
  } satisfies ApiError;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await answered(method, path, body);
  if (res.status === 204) return undefined as T;
  return (await res.json().catch(() => ({}))) as T;
}

export async function login(username: string, password: string): Promise<void> {
  await call<CookieGrant>('POST', '/auth/login', { username, password, session: 'cookie' });
}

export async function logout(): Promise<void> {
  await call('POST', '/auth/logout').catch(() => undefined);
}

/** Forgets a session the API no longer knows: the readable cookie goes (the HttpOnly ones are the gateway's to clear). */
export function forgetSession(): void {
  document.cookie = `${CSRF_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict`;
}

/** A page of the camera list; `(offset, limit)` is the older form of `{ offset, limit }`. */
export function listCameras(query: CameraListQuery | number, limit?: number): Promise<CameraPage> {
  if (typeof query === 'number') return listCameras({ offset: query, ...(limit === undefined ? {} : { limit }) });
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  return call('GET', `/cameras?${params.toString()}`);
}

/** Play URLs carry a short-lived token, so a tile asks afresh on every (re)connect. */
export function cameraStreams(id: string): Promise<CameraStreams> {
  return call('GET', `/cameras/${encodeURIComponent(id)}/streams`);
}

export function savedWalls(): Promise<{ items: SavedWall[] }> {
  return call('GET', '/console/walls');
}

export function saveWall(wall: Omit<SavedWall, 'updatedAt'>): Promise<SavedWall> {
  return call('PUT', `/console/walls/${encodeURIComponent(wall.name)}`, { layout: wall.layout, tiles: wall.tiles });
}

/** A binary answer (a snapshot), with the same session and the same errors as `call`. */
export async function callBlob(path: string): Promise<Blob> {
  return (await answered('GET', path)).blob();
}

/** The gateway's mode ('development' or 'production'), among the facts of GET /system. */
export function systemInfo(): Promise<{ mode: string }> {
  return call('GET', '/system');
}

/** Adds the demo camera (development mode only; the gateway answers the one there is on a second call). */
export function startDemo(): Promise<{ id: string }> {
  return call('POST', '/demo');
}
