import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createApiApp, Readiness, type ApiDeps } from '../../../src/api/index.js';
import { isPermit } from '../../../src/api/permit.js';
import { PROFILES } from '../../../src/config/profiles.js';

interface Layer {
  handle: { stack?: Layer[] } & ((...args: unknown[]) => unknown);
  route?: { path: string; methods: Record<string, boolean>; stack: Layer[] };
  matchers?: unknown[];
}

/** Every route under the router, and whether a permit(...) stands in its own handler chain. */
function routesOf(stack: Layer[], out: { name: string; guarded: boolean }[]): void {
  // A permit mounted on a path (the diagnostics routes, from another module) guards only that path.
  for (const layer of stack) {
    if (layer.route) {
      const own = layer.route.stack.some((l) => isPermit(l.handle));
      out.push({ name: `${Object.keys(layer.route.methods).join(',').toUpperCase()} ${layer.route.path}`, guarded: own });
    } else if (Array.isArray(layer.handle.stack)) {
      routesOf(layer.handle.stack, out);
    }
  }
}

describe('every /api/v1 route asks the policy', () => {
  it('has a permit(...) in front of each route handler', () => {
    // Routers only keep their dependencies; no route is called here.
    const deps = {
      readiness: new Readiness(),
      metrics: new Registry(),
      logger: pino({ level: 'silent' }),
      auth: {},
      recordings: {},
      onvif: {},
      accessRequests: {},
      dossier: {},
      exports: {},
      changes: {},
      profile: PROFILES.strict,
      systemInfo: () => ({}),
    } as unknown as ApiDeps;
    const app = createApiApp(deps) as unknown as { router: { stack: Layer[] } };
    const api = app.router.stack.find((l) => Array.isArray(l.handle.stack) && l.handle.stack.some((s) => s.route?.path === '/system'));
    expect(api, 'the /api/v1 router').toBeDefined();
    const routes: { name: string; guarded: boolean }[] = [];
    routesOf(api!.handle.stack!, routes);
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.map((r) => r.name)).toContain('POST /:id/withdraw');
    // Login and refresh are the two calls made before there is a principal to ask about.
    expect(routes.filter((r) => !r.guarded).map((r) => r.name)).toEqual(['POST /login', 'POST /refresh']);
  });
});
