import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditVerifyResult } from '../../../src/api/contract.js';
import { zh } from '../../../web/src/i18n/zh.js';
import { userWithRole } from '../../helpers/accessSteps.js';
import { addCamera, waitForSharedUp, waitForUp } from '../../helpers/cameraSteps.js';
import { approvedBySecondAdmin } from '../../helpers/changeSteps.js';
import { ARTIFACTS, launchBrowser, logIn, requireConsoleTools, switchLanguage, untranslated } from '../../helpers/console.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

type Point = [number, number];
type Mask =
  { shape: 'rect'; x: number; y: number; w: number; h: number; mode: string } | { shape: 'polygon'; points: Point[]; mode: string };

const RECT: Mask = { shape: 'rect', x: 0.1, y: 0.1, w: 0.2, h: 0.2, mode: 'fill' };
const TRIANGLE: Mask = {
  shape: 'polygon',
  points: [
    [0.6, 0.1],
    [0.9, 0.1],
    [0.75, 0.5],
  ],
  mode: 'blur',
};
const SMALL: Mask = { shape: 'rect', x: 0.1, y: 0.6, w: 0.1, h: 0.1, mode: 'fill' };
/** Pointer positions land on whole pixels: coordinates agree to this many decimals. */
const PLACES = 2;

describe('console: editing mask shapes, and the audit chain verified on the register page', () => {
  let gw: GatewayProcess;
  let cameraId: string;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  const contexts: BrowserContext[] = [];

  async function sessionOf(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.log(`console script error (${username}): ${err.message}`));
    await logIn(page, gw.apiUrl, username);
    return page;
  }
  const masksOf = async () => (await gw.api<{ masks: Mask[] }>('GET', `/api/v1/cameras/${cameraId}`)).body.masks;

  beforeAll(async () => {
    requireConsoleTools();
    const [camera, started] = await Promise.all([
      TestCamera.start({ fps: 25, width: 640, height: 360, pattern: 'snow' }),
      GatewayProcess.start(),
    ]);
    gw = started;
    cameraId = (await addCamera(gw, camera.url, 'Square south')).id;
    for (const [name, role] of [
      ['chief', 'admin'],
      ['inspector', 'auditor'],
      ['duty', 'operator'],
    ] as const) {
      tokens[name] = await userWithRole(gw, name, role);
    }
    // Adding masks hides more: applied at once.
    const patched = await gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [RECT, TRIANGLE, SMALL] });
    expect(patched.status).toBe(200);
    browser = await launchBrowser();
    await waitForUp(gw, cameraId, 1, 20_000);
    await waitForSharedUp(gw, cameraId, 20_000);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('moves a rectangle by drag and by keys, moves a polygon vertex, changes an effect, deletes a shape; saved, the API has the new coordinates', async () => {
    const chief = await sessionOf('chief');
    await chief.click(`nav button:has-text("${zh['nav.masks']}")`);
    await chief.locator('[data-testid=mask-camera]').selectOption(cameraId);
    const canvas = chief.locator('[data-testid=mask-canvas][data-loaded=true]');
    await canvas.waitFor({ timeout: 15_000 });
    await expect.poll(() => chief.locator('[data-testid=mask-list] li').count(), { timeout: 5000 }).toBe(3);
    const box = (await canvas.boundingBox())!;
    const point = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
    const dragFrom = async (from: Point, to: Point) => {
      await chief.mouse.move(...point(...from));
      await chief.mouse.down();
      await chief.mouse.move(...point((from[0] + to[0]) / 2, (from[1] + to[1]) / 2));
      await chief.mouse.move(...point(...to));
      await chief.mouse.up();
    };
    await chief.check('input[name=tool][value=edit]');

    // The rectangle: pressed in its middle and dragged 0.2 right, 0.1 down.
    await dragFrom([0.2, 0.2], [0.4, 0.3]);
    const selected = chief.locator('[data-testid=mask-selected]');
    expect(await selected.getAttribute('data-shape')).toBe('rect');
    expect(Number(await selected.locator('input[name=mask-x]').inputValue())).toBeCloseTo(30, 0);
    // The keyboard: one step down on the focused picture, and the effect changed.
    await canvas.focus();
    await chief.keyboard.press('ArrowDown');
    expect(Number(await selected.locator('input[name=mask-y]').inputValue())).toBeCloseTo(21, 0);
    await chief.locator('[data-testid=selected-mode]').selectOption('mosaic');

    // The triangle: selected by a press inside it, then its first vertex dragged up and left.
    await chief.mouse.click(...point(0.75, 0.25));
    expect(await selected.getAttribute('data-shape')).toBe('polygon');
    await dragFrom([0.6, 0.1], [0.55, 0.05]);
    expect(Number(await selected.locator('input[name=mask-point-0-x]').inputValue())).toBeCloseTo(55, 0);

    // The small rectangle: chosen in the list (no pointer), removed with Delete.
    await chief.locator('[data-testid=mask-list] li').nth(2).locator('input[name=selected-mask]').check();
    await canvas.focus();
    await chief.keyboard.press('Delete');
    expect(await chief.locator('[data-testid=mask-list] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-mode')))).toEqual([
      'mosaic',
      'blur',
    ]);
    await chief.screenshot({ path: `${ARTIFACTS}console-mask-edit.png` });
    expect(await untranslated(chief, 'zh')).toEqual([]);

    // Moving and removing shapes uncovers parts of the picture: pending until a second admin approves.
    await chief.click('[data-testid=mask-save]');
    await chief.locator('[data-testid=mask-saved][data-saved=pending]').waitFor({ timeout: 5000 });
    expect(await masksOf()).toHaveLength(3);
    const pending = await gw.api<{ items: Array<{ id: string }> }>('GET', '/api/v1/pending-changes?state=pending');
    expect(pending.body.items).toHaveLength(1);
    await approvedBySecondAdmin(gw, { status: 202, body: pending.body.items[0] });
    const masks = await masksOf();
    expect(masks.map((m) => `${m.shape}/${m.mode}`)).toEqual(['rect/mosaic', 'polygon/blur']);
    const [rect, triangle] = masks as [Extract<Mask, { shape: 'rect' }>, Extract<Mask, { shape: 'polygon' }>];
    expect(rect.x).toBeCloseTo(0.3, PLACES);
    expect(rect.y).toBeCloseTo(0.21, PLACES);
    expect([rect.w, rect.h]).toEqual([0.2, 0.2]);
    expect(triangle.points[0]![0]).toBeCloseTo(0.55, PLACES);
    expect(triangle.points[0]![1]).toBeCloseTo(0.05, PLACES);
    expect(triangle.points.slice(1)).toEqual(TRIANGLE.shape === 'polygon' ? TRIANGLE.points.slice(1) : []);
    await switchLanguage(chief, 'en');
    expect(await untranslated(chief, 'en')).toEqual([]);
  });

  it('verifies the audit chain for an auditor (API and page), names the first bad entry once a row is edited, and refuses an operator', async () => {
    const ok = await gw.api<AuditVerifyResult>('GET', '/api/v1/audit/verify', undefined, tokens.inspector);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, problems: 0 });
    expect(ok.body.entries).toBeGreaterThan(5);
    expect((await gw.api('GET', '/api/v1/audit/verify', undefined, tokens.duty)).status).toBe(403);

    const inspector = await sessionOf('inspector');
    await inspector.click(`nav button:has-text("${zh['nav.register']}")`);
    await inspector.click('[data-testid=audit-verify-run]');
    const result = inspector.locator('[data-testid=audit-verify-result]');
    await result.waitFor({ timeout: 10_000 });
    expect(await result.getAttribute('data-ok')).toBe('true');
    expect(Number(await result.getAttribute('data-entries'))).toBeGreaterThanOrEqual(ok.body.entries);
    expect(await result.innerText()).toMatch(new RegExp(`^${zh['audit.verify.ok'].replace(/\{\w+\}/g, '\\d+')}$`));
    expect(await untranslated(inspector, 'zh')).toEqual([]);

    // An entry edited behind the gateway's back (the outcome of the admin's mask change).
    const db = new Database(join(gw.dataDir, 'data', 'psvgw.db'));
    let seq: number;
    try {
      db.pragma('busy_timeout = 5000');
      const row = db.prepare("SELECT id, seq FROM audit_log WHERE seq IS NOT NULL AND action LIKE 'camera%' ORDER BY id LIMIT 1").get() as {
        id: number;
        seq: number;
      };
      seq = row.seq;
      db.prepare("UPDATE audit_log SET actor = 'someone-else' WHERE id = ?").run(row.id);
    } finally {
      db.close();
    }
    const bad = await gw.api<AuditVerifyResult>('GET', '/api/v1/audit/verify', undefined, tokens.inspector);
    expect(bad.body).toMatchObject({ ok: false, firstBadIndex: seq, reason: 'changed' });
    await inspector.click('[data-testid=audit-verify-run]');
    await inspector.locator('[data-testid=audit-verify-result][data-ok=false]').waitFor({ timeout: 10_000 });
    expect(await result.getAttribute('data-first-bad')).toBe(String(seq));
    expect(await result.locator('p').first().innerText()).toContain(zh['audit.reason.changed']);
    await inspector.screenshot({ path: `${ARTIFACTS}console-audit-verify.png` });
    expect(await untranslated(inspector, 'zh')).toEqual([]);
    await switchLanguage(inspector, 'en');
    expect(await untranslated(inspector, 'en')).toEqual([]);

    // An operator holds no audit.read: the page shows the API's refusal.
    const duty = await sessionOf('duty');
    await duty.click(`nav button:has-text("${zh['nav.register']}")`);
    await duty.click('[data-testid=audit-verify-run]');
    await duty.locator('[data-testid=audit-verify] [role=alert]').waitFor({ timeout: 5000 });
  });
});
