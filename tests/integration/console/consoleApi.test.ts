import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraPage, CookieGrant, SavedWall } from '../../../src/api/contract.js';
import { PASSWORD } from '../../helpers/accessSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';

/** The console's API: the session in cookies with CSRF protection, and the filtered camera list. */
describe('the console API', () => {
  let gw: GatewayProcess;

  /** A raw call with chosen headers; returns the status, the Set-Cookie lines and the body. */
  async function raw(method: string, path: string, headers: Record<string, string>, body?: unknown) {
    const res = await fetch(`${gw.apiUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, cookies: res.headers.getSetCookie(), body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  /** The Cookie header a browser would send back from Set-Cookie lines, and the CSRF cookie's value. */
  function jar(setCookies: string[]): { cookie: string; csrf: string } {
    const pairs = setCookies.map((line) => line.split(';')[0] ?? '');
    const csrf = pairs.find((p) => p.startsWith('psvgw_csrf='))?.slice('psvgw_csrf='.length) ?? '';
    return { cookie: pairs.join('; '), csrf: decodeURIComponent(csrf) };
  }

  beforeAll(async () => {
    gw = await GatewayProcess.start();
    for (const [username, role] of [
      ['chief', 'admin'],
      ['duty', 'operator'],
    ] as const) {
      const res = await gw.api('POST', '/api/v1/users', { username, password: PASSWORD, roles: [role] });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await stopAllGateways();
  });

  it('sets the session in HttpOnly SameSite=Strict cookies for the console, the tokens not in the body', async () => {
    const res = await raw('POST', '/api/v1/auth/login', {}, { username: 'duty', password: PASSWORD, session: 'cookie' });
    expect(res.status).toBe(200);
    const body = res.body as unknown as CookieGrant;
    expect(body.session).toBe('cookie');
    expect(res.body).not.toHaveProperty('token');
    expect(res.body).not.toHaveProperty('refreshToken');
    const byName = (name: string) => res.cookies.find((c) => c.startsWith(`${name}=`)) ?? '';
    for (const name of ['psvgw_session', 'psvgw_refresh']) {
      expect(byName(name), name).toMatch(/; HttpOnly/i);
      expect(byName(name), name).toMatch(/; SameSite=Strict/i);
      expect(byName(name), name).toMatch(/; Path=\/api\/v1/);
      // Plain HTTP here: Secure would make the browser drop the cookie.
      expect(byName(name), name).not.toMatch(/; Secure/i);
    }
    expect(byName('psvgw_csrf')).toMatch(/; SameSite=Strict/i);
    // The console's pages read it, so it is readable and scoped to the whole site.
    expect(byName('psvgw_csrf')).not.toMatch(/HttpOnly/i);
    expect(byName('psvgw_csrf')).toMatch(/; Path=\/;/);

    const { cookie } = jar(res.cookies);
    const me = await raw('GET', '/api/v1/auth/me', { cookie });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('duty');
  });

  it('refuses a state-changing call made with the cookie but without, or with a stolen or forged, CSRF token', async () => {
    const chief = jar((await raw('POST', '/api/v1/auth/login', {}, { username: 'chief', password: PASSWORD, session: 'cookie' })).cookies);
    const duty = jar((await raw('POST', '/api/v1/auth/login', {}, { username: 'duty', password: PASSWORD, session: 'cookie' })).cookies);
    const camera = { name: 'Forged', rtspUrl: 'rtsp://10.9.9.9/forged', siteType: 'road', enabled: false };
    const create = (headers: Record<string, string>) => raw('POST', '/api/v1/cameras?skipProbe=true', headers, camera);

    const none = await create({ cookie: chief.cookie });
    expect(none.status).toBe(403);
    expect(String((none.body.error as { message: string }).message)).toContain('CSRF');
    // Another session's CSRF token (say, read where it leaked) does not match this session's cookie.
    expect((await create({ cookie: chief.cookie, 'x-csrf-token': duty.csrf })).status).toBe(403);
    expect((await create({ cookie: chief.cookie, 'x-csrf-token': 'forged' })).status).toBe(403);
    // A planted CSRF cookie with a matching header is no better: the token is bound to the session's secret.
    const planted = chief.cookie.replace(/psvgw_csrf=[^;]*/, 'psvgw_csrf=planted');
    expect((await create({ cookie: planted, 'x-csrf-token': 'planted' })).status).toBe(403);
    expect((await gw.api<CameraPage>('GET', '/api/v1/cameras?q=Forged')).body.total).toBe(0);

    const made = await create({ cookie: chief.cookie, 'x-csrf-token': chief.csrf });
    expect(made.status).toBe(201);
    expect((await gw.api('DELETE', `/api/v1/cameras/${String(made.body.id)}`)).status).toBe(204);
  });

  it('keeps the bearer token working as before, with no cookie and no CSRF token', async () => {
    const login = await raw('POST', '/api/v1/auth/login', {}, { username: 'duty', password: PASSWORD });
    expect(login.status).toBe(200);
    expect(login.cookies).toEqual([]);
    expect(typeof login.body.token).toBe('string');
    expect((await gw.api('POST', '/api/v1/auth/logout', undefined, String(login.body.token))).status).toBe(204);
  });

  it('refreshes by cookie, and logout clears the cookies and ends the session', async () => {
    const first = jar((await raw('POST', '/api/v1/auth/login', {}, { username: 'duty', password: PASSWORD, session: 'cookie' })).cookies);
    expect((await raw('POST', '/api/v1/auth/refresh', { cookie: first.cookie })).status).toBe(403);
    const refreshed = await raw('POST', '/api/v1/auth/refresh', { cookie: first.cookie, 'x-csrf-token': first.csrf });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).not.toHaveProperty('refreshToken');
    const second = jar(refreshed.cookies);
    expect(second.csrf).not.toBe(first.csrf);

    const out = await raw('POST', '/api/v1/auth/logout', { cookie: second.cookie, 'x-csrf-token': second.csrf });
    expect(out.status).toBe(204);
    for (const name of ['psvgw_session', 'psvgw_refresh', 'psvgw_csrf']) {
      expect(out.cookies.find((c) => c.startsWith(`${name}=;`)) ?? '', name).toMatch(/Expires=Thu, 01 Jan 1970/);
    }
    expect((await raw('GET', '/api/v1/auth/me', { cookie: second.cookie })).status).toBe(401);
  });

  it('filters and pages the camera list on the server by text, state and site type, with health columns', async () => {
    const add = async (name: string, siteType: string, address: string) => {
      const res = await gw.api('POST', '/api/v1/cameras?skipProbe=true', {
        name,
        rtspUrl: `rtsp://10.8.0.${name.length}/${encodeURIComponent(name)}`,
        siteType,
        address,
        enabled: false,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    };
    for (let i = 0; i < 5; i++) await add(`North gate ${i}`, 'school_gate', 'Renmin Road 1');
    await add('Bridge west', 'road', 'Xiangjiang bridge');

    const list = async (query: string) => {
      const res = await gw.api<CameraPage>('GET', `/api/v1/cameras?${query}`);
      expect(res.status, query).toBe(200);
      return res.body;
    };
    const gates = await list('q=north%20GATE&limit=2&offset=2');
    expect(gates.total).toBe(5);
    expect(gates.items.map((c) => c.name)).toEqual(['North gate 2', 'North gate 3']);
    expect((await list('q=xiangjiang')).items.map((c) => c.name)).toEqual(['Bridge west']);
    expect((await list('siteType=road')).items.map((c) => c.name)).toEqual(['Bridge west']);
    expect((await list('siteType=school_gate&state=stopped')).total).toBe(5);
    expect((await list('state=live')).total).toBe(0);
    const first = (await list('limit=1')).items[0];
    expect(first?.health).toEqual({ fps: 0, bitrateBps: 0, openIncidents: 0 });
    // The filing status is the filing report's for that camera: a new camera's commissioning filing is due.
    const report = await gw.api<{ rows: Array<{ cameraId: string; deadlines: Array<{ status: string }> }> }>(
      'GET',
      '/api/v1/reports/filing',
    );
    const row = report.body.rows.find((r) => r.cameraId === first?.id);
    expect(row?.deadlines.map((d) => d.status)).toEqual(['due']);
    expect(first?.filing).toBe('due');

    const bad = await gw.api<{ error: { message: string } }>('GET', '/api/v1/cameras?state=sleeping');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('live, starting');
  });

  it("keeps each user's saved walls on the server, apart from other users", async () => {
    const token = async (username: string) =>
      String((await gw.api<{ token: string }>('POST', '/api/v1/auth/login', { username, password: PASSWORD }, null)).body.token);
    const duty = await token('duty');
    const chief = await token('chief');
    const tiles = ['44030000001320000001', null, null, '44030000001320000002', null, null];
    const put = await gw.api<SavedWall>('PUT', '/api/v1/console/walls/default', { layout: 6, tiles }, duty);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'default', layout: 6, tiles });
    expect((await gw.api('PUT', '/api/v1/console/walls/night', { layout: 1, tiles: [null] }, duty)).status).toBe(200);
    const again = await gw.api<SavedWall>('PUT', '/api/v1/console/walls/default', { layout: 4, tiles: [null, null, null, null] }, duty);
    expect(again.body.layout).toBe(4);

    const mine = await gw.api<{ items: SavedWall[] }>('GET', '/api/v1/console/walls', undefined, duty);
    expect(mine.body.items.map((w) => [w.name, w.layout])).toEqual([
      ['default', 4],
      ['night', 1],
    ]);
    expect((await gw.api<{ items: SavedWall[] }>('GET', '/api/v1/console/walls', undefined, chief)).body.items).toEqual([]);

    for (const [body, words] of [
      [{ layout: 5, tiles: [] }, 'layout'],
      [{ layout: 4, tiles: [null] }, '4 tiles'],
      [{ layout: 1, tiles: [42] }, 'camera ID'],
    ] as const) {
      const bad = await gw.api<{ error: { message: string } }>('PUT', '/api/v1/console/walls/x', body, duty);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error.message).toContain(words);
    }
    expect((await gw.api('DELETE', '/api/v1/console/walls/night', undefined, duty)).status).toBe(204);
    expect((await gw.api<{ items: SavedWall[] }>('GET', '/api/v1/console/walls', undefined, duty)).body.items).toHaveLength(1);
  });
});
