import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userWithRole } from '../../helpers/accessSteps.js';
import { streamUrls, waitForUp } from '../../helpers/cameraSteps.js';
import { runCli } from '../../helpers/cli.js';
import { launchBrowser, logIn, MESSAGES, requireConsoleTools, switchLanguage, untranslated } from '../../helpers/console.js';
import { ADMIN_TOKEN, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { httpFlvStart } from '../../helpers/httpFlv.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { recordingList } from '../../helpers/recordings.js';
import { openWsFlv } from '../../helpers/wsFlv.js';
import { grayFrame, regionStats, type Region } from '../../helpers/frames.js';
import { readTar } from '../../../src/dossier/tar.js';
import type { OutageRecord as Outage } from '../../../src/store/index.js';

interface DemoCamera {
  id: string;
  name: string;
  demo: boolean;
  rtspUrl: string;
}

/** Issue 14, "A first look without a camera": `psvgw demo` and the demo camera's whole chain, no camera attached. */
describe('psvgw demo: a synthetic camera for a first look', () => {
  let gw: GatewayProcess;
  let production: GatewayProcess;
  let camera: DemoCamera;
  let browser: Browser;
  const testStart = new Date(Date.now() - 1000).toISOString();
  const cli = (args: string[], target: GatewayProcess) =>
    runCli(args, { env: { PSVGW_API_URL: target.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN }, timeoutMs: 30_000 });

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireConsoleTools();
    [gw, production, browser] = await Promise.all([
      GatewayProcess.start({ configYaml: 'recording:\n  segmentSeconds: 2' }),
      GatewayProcess.start({
        env: { PSVGW_MODE: 'production', PSVGW_SECRET_KEY: 'Zq8v-Rt2x-Lp5m-Wn7k-Bc4h-Yd9f-Gs3j-Ke6u' },
        readyTimeoutMs: 40_000,
      }),
      launchBrowser(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await stopAllGateways();
  });

  async function consoleOf(target: GatewayProcess, username: string): Promise<Page> {
    await userWithRole(target, username, 'admin');
    const page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
    await logIn(page, target.apiUrl, username);
    return page;
  }

  it('refuses an outage on demand while there is no demo camera, saying how to add one', async () => {
    const res = await gw.api<{ error: { code: string; hint: string } }>('POST', '/api/v1/demo/outage', { seconds: 5 });
    expect(res.status).toBe(404);
    expect(res.body.error.hint).toContain('psvgw demo');
  });

  it("the console's empty camera list offers the demo in development mode; the demo camera then shows with its badge", async () => {
    const page = await consoleOf(gw, 'demo.admin');
    await page.locator(`text=${MESSAGES.zh['cameras.empty']}`).waitFor({ timeout: 10_000 });
    const button = page.locator('[data-testid=demo-add]');
    await button.waitFor({ timeout: 10_000 });
    expect(await untranslated(page, 'zh')).toEqual([]);
    await switchLanguage(page, 'en');
    expect(await button.textContent()).toBe(MESSAGES.en['cameras.demoAdd']);
    expect(await untranslated(page, 'en')).toEqual([]);
    await button.click();
    const badge = page.locator('[role=row][data-camera-id] [data-demo]');
    await badge.waitFor({ timeout: 10_000 });
    expect(await badge.textContent()).toBe(MESSAGES.en['cameras.demo']);
    expect(await untranslated(page, 'en')).toEqual([]);
  });

  it('`psvgw demo` answers the one demo camera there is, marked as a demo in the API', async () => {
    const added = await cli(['demo', '--json'], gw);
    expect(added.status, added.stderr).toBe(0);
    camera = JSON.parse(added.stdout) as DemoCamera;
    expect(camera.demo).toBe(true);
    const list = await gw.api<{ items: DemoCamera[] }>('GET', '/api/v1/cameras');
    expect(list.body.items.map((c) => [c.id, c.demo])).toEqual([[camera.id, true]]);
    const again = await gw.api<DemoCamera>('POST', '/api/v1/demo');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(camera.id);
    // The test source is no RTSP URL a user may give.
    const forged = await gw.api<{ error: { code: string } }>('POST', '/api/v1/cameras?skipProbe=true', {
      name: 'x',
      siteType: 'road',
      rtspUrl: camera.rtspUrl,
    });
    expect(forged.status).toBe(400);
  });

  it('goes live without any camera: WS-FLV frames on the raw tier, HTTP-FLV on the shared tier', async () => {
    await waitForUp(gw, camera.id, 1, 30_000);
    const urls = await streamUrls(gw, camera.id);
    const viewer = await openWsFlv(urls.raw.wsFlv);
    try {
      await viewer.until('50 video frames', (tags) => tags.filter((t) => t.type === 'video' && t.avcPacketType === 1).length >= 50, 20_000);
      const frames = viewer.tags.filter((t) => t.type === 'video' && t.avcPacketType === 1);
      expect(frames[0]?.keyframe).toBe(true);
      expect(frames.at(-1)!.timestamp - frames[0]!.timestamp).toBeGreaterThanOrEqual(1000);
    } finally {
      await viewer.close();
    }
    const shared = await httpFlvStart(urls.shared.httpFlv);
    expect(shared.status).toBe(200);
    expect(shared.head.startsWith('FLV')).toBe(true);
  });

  it('takes privacy masks like any camera: the shared tier is masked, the raw tier is not', async () => {
    const rect: Region = { x: 0.1, y: 0.2, w: 0.4, h: 0.4 };
    const patched = await gw.api('PATCH', `/api/v1/cameras/${camera.id}`, { masks: [{ shape: 'rect', ...rect, mode: 'fill' }] });
    expect(patched.status).toBe(200);
    await gw.waitFor('the masked shared tier', async () => (await gw.metric('psvgw_masking_up', { camera_id: camera.id })) === 1, 30_000);
    const urls = await streamUrls(gw, camera.id);
    const size = { width: 640, height: 360 };
    const [shared, raw] = await Promise.all([grayFrame(urls.shared.httpFlv, size, 20_000), grayFrame(urls.raw.httpFlv, size, 20_000)]);
    // The test picture is busy everywhere; under the fill it has (nearly) no detail left.
    expect(regionStats(shared, rect).edge).toBeLessThan(0.1 * regionStats(raw, rect).edge);
    const outside: Region = { x: 0.6, y: 0.6, w: 0.35, h: 0.35 };
    expect(regionStats(shared, outside).edge).toBeGreaterThan(0.5 * regionStats(raw, outside).edge);
  });

  it('records segments', async () => {
    await gw.waitFor('a recorded segment', async () => (await recordingList(gw, camera.id)).segments.length >= 1, 30_000, 500);
  });

  it('is absent from the dossier: its filing report and its recording hours', async () => {
    // The demo camera has recordings in the period: the dossier could have shown them.
    expect((await recordingList(gw, camera.id)).segments.length).toBeGreaterThan(0);
    const query = `from=${encodeURIComponent(testStart)}&to=${encodeURIComponent(new Date().toISOString())}`;
    const res = await fetch(`${gw.apiUrl}/api/v1/dossier?${query}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(200);
    const files = new Map(readTar(Buffer.from(await res.arrayBuffer())).map((f) => [f.name, f.data.toString()]));
    const integrity = JSON.parse(files.get('recording-integrity.json')!) as { cameras: Array<{ cameraId: string }> };
    expect(integrity.cameras).toEqual([]);
    const filing = JSON.parse(files.get('filing-report.json')!) as { rows: unknown[] };
    expect(filing.rows).toEqual([]);
  });

  it('is absent from the filing report and the outage report', async () => {
    const filing = await gw.api<{ rows: Array<{ cameraId: string }> }>('GET', '/api/v1/reports/filing');
    expect(filing.status).toBe(200);
    expect(filing.body.rows).toEqual([]);
    const outages = await gw.api<{ cameras: Array<{ cameraId: string }>; rows: unknown[] }>(
      'GET',
      `/api/v1/reports/outages?from=${encodeURIComponent(testStart)}`,
    );
    expect(outages.status).toBe(200);
    expect(outages.body.cameras).toEqual([]);
  });

  it('stops on demand with `psvgw demo --outage`: the outage is in the ledger, and it resolves by itself', async () => {
    await waitForUp(gw, camera.id, 1, 30_000);
    const stopped = await cli(['demo', '--outage', '4'], gw);
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(camera.id);
    await waitForUp(gw, camera.id, 0, 10_000);
    const ledger = async () =>
      (await gw.api<{ items: Outage[] }>('GET', `/api/v1/outages?from=${encodeURIComponent(testStart)}&cameraId=${camera.id}`)).body.items;
    await gw.waitFor(
      'an open outage',
      async () => (await ledger()).some((o) => o.kind === 'camera_down' && o.endedAt === null),
      10_000,
      250,
    );
    await waitForUp(gw, camera.id, 1, 30_000);
    await gw.waitFor(
      'the outage to end',
      async () => (await ledger()).some((o) => o.kind === 'camera_down' && o.endedAt !== null),
      10_000,
      250,
    );
    const outage = (await ledger()).find((o) => o.kind === 'camera_down')!;
    // Away for the seconds asked, give or take the restart.
    const seconds = (Date.parse(outage.endedAt!) - Date.parse(outage.startedAt)) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(3.5);
    expect(seconds).toBeLessThan(20);
    for (const seconds of [0, 601, 2.5, '10']) {
      const refused = await gw.api<{ error: { code: string; message: string } }>('POST', '/api/v1/demo/outage', { seconds });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain('"seconds" must be a whole number from 1 to 600');
    }
    const bad = await cli(['demo', '--outage', 'soon'], gw);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--outage must be a whole number');
  });

  it('is refused in production mode, saying why', async () => {
    const refused = await production.api<{ error: { code: string; message: string } }>('POST', '/api/v1/demo');
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('production mode');
    const viaCli = await cli(['demo'], production);
    expect(viaCli.status).not.toBe(0);
    expect(viaCli.stderr).toContain('production mode');
    expect((await production.api<{ total: number }>('GET', '/api/v1/cameras')).body.total).toBe(0);
    // Its console's empty list offers no demo.
    const page = await consoleOf(production, 'prod.admin');
    // The list asks the mode once it is empty; the answer is on the page then.
    await page.locator('.cameras-empty[data-mode=production]').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid=demo-add]').count()).toBe(0);
  });
});
