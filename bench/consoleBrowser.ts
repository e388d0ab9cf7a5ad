import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { processTree } from './procstat.js';
import { round, summarize, type Summary } from './stats.js';

/**
 * The web console in headless Chromium for the benchmark: launching it as the console
 * tests do (tests/helpers/console.ts), finding its processes, logging in, timing cold
 * loads of the wall, reading the tiles' players, and the built bundle's size.
 */

export const CHROMIUM = '/usr/bin/chromium';
/** The built console, beside the compiled benchmark (dist/bench → dist/web). */
const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

export const VIEWPORT = { width: 1920, height: 1080 } as const;

/** Fails with an install hint when Chromium or the built console is missing. */
export function requireConsoleTools(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(`The console phase needs Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium`);
  if (!existsSync(join(WEB_DIR, 'index.html')))
    throw new Error(`The console is not built (${WEB_DIR}index.html is missing): run \`npm run build\` (npm run bench does it).`);
}

/** Headless Debian Chromium that plays video without a user gesture (the console tests' flags). */
export async function launchChromium(): Promise<{ browser: Browser; roots: number[] }> {
  // Loaded here, not at the top: playwright-core is a development dependency, needed by this phase only.
  const { chromium } = await import('playwright-core');
  const before = new Set(chromiumChildren());
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
  });
  const roots = chromiumChildren().filter((pid) => !before.has(pid));
  if (roots.length === 0) {
    await browser.close();
    throw new Error('Chromium started but none of its processes was found among this process’s children in /proc');
  }
  return { browser, roots };
}

/** PIDs of this process's children that run Chromium (the browser process; its zygotes, GPU and renderers are below it). */
function chromiumChildren(): number[] {
  return processTree([process.pid])
    .filter((p) => p.ppid === process.pid && /chrom/i.test(p.comm))
    .map((p) => p.pid);
}

/** Logs in through the console's form, as a user does, and waits for the navigation bar. */
export async function logIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/cameras`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.locator('nav').waitFor({ timeout: 15_000 });
}

/**
 * Browser-side: resolves with performance.now() (ms since the page's navigation began) at the
 * first animation frame where every tile of the wall has its camera (the saved wall is
 * restored) or every tile plays, or with null after `timeoutMs`. An expression evaluated
 * by the page (waitForFunction's string form needs eval, which the console's CSP refuses).
 */
const wallIs = (tiles: number, what: 'rendered' | 'playing', timeoutMs: number) => `new Promise((resolve) => {
  const until = performance.now() + ${timeoutMs};
  const check = () => {
    const els = [...document.querySelectorAll('[data-tile]')];
    const ok = els.length === ${tiles} && els.every((el) => ${
      what === 'rendered' ? "el.getAttribute('data-state') !== 'empty'" : "el.getAttribute('data-state') === 'playing'"
    });
    if (ok) resolve(performance.now());
    else if (performance.now() > until) resolve(null);
    else requestAnimationFrame(check);
  };
  check();
})`;

/** Waits until the wall is rendered or playing; returns the page's performance.now() then (ms since its navigation began). */
export async function waitForWall(page: Page, tiles: number, what: 'rendered' | 'playing', timeoutMs: number): Promise<number> {
  const at = (await page.evaluate(wallIs(tiles, what, timeoutMs))) as number | null;
  if (at === null) throw new Error(`the ${tiles}-tile wall was not ${what} within ${timeoutMs} ms`);
  return at;
}

export interface ColdLoad {
  /** Navigation start → every tile of the saved wall in the page with its camera, ms. */
  renderedMs: number;
  /** Navigation start → every tile playing (its video's currentTime advancing), ms. */
  playingMs: number;
  /** Navigation start → DOMContentLoaded, ms. */
  domContentLoadedMs: number | null;
  /** Bytes transferred for the document and its scripts, styles and API calls (Resource Timing). */
  transferredBytes: number | null;
}

/**
 * One cold load: a fresh browser context (empty cache) carrying the logged-in session's
 * cookies opens /wall; times are the page's own, from its navigation start.
 */
export async function coldLoad(
  browser: Browser,
  storageState: BrowserContextOptions['storageState'],
  url: string,
  tiles: number,
): Promise<ColdLoad> {
  const context = await browser.newContext({ viewport: VIEWPORT, storageState });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    const renderedMs = await waitForWall(page, tiles, 'rendered', 30_000);
    const playingMs = await waitForWall(page, tiles, 'playing', 60_000);
    const timing = (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource');
      const bytes = [nav, ...resources].reduce((s, e) => s + (e && e.transferSize ? e.transferSize : 0), 0);
      return { dcl: nav ? nav.domContentLoadedEventEnd : null, bytes };
    })()`)) as { dcl: number | null; bytes: number };
    return {
      renderedMs: round(renderedMs, 0) as number,
      playingMs: round(playingMs, 0) as number,
      domContentLoadedMs: round(timing.dcl, 0),
      transferredBytes: timing.bytes,
    };
  } finally {
    await context.close();
  }
}

