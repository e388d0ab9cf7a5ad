import { GatewayError, type ErrorCode } from '../errors.js';

export interface ApiTarget {
  baseUrl: string;
  token: string | undefined;
}

/** Where the CLI finds a running gateway: --api / PSVGW_API_URL, else the local default port. */
export function resolveApiTarget(opts: { api?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ApiTarget {
  const port = env.PSVGW_HTTP_PORT ?? '8080';
  return {
    baseUrl: (opts.api ?? env.PSVGW_API_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, ''),
    token: opts.token ?? env.PSVGW_ADMIN_TOKEN,
  };
}

/** One call to the gateway's API, answering JSON; its JSON errors come back as GatewayErrors. */
export async function callApi<T>(target: ApiTarget, method: string, path: string, body?: unknown): Promise<T> {
  const res = await requestApi(target, method, path, body);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A GET whose answer is a file (a report): its bytes and content type. */
export async function downloadApi(target: ApiTarget, path: string): Promise<{ contentType: string; body: Buffer }> {
  const res = await requestApi(target, 'GET', path);
  return { contentType: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) };
}

/** One call to the gateway's API; a successful response comes back unread, an error as a GatewayError. */
export async function requestApi(target: ApiTarget, method: string, path: string, body?: unknown): Promise<Response> {
  if (!target.token) {
    throw new GatewayError('UNAUTHORIZED', 'No admin token to call the gateway API with.', {
      hint: 'Set PSVGW_ADMIN_TOKEN or pass --token (the token is printed at the first start of the gateway).',
    });
  }
  let res: Response;
  try {
    res = await fetch(`${target.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    throw new GatewayError('CAMERA_UNREACHABLE', `Cannot reach the gateway API at ${target.baseUrl} (${(err as Error).message}).`, {
      hint: 'Is `psvgw start` running? Point the CLI at it with --api URL or PSVGW_API_URL.',
    });
  }
  if (res.ok) return res;
  const text = await res.text();
  let e: { code?: string; message?: string; hint?: string; details?: unknown } | undefined;
  try {
    e = (JSON.parse(text) as { error?: typeof e }).error;
  } catch {
    e = undefined;
  }
  throw new GatewayError((e?.code as ErrorCode | undefined) ?? 'VALIDATION_FAILED', e?.message ?? `HTTP ${res.status}`, {
    hint: e?.hint,
    details: e?.details,
  });
}
