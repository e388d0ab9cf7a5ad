/**
 * The console's only way to the gateway: the same /api/v1 as the CLI, with the session
 * token as a bearer. The token lives in sessionStorage (see README "Web console": the
 * HttpOnly cookie with CSRF protection is the planned replacement). Pages add their calls
 * next to their own code and reach the gateway through `call`.
 */

const TOKEN_KEY = 'psvgw.session';

export interface ApiError {
  status: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

export interface CameraItem {
  id: string;
  name: string;
  siteType: string;
  enabled: boolean;
  status: { state: string; reason: string | null };
}

export interface CameraPage {
  items: CameraItem[];
  total: number;
  limit: number;
  offset: number;
}

export interface StreamUrls {
  httpFlv: string;
  wsFlv: string;
  expiresAt: string;
}

export interface CameraStreams {
  cameraId: string;
  shared: StreamUrls;
  raw: StreamUrls | { refused: string };
}

export function sessionToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function isApiError(e: unknown): e is ApiError {
  return typeof e === 'object' && e !== null && 'status' in e && 'code' in e;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = sessionToken();
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch {
    throw { status: 0, code: 'NETWORK', message: 'network' } satisfies ApiError;
  }
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } } & T;
  if (!res.ok) {
    const retry = res.headers.get('retry-after');
    throw {
      status: res.status,
      code: json.error?.code ?? 'HTTP_' + res.status,
      message: json.error?.message ?? res.statusText,
      ...(retry === null ? {} : { retryAfterSeconds: Number(retry) }),
    } satisfies ApiError;
  }
  return json;
}

export async function login(username: string, password: string): Promise<void> {
  const grant = await call<{ token: string }>('POST', '/auth/login', { username, password });
  sessionStorage.setItem(TOKEN_KEY, grant.token);
}

export async function logout(): Promise<void> {
  try {
    await call('POST', '/auth/logout');
  } finally {
    sessionStorage.removeItem(TOKEN_KEY);
  }
}

export function forgetSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function listCameras(offset: number, limit: number): Promise<CameraPage> {
  return call('GET', `/cameras?offset=${offset}&limit=${limit}`);
}

/** Play URLs carry a short-lived token, so a tile asks afresh on every (re)connect. */
export function cameraStreams(id: string): Promise<CameraStreams> {
  return call('GET', `/cameras/${encodeURIComponent(id)}/streams`);
}

/** A binary answer (a snapshot) with the same credentials as `call`. */
export async function callBlob(path: string): Promise<Blob> {
  const token = sessionToken();
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  } catch {
    throw { status: 0, code: 'NETWORK', message: 'network' } satisfies ApiError;
  }
  if (!res.ok) {
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    throw {
      status: res.status,
      code: json.error?.code ?? 'HTTP_' + res.status,
      message: json.error?.message ?? res.statusText,
    } satisfies ApiError;
  }
  return res.blob();
}
