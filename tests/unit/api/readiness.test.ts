import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiApp, Readiness, startApiServer, type ApiDeps, type ApiServer } from '../../../src/api/index.js';
import { CameraReconciler } from '../../../src/reconciler/index.js';
import { SafeEmitter } from '../../../src/events.js';
import type { CameraEvents } from '../../../src/cameras/index.js';
import { freePort } from '../../helpers/ports.js';

const quiet = pino({ level: 'silent' });

describe('Readiness', () => {
  it('is ready once the store is open, the media server listens and the first reconciliation is done; never again once stopping', () => {
    const r = new Readiness();
    expect(r.state()).toBe('starting');
    r.met('store');
    r.met('media');
    expect(r.isReady()).toBe(false);
    r.met('reconciled');
    expect(r.state()).toBe('ready');
    r.stopping();
    expect(r.state()).toBe('stopping');
    r.met('reconciled');
    expect(r.isReady()).toBe(false);
  });

  it('is no longer ready once a condition is lost (the store gone)', () => {
    const r = new Readiness();
    for (const c of ['store', 'media', 'reconciled'] as const) r.met(c);
    expect(r.isReady()).toBe(true);
    r.lost('store');
    expect(r.state()).toBe('starting');
  });
});

/** The API app with only what /healthz, /readyz and /metrics touch; the other routes are never called here. */
function apiApp(readiness: Readiness) {
  const metrics = new Registry();
  return createApiApp({ readiness, metrics, logger: quiet, auth: {}, recordings: {}, systemInfo: () => ({}) } as unknown as ApiDeps);
}

async function get(server: ApiServer, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('the API server and /readyz', () => {
  let server: ApiServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('answers 503 before the first reconciliation is done, 200 after, and 503 as soon as the close begins', async () => {
    const readiness = new Readiness();
    server = await startApiServer({ host: '127.0.0.1', port: await freePort(), readiness });
    // Listening before anything else runs: alive, not ready, nothing else served.
    expect(await get(server, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(server, '/readyz')).toEqual({ status: 503, body: { status: 'starting' } });
    expect((await get(server, '/api/v1/cameras')).status).toBe(503);
    readiness.met('store');
    readiness.met('media');
    server.serve(apiApp(readiness));

    // A reconciler whose start-up sync is held.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const reconciler = new CameraReconciler({
      listCameras: async () => {
        await held;
        return [];
      },
      getCamera: () => Promise.resolve(undefined),
      changes: new SafeEmitter<CameraEvents>(quiet),
      credentialsOf: () => null,
      subStreamOf: () => Promise.resolve(null),
      checkSite: (siteType) => ({ forbidden: false, siteType, citations: [] }),
      pushTargets: [],
      pipelines: { apply: () => Promise.resolve(), refuse: () => Promise.resolve(), remove: () => Promise.resolve() },
      incidents: { active: () => [], resolveCamera: () => 0 },
      diagnostics: { stopCamera: () => Promise.resolve(), forgetCamera: () => Promise.resolve() },
      logger: quiet,
    });
    const synced = reconciler.start().then(() => readiness.met('reconciled'));
    expect(await get(server, '/readyz')).toEqual({ status: 503, body: { status: 'starting' } });
    release();
    await synced;
    expect(await get(server, '/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    expect((await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);

    readiness.stopping();
    expect(await get(server, '/readyz')).toEqual({ status: 503, body: { status: 'stopping' } });
    const api = await get(server, '/api/v1/cameras');
    expect(api.status).toBe(503);
    expect(api.body).toMatchObject({ error: { code: 'NOT_READY' } });
    await reconciler.close();
  });

  it('close() is idempotent and frees the port', async () => {
    const port = await freePort();
    server = await startApiServer({ host: '127.0.0.1', port, readiness: new Readiness() });
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
