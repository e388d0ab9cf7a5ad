import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SITE_TYPE_INFO } from '../../../src/domain/siteTypes.js';
import { en } from '../../../web/src/i18n/en.js';
import { zh } from '../../../web/src/i18n/zh.js';
import { PASSWORD } from '../../helpers/accessSteps.js';
import { ARTIFACTS, launchBrowser, requireConsoleTools, switchLanguage, untranslated } from '../../helpers/console.js';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { grayFrame, regionStats } from '../../helpers/frames.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const CAMERA_NAME = 'Gate east';
const TILES = 4;

describe('the web console in a real browser', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    requireConsoleTools();
    [camera, gw] = await Promise.all([TestCamera.start({ fps: 25, width: 640, height: 360, pattern: 'smpte' }), GatewayProcess.start()]);
    cameraId = (await addCamera(gw, camera.url, CAMERA_NAME, { siteType: 'school_gate' })).id;
    const user = await gw.api('POST', '/api/v1/users', { username: 'duty', password: PASSWORD, roles: ['operator'] });
    expect(user.status).toBe(201);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await waitForUp(gw, cameraId, 1, 15_000);
  });

  afterAll(async () => {
    await browser?.close();
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('is served at / with a strict Content-Security-Policy, the API keeping its paths', async () => {
    const res = await fetch(`${gw.apiUrl}/wall`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://*:${gw.ports.flv}`);
    expect(await res.text()).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await gw.api('GET', '/api/v1/no-such-route')).status).toBe(404);
  });

  it('refuses a wrong password with a clear message, then logs in to the camera list showing the camera live', async () => {
    await page.goto(gw.apiUrl);
    await page.fill('input[name=username]', 'duty');
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]'), { timeout: 5000 }).toBe(zh['login.badCredentials']);

    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    const row = page.locator(`tr[data-camera-id="${cameraId}"]`);
    await row.waitFor({ timeout: 5000 });
    await expect.poll(() => row.locator('td.state').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
    expect(await row.innerText()).toContain(zh['state.live']);
    expect(await row.innerText()).toContain(SITE_TYPE_INFO.school_gate.zh);
    expect(await untranslated(page, 'zh')).toEqual([]);
    // The check bites: the Chinese page is full of strings English does not account for.
    expect(await untranslated(page, 'en')).toContain(zh['cameras.heading']);
  });

  it('plays the camera on a 4-tile wall: every video advances and no tile is a uniform picture', async () => {
    await page.click(`nav button:has-text("${zh['nav.wall']}")`);
    await page.click(`[data-layout="${TILES}"]`);
    for (let i = 0; i < TILES; i++) await page.selectOption(`[data-tile-select="${i}"]`, cameraId);
    const videos = page.locator('.tile video');
    expect(await videos.count()).toBe(TILES);

    const times = () => videos.evaluateAll((els) => els.map((v) => (v as unknown as { currentTime: number }).currentTime));
    await expect.poll(async () => Math.min(...(await times())), { timeout: 20_000 }).toBeGreaterThan(0.5);
    const before = await times();
    await expect.poll(async () => (await times()).every((t, i) => t > (before[i] ?? 0) + 0.5), { timeout: 5000 }).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}console-wall.png` });
    for (let i = 0; i < TILES; i++) {
      const path = `${ARTIFACTS}console-tile-${i}.png`;
      const png = await page.locator(`[data-tile="${i}"] video`).screenshot({ path });
      // PNG's IHDR holds the size at bytes 16 and 20.
      const size = { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
      // Below the caption: the picture itself varies (a uniform picture, black or grey, does not).
      const stats = regionStats(await grayFrame(path, size), { x: 0, y: 0.2, w: 1, h: 0.8 });
      expect(stats.variance, `variance of tile ${i}`).toBeGreaterThan(50);
    }
    expect(await page.locator('[data-tile][data-state=offline]').count()).toBe(0);
    expect(await untranslated(page, 'zh')).toEqual([]);
  });

  it('shows its tiles offline when the camera stops, and plays again by itself when it is back', async () => {
    const tileStates = () => page.locator('[data-tile]').evaluateAll((els) => els.map((el) => el.getAttribute('data-state')));
    const stoppedAt = Date.now();
    await camera.stop();
    await expect.poll(tileStates, { timeout: 8000, interval: 200 }).toEqual(Array(TILES).fill('offline'));
    console.log(`tiles offline ${Date.now() - stoppedAt} ms after the camera stopped`);
    expect(await page.locator('[data-tile] .overlay').first().textContent()).toBe(zh['tile.offline']);

    const restartedAt = Date.now();
    await camera.restart();
    await expect.poll(tileStates, { timeout: 30_000, interval: 250 }).toEqual(Array(TILES).fill('playing'));
    console.log(`tiles playing again ${Date.now() - restartedAt} ms after the camera restarted`);
  });

  it('shows every page in English with no untranslated string, and remembers the choice', async () => {
    await switchLanguage(page, 'en');
    expect(await untranslated(page, 'en')).toEqual([]);
    await page.click(`nav button:has-text("${en['nav.cameras']}")`);
    await page.locator(`tr[data-camera-id="${cameraId}"]`).waitFor({ timeout: 5000 });
    expect(await untranslated(page, 'en')).toEqual([]);
    await page.reload();
    await page.locator(`tr[data-camera-id="${cameraId}"]`).waitFor({ timeout: 5000 });
    expect(await page.textContent('h2')).toBe(en['cameras.heading']);

    await page.click(`button:has-text("${en['nav.logout']}")`);
    await page.locator('form.login').waitFor({ timeout: 5000 });
    expect(await untranslated(page, 'en')).toEqual([]);
    await switchLanguage(page, 'zh');
    expect(await untranslated(page, 'zh')).toEqual([]);
  });
});
