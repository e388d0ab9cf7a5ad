import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleCsp, consoleRoutes } from '../../../src/api/consoleRoutes.js';

/** The console's routes over a built console of two files, an API route mounted first as in server.ts. */
describe('the console routes', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psvgw-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'export {};');
    const app = express();
    app.get('/api/v1/ping', (_req, res) => {
      res.json({ pong: true });
    });
    app.use('/unbuilt', consoleRoutes({ dir: join(dir, 'missing/') }));
    app.use(consoleRoutes({ dir: `${dir}/`, mediaPort: 8000 }));
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers index.html with the strict CSP for / and any other page of the console', async () => {
    for (const path of ['/', '/wall', '/cameras/42']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(consoleCsp(8000));
      expect(await res.text()).toContain('/assets/app.js');
    }
    expect(consoleCsp(8000)).toContain("script-src 'self'");
    expect(consoleCsp(8000)).toContain("connect-src 'self' ws://*:8000 wss://*:8000");
    expect(consoleCsp(8000)).not.toContain('unsafe');
  });

  it('serves assets, and a missing asset is a 404, not the page', async () => {
    const ok = await fetch(`${base}/assets/app.js`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/assets/gone.js`)).status).toBe(404);
  });

  it('leaves /api/ paths to the API', async () => {
    expect(await (await fetch(`${base}/api/v1/ping`)).json()).toEqual({ pong: true });
  });

  it('says how to build the console when it is not built', async () => {
    const res = await fetch(`${base}/unbuilt/wall`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('npm run build');
  });
});
