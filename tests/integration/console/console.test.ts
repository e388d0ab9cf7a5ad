import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SITE_TYPE_INFO } from '../../../src/domain/siteTypes.js';
import { en } from '../../../web/src/i18n/en.js';
import { zh } from '../../../web/src/i18n/zh.js';
import { PASSWORD } from '../../helpers/accessSteps.js';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { grayFrame, regionStats } from '../../helpers/frames.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
const CONSOLE_BUILT = fileURLToPath(new URL('../../../dist/web/index.html', import.meta.url));
const CAMERA_NAME = 'Gate east';
const TILES = 4;

type Lang = 'zh' | 'en';
const MESSAGES = { zh, en } as const;

/**
 * Every text a page shows that is not the user's own data (camera names are marked
 * data-user-text): text nodes, labels for assistive technology, and the title. Browser-side
 * source, as a string: the tests are compiled without the DOM's types.
 */
const SHOWN_TEXTS = `(() => {
  const texts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    const text = (node.textContent ?? '').trim();
    if (text !== '' && !node.parentElement?.closest('[data-user-text]')) texts.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
    for (const attr of ['aria-label', 'placeholder', 'title']) {
      const value = (el.getAttribute(attr) ?? '').trim();
      if (value !== '') texts.push(value);
    }
  }
  return texts;
})()`;

/** Texts a page shows that no message of `lang` (placeholders filled with anything) nor a site type name accounts for. */
async function untranslated(page: Page, lang: Lang): Promise<string[]> {
  const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const patterns = Object.values(MESSAGES[lang]).map((m) => new RegExp(`^${escape(m).replace(/\{\w+\}/g, '.+')}$`));
  const siteNames = new Set(Object.values(SITE_TYPE_INFO).map((s) => s[lang]));
  return ((await page.evaluate(SHOWN_TEXTS)) as string[]).filter((text) => !siteNames.has(text) && !patterns.some((p) => p.test(text)));
}

async function switchLanguage(page: Page, lang: Lang): Promise<void> {
  await page.selectOption('[data-testid=lang]', lang);
  await page.locator(`html[lang="${lang === 'zh' ? 'zh-CN' : 'en'}"]`).waitFor({ state: 'attached', timeout: 5000 });
}

describe('the web console in a real browser', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    if (!existsSync(CONSOLE_BUILT)) throw new Error('The console is not built: run `npm run build` first.');
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    mkdirSync(ARTIFACTS, { recursive: true });
    [camera, gw] = await Promise.all([TestCamera.start({ fps: 25, width: 640, height: 360, pattern: 'smpte' }), GatewayProcess.start()]);
    cameraId = (await addCamera(gw, camera.url, CAMERA_NAME, { siteType: 'school_gate' })).id;
    const user = await gw.api('POST', '/api/v1/users', { username: 'duty', password: PASSWORD, roles: ['operator'] });
    expect(user.status).toBe(201);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
    });
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