/** What one tile's player says: its position, frames decoded and dropped, and the console's state. */
export interface TileSample {
  tile: number;
  state: string | null;
  currentTime: number;
  totalFrames: number;
  droppedFrames: number;
}

export async function sampleTiles(page: Page): Promise<TileSample[]> {
  return (await page.evaluate(`[...document.querySelectorAll('[data-tile]')].map((el) => {
    const v = el.querySelector('video');
    const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    return {
      tile: Number(el.getAttribute('data-tile')),
      state: el.getAttribute('data-state'),
      currentTime: v ? v.currentTime : 0,
      totalFrames: q ? q.totalVideoFrames : 0,
      droppedFrames: q ? q.droppedVideoFrames : 0,
    };
  })`)) as TileSample[];
}

export interface TilesPlaying {
  tiles: number;
  /** Tiles whose video's currentTime advanced over the window. */
  playing: number;
  /** Per tile: seconds of video played per second of the window (1 = real time). */
  playRate: Summary;
  /** Per tile: frames the player presented per second over the window. */
  framesPerSecond: Summary;
  /** Frames the players dropped over the window, all tiles. */
  droppedFrames: number;
  /** Tiles the console showed as playing at the window's end. */
  statePlaying: number;
}

export function tilesPlaying(before: readonly TileSample[], after: readonly TileSample[], seconds: number): TilesPlaying {
  const pairs = after.map((a) => ({ a, b: before.find((b) => b.tile === a.tile) }));
  const advanced = pairs.map(({ a, b }) => a.currentTime - (b?.currentTime ?? a.currentTime));
  const frames = pairs.map(({ a, b }) => (a.totalFrames - (b?.totalFrames ?? a.totalFrames)) / seconds);
  return {
    tiles: after.length,
    playing: advanced.filter((d) => d > 0).length,
    playRate: summarize(
      advanced.map((d) => d / seconds),
      2,
    ),
    framesPerSecond: summarize(frames, 1),
    droppedFrames: pairs.reduce((s, { a, b }) => s + a.droppedFrames - (b?.droppedFrames ?? a.droppedFrames), 0),
    statePlaying: after.filter((t) => t.state === 'playing').length,
  };
}

export interface BundleSize {
  /** Every file of dist/web, raw and gzip-compressed (level 9). */
  files: Array<{ path: string; bytes: number; gzipBytes: number }>;
  bytes: number;
  gzipBytes: number;
  /** By file type: js, css, html, other. */
  byKind: Record<string, { bytes: number; gzipBytes: number }>;
}

/** The built console's size (dist/web, what the gateway serves). */
export function bundleSize(): BundleSize {
  const files: BundleSize['files'] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const data = readFileSync(path);
        files.push({ path: relative(WEB_DIR, path), bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length });
      }
    }
  };
  walk(WEB_DIR);
  files.sort((a, b) => b.bytes - a.bytes);
  const byKind: BundleSize['byKind'] = {};
  for (const f of files) {
    const kind = /\.(js|css|html)$/.exec(f.path)?.[1] ?? 'other';
    const k = (byKind[kind] ??= { bytes: 0, gzipBytes: 0 });
    k.bytes += f.bytes;
    k.gzipBytes += f.gzipBytes;
  }
  return {
    files,
    bytes: files.reduce((s, f) => s + f.bytes, 0),
    gzipBytes: files.reduce((s, f) => s + f.gzipBytes, 0),
    byKind,
  };
}
