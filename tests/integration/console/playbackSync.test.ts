import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportJob } from '../../../src/domain/index.js';
import { zh } from '../../../web/src/i18n/zh.js';
import { localInputValue } from '../../../web/src/playbackSync.js';
import { decideRequest, fileRequest, userWithRole } from '../../helpers/accessSteps.js';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { ARTIFACTS, launchBrowser, logIn, requireConsoleTools, switchLanguage, untranslated } from '../../helpers/console.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { recordingList } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

/** Wall-clock positions further apart than this are out of sync. */
const SYNC_TOLERANCE_MS = 500;

/** Browser-side: each playing tile's camera, wall-clock position (its playlist's start + currentTime), paused and rate. */
const TILES = `[...document.querySelectorAll('[data-testid=player]')].map((p) => {
  const v = p.querySelector('video');
  return { id: p.getAttribute('data-camera-id'), at: Number(p.getAttribute('data-base')) + v.currentTime * 1000,
    currentTime: v.currentTime, paused: v.paused, rate: v.playbackRate, ready: v.readyState };
})`;
interface TileState {
  id: string;
  at: number;
  currentTime: number;
  paused: boolean;
  rate: number;
  ready: number;
}

describe('console playback: two cameras on one clock, pause, speed, frame step, jump, export of a range', () => {
  let gw: GatewayProcess;
  let browser: Browser;
  const ids: string[] = [];
  const tokens: Record<string, string> = {};
  const contexts: BrowserContext[] = [];
  let officer: Page;

  async function sessionOf(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.log(`console script error (${username}): ${err.message}`));
    await logIn(page, gw.apiUrl, username);
    await page.click(`nav button:has-text("${zh['nav.playback']}")`);
    return page;
  }
  const tiles = (page: Page) => page.evaluate(TILES) as Promise<TileState[]>;
  /** The timeline's x for a wall-clock time. */
  async function xOf(page: Page, ms: number): Promise<{ x: number; y: number }> {
    const line = page.locator('[data-testid=timeline]');
    const [from, to] = [Number(await line.getAttribute('data-from')), Number(await line.getAttribute('data-to'))];
    const box = (await line.boundingBox())!;
    return { x: box.x + ((ms - from) / (to - from)) * box.width, y: box.y + box.height / 2 };
  }

  beforeAll(async () => {
    requireConsoleTools();
    const [a, b, started] = await Promise.all([
      TestCamera.start({ fps: 25, width: 320, height: 180, pattern: 'ball' }),
      TestCamera.start({ fps: 25, width: 320, height: 180, pattern: 'snow' }),
      GatewayProcess.start({ configYaml: 'recording:\n  segmentSeconds: 2\n' }),
    ]);
    gw = started;
    ids.push((await addCamera(gw, a.url, 'Lobby west')).id, (await addCamera(gw, b.url, 'Lobby east')).id);
    for (const [name, role] of [
      ['officer', 'police'],
      ['other', 'police'],
      ['boss', 'approver'],
    ] as const) {
      tokens[name] = await userWithRole(gw, name, role);
    }
    const now = Date.now();
    const range = { from: new Date(now - 3600_000), to: new Date(now + 3600_000) };
    for (const [who, kind] of [
      ['officer', 'view_recorded'],
      ['officer', 'export'],
      ['other', 'view_recorded'],
    ] as const) {
      await decideRequest(gw, tokens.boss!, await fileRequest(gw, tokens[who]!, kind, ids, range), 'approve');
    }
    browser = await launchBrowser();
    for (const id of ids) await waitForUp(gw, id, 1, 20_000);
    // Both cameras recorded for a while: complete segments to play and export.
    for (const id of ids)
      await gw.waitFor(`five segments of ${id}`, async () => (await recordingList(gw, id)).segments.length >= 5, 40_000, 500);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('plays two cameras from one clicked time on one clock: their wall-clock positions stay within 0.5 s', async () => {
    officer = await sessionOf('officer');
    await officer.locator('[data-testid=playback-camera]').selectOption(ids[0]!);
    await officer.locator('[data-testid=sync-camera-2]').selectOption(ids[1]!);
    await officer.locator(`[data-testid=timeline-lane][data-camera-id="${ids[1]}"] .rec`).first().waitFor({ timeout: 10_000 });
    // A time both cameras recorded, a few seconds before the end of the shorter recording.
    const [listA, listB] = await Promise.all(ids.map((id) => recordingList(gw, id)));
    const start = Math.max(Date.parse(listA!.segments[0]!.start), Date.parse(listB!.segments[0]!.start)) + 2000;
    const { x, y } = await xOf(officer, start);
    await officer.mouse.click(x, y);
    await expect.poll(async () => (await tiles(officer)).length, { timeout: 10_000 }).toBe(2);
    await expect.poll(async () => (await tiles(officer)).every((t) => t.currentTime > 0.2 && !t.paused), { timeout: 30_000 }).toBe(true);
    const clickedAt = Number(await officer.locator('[data-testid=player]').first().getAttribute('data-start'));
    const spreads: number[] = [];
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const [a, b] = await tiles(officer);
      spreads.push(Math.abs(a!.at - b!.at));
      await officer.waitForTimeout(250);
    }
    console.log(`two-camera playback: wall-clock spread ms ${spreads.map((s) => Math.round(s)).join(', ')}`);
    // Allowed a settling second after the start; from then on, every sample within tolerance.
    expect(Math.max(...spreads.slice(4))).toBeLessThan(SYNC_TOLERANCE_MS);
    const [a] = await tiles(officer);
    expect(a!.at).toBeGreaterThan(clickedAt);
    await officer.screenshot({ path: `${ARTIFACTS}console-playback-sync.png` });
    expect(await untranslated(officer, 'zh')).toEqual([]);
  });

  it('pauses both, steps one frame forward and back while paused, plays at 4×, and jumps to a typed time', async () => {
    await officer.click('[data-testid=play-pause]');
    await expect.poll(async () => (await tiles(officer)).every((t) => t.paused), { timeout: 5000 }).toBe(true);
    const clockTime = async () => (await tiles(officer))[0]!.currentTime;
    const paused = await clockTime();
    await officer.click('[data-testid=step-forward]');
    await expect.poll(clockTime, { timeout: 5000 }).toBeGreaterThan(paused + 0.01);
    const forward = (await clockTime()) - paused;
    // One frame of the 25 fps camera (the frame length measured while playing; 40 ms until known).
    expect(forward).toBeLessThan(0.1);
    await officer.click('[data-testid=step-back]');
    await expect.poll(clockTime, { timeout: 5000 }).toBeLessThan(paused + forward - 0.01);
    expect((await tiles(officer)).every((t) => t.paused)).toBe(true);
    // The follower shows the same instant as the stepped clock.
    await expect
      .poll(
        async () => {
          const [c, f] = await tiles(officer);
          return Math.abs(c!.at - f!.at);
        },
        { timeout: 5000 },
      )
      .toBeLessThan(100);
    console.log(`frame step: forward ${Math.round(forward * 1000)} ms of media time`);

    await officer.locator('[data-testid=speed]').selectOption('4');
    await officer.click('[data-testid=play-pause]');
    const before = await clockTime();
    await expect.poll(async () => (await tiles(officer))[0]!.rate, { timeout: 5000 }).toBe(4);
    await expect.poll(clockTime, { timeout: 10_000 }).toBeGreaterThan(before + 2);
    // The follower runs at the clock's rate (within its 10 % catch-up nudge), once a sync tick has seen it.
    await expect
      .poll(
        async () => {
          const rate = (await tiles(officer))[1]!.rate;
          return rate >= 3.6 && rate <= 4.4 ? 'at the clock rate' : `at ${rate}×`;
        },
        { timeout: 5000 },
      )
      .toBe('at the clock rate');
    await officer.locator('[data-testid=speed]').selectOption('1');

    // Jump: a typed time (to the second) restarts both cameras there.
    const list = await recordingList(gw, ids[0]!);
    const target = Math.floor((Date.parse(list.segments[1]!.start) + 1000) / 1000) * 1000;
    await officer.locator('input[name=jump-to]').fill(localInputValue(target));
    await officer.locator('[data-testid=jump] button[type=submit]').click();
    await expect
      .poll(() => officer.locator('[data-testid=player]').first().getAttribute('data-start'), { timeout: 5000 })
      .toBe(String(target));
    // Both play again from the typed time (a reused video element reads its old position until its new source loads).
    await expect
      .poll(
        async () => {
          const shown = await tiles(officer);
          const playing = shown.length === 2 && shown.every((t) => t.ready >= 2 && !t.paused);
          return playing && Math.abs(shown[0]!.at - target) < 3000 ? 'playing near the typed time' : JSON.stringify(shown);
        },
        { timeout: 30_000 },
      )
      .toBe('playing near the typed time');
  });

  it('exports a range dragged on the timeline under the approved request; a user without one sees the API refuse', async () => {
    const list = await recordingList(gw, ids[0]!);
    const [from, to] = [Date.parse(list.segments[1]!.start), Date.parse(list.segments[3]!.end)];
    const dragRange = async (page: Page) => {
      const [a, b] = [await xOf(page, from), await xOf(page, to)];
      await page.mouse.move(a.x, a.y);
      await page.mouse.down();
      await page.mouse.move((a.x + b.x) / 2, a.y);
      await page.mouse.move(b.x, b.y);
      await page.mouse.up();
      const selection = page.locator('[data-testid=selection]');
      await selection.waitFor({ timeout: 5000 });
      return [Number(await selection.getAttribute('data-from')), Number(await selection.getAttribute('data-to'))];
    };
    const [selFrom, selTo] = await dragRange(officer);
    const line = officer.locator('[data-testid=timeline]');
    const msPerPx =
      (Number(await line.getAttribute('data-to')) - Number(await line.getAttribute('data-from'))) / (await line.boundingBox())!.width;
    expect(Math.abs(selFrom! - from)).toBeLessThan(msPerPx * 2);
    expect(Math.abs(selTo! - to)).toBeLessThan(msPerPx * 2);
    // The approved export request is the one offered.
    const exportRequest = (
      await gw.api<{ items: Array<{ id: string; kind: string }> }>('GET', '/api/v1/access-requests', undefined, tokens.officer)
    ).body.items.find((r) => r.kind === 'export')!;
    expect(await officer.locator('[data-testid=export-request]').inputValue()).toBe(exportRequest.id);
    await officer.click('[data-testid=export-start]');
    const job = officer.locator('[data-testid=export-job]');
    await job.waitFor({ timeout: 10_000 });
    const jobId = (await job.getAttribute('data-job-id'))!;
    await expect.poll(() => job.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    const stored = await gw.api<ExportJob>('GET', `/api/v1/exports/${jobId}`, undefined, tokens.officer);
    expect(stored.body).toMatchObject({ state: 'done', requestId: exportRequest.id, cameraId: ids[0] });
    expect(Math.abs(Date.parse(stored.body.from) - selFrom!)).toBeLessThan(1000);
    expect(await officer.locator('[data-testid=export-download]').getAttribute('href')).toBe(`/api/v1/exports/${jobId}/clip`);
    await officer.screenshot({ path: `${ARTIFACTS}console-playback-export.png` });
    expect(await untranslated(officer, 'zh')).toEqual([]);
    await switchLanguage(officer, 'en');
    expect(await untranslated(officer, 'en')).toEqual([]);

    // Another officer holds a view_recorded request only: the console offers it, the API refuses the export.
    const other = await sessionOf('other');
    await other.locator('[data-testid=playback-camera]').selectOption(ids[0]!);
    await other.locator('[data-testid=timeline] .rec').first().waitFor({ timeout: 10_000 });
    await dragRange(other);
    await other.click('[data-testid=export-start]');
    const refusal = other.locator('[data-testid=export-refused]');
    await refusal.waitFor({ timeout: 5000 });
    expect(await refusal.innerText()).toMatch(new RegExp(`^${zh['export.refused'].replace('{message}', '.+')}$`));
    expect(await other.locator('[data-testid=export-job]').count()).toBe(0);
    expect((await gw.api<{ items: unknown[] }>('GET', '/api/v1/exports', undefined, tokens.other)).body.items).toEqual([]);
    expect(await untranslated(other, 'zh')).toEqual([]);
  });
});
