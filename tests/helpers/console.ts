import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { SITE_TYPE_INFO } from '../../src/domain/siteTypes.js';
import { en } from '../../web/src/i18n/en.js';
import { zh } from '../../web/src/i18n/zh.js';
import { PASSWORD } from './accessSteps.js';
import { FFMPEG_INSTALL_HINT, requireTool } from './media.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of each run (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const CONSOLE_BUILT = fileURLToPath(new URL('../../dist/web/index.html', import.meta.url));

export type Lang = 'zh' | 'en';
export const MESSAGES = { zh, en } as const;

/** Fails with an install hint when Chromium, the built console or ffmpeg is missing; makes the artifacts folder. */
export function requireConsoleTools(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  if (!existsSync(CONSOLE_BUILT)) throw new Error('The console is not built: run `npm run build` first.');
  requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
  mkdirSync(ARTIFACTS, { recursive: true });
}

/** Headless Debian Chromium that plays video without a user gesture. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
  });
}

/** Logs `username` in (the test password) on a fresh console page and waits for the camera list. */
export async function logIn(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(baseUrl);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('nav').waitFor({ timeout: 10_000 });
  // Every console login: the session only in HttpOnly cookies, the page able to read the CSRF token alone.
  const readable = String(await page.evaluate('document.cookie'));
  expect(readable, `cookies readable after ${username} logged in`).toContain('psvgw_csrf=');
  expect(readable).not.toMatch(/psvgw_session|psvgw_refresh/);
}

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
export async function untranslated(page: Page, lang: Lang): Promise<string[]> {
  const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const patterns = Object.values(MESSAGES[lang]).map((m) => new RegExp(`^${escape(m).replace(/\{\w+\}/g, '.+')}$`));
  const siteNames = new Set(Object.values(SITE_TYPE_INFO).map((s) => s[lang]));
  return ((await page.evaluate(SHOWN_TEXTS)) as string[]).filter((text) => !siteNames.has(text) && !patterns.some((p) => p.test(text)));
}

/** Browser-side: the page is no wider than the window (no horizontal scroll bar). */
export const NO_HORIZONTAL_OVERFLOW = 'document.documentElement.scrollWidth <= window.innerWidth';

/** What makes a page wider than its window: the elements reaching past its right edge (none when it fits). */
export async function overflowing(page: Page): Promise<string[]> {
  if ((await page.evaluate(NO_HORIZONTAL_OVERFLOW)) === true) return [];
  return (await page.evaluate(`[...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).replace(/ /g, '.') : '') +
      ' ' + Math.round(el.getBoundingClientRect().right) + 'px')`)) as string[];
}

export async function switchLanguage(page: Page, lang: Lang): Promise<void> {
  await page.selectOption('[data-testid=lang]', lang);
  await page.locator(`html[lang="${lang === 'zh' ? 'zh-CN' : 'en'}"]`).waitFor({ state: 'attached', timeout: 5000 });
  await expect.poll(() => page.title(), { timeout: 5000 }).toBe(MESSAGES[lang]['app.title']);
}
