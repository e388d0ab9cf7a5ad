import { writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../../web/src/i18n/en.js';
import { zh } from '../../../web/src/i18n/zh.js';
import { DOCUMENTS, STAFF, decideRequest, fileRequest, userWithRole } from '../../helpers/accessSteps.js';
import { addCamera, waitForSharedUp, waitForUp } from '../../helpers/cameraSteps.js';
import { secondAdmin } from '../../helpers/changeSteps.js';
import {
  ARTIFACTS,
  launchBrowser,
  logIn,
  overflowing,
  requireConsoleTools,
  switchLanguage,
  untranslated,
  type Lang,
} from '../../helpers/console.js';
import { grayFrame, regionStats, type GrayFrame, type Region } from '../../helpers/frames.js';
import { ADMIN_TOKEN, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { ffprobeStreams, streamOf } from '../../helpers/media.js';
import { OnvifDeviceSim, stopAllOnvifSims } from '../../helpers/onvifDevice.js';
import { recordingList } from '../../helpers/recordings.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const CAMERA_NAME = 'Plaza north';
/** Where the editor's rectangle (fill) and triangle (blur) go, as fractions of the picture. */
const RECT: Region = { x: 0.08, y: 0.15, w: 0.3, h: 0.4 };
const TRIANGLE: Array<[number, number]> = [
  [0.55, 0.1],
  [0.95, 0.1],
  [0.75, 0.55],
];
const TRIANGLE_INSIDE: Region = { x: 0.68, y: 0.12, w: 0.14, h: 0.15 };
const MESSAGES = { zh, en } as const;

interface Requirements {
  staff: { count: number; article: string };
  documents: { all: Array<{ field: string }>; anyOf: Array<{ field: string }> };
}
interface Outage {
  cameraId: string;
  startedAt: string;
  cause: string;
  endedAt: string | null;
}

/** Masked: the region has lost (nearly) all the detail the unmasked picture has there. */
const isFlat = (frame: GrayFrame, region: Region, before: GrayFrame) =>
  regionStats(frame, region).edge < 0.1 * regionStats(before, region).edge;

describe('console pages: playback timeline, mask editor, access workflow, health', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let browser: Browser;
  const tokens: Record<string, string> = {};
  const contexts: BrowserContext[] = [];

  /** A fresh browser session for `username`, logged in, in `lang`. */
  async function sessionOf(username: string, lang: Lang = 'zh'): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    contexts.push(context);
    const page = await context.newPage();
    // A script error in the console fails nothing by itself: print it with the test's output.
    page.on('pageerror', (err) => console.log(`console script error (${username}): ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') console.log(`console error (${username}): ${msg.text()}`);
    });
    await logIn(page, gw.apiUrl, username);
    if (lang !== 'zh') await switchLanguage(page, lang);
    return page;
  }
  const nav = (page: Page, lang: Lang, key: keyof typeof zh) => page.click(`nav button:has-text("${MESSAGES[lang][key]}")`);

  /** The shared tier's snapshot as the admin fetches it from the API, decoded grey. */
  async function sharedSnapshot(name: string): Promise<GrayFrame> {
    const res = await fetch(`${gw.apiUrl}/api/v1/cameras/${cameraId}/snapshot?tier=shared`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (res.status !== 200) throw new Error(`snapshot answered ${res.status}: ${await res.text()}`);
    const file = `${ARTIFACTS}${name}.jpg`;
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const video = streamOf(await ffprobeStreams(file), 'video');
    return grayFrame(file, { width: Number(video.width), height: Number(video.height) });
  }

  beforeAll(async () => {
    requireConsoleTools();
    [camera, gw] = await Promise.all([
      TestCamera.start({ fps: 25, width: 640, height: 360, pattern: 'snow' }),
      GatewayProcess.start({ configYaml: 'recording:\n  segmentSeconds: 2\n  diskCheckSeconds: 2\ningest:\n  stallSeconds: 3\n' }),
    ]);
    cameraId = (await addCamera(gw, camera.url, CAMERA_NAME, { siteType: 'school_gate' })).id;
    for (const [name, role] of [
      ['chief', 'admin'],
      ['officer', 'police'],
      ['boss', 'approver'],
      ['duty', 'operator'],
      ['inspector', 'auditor'],
    ] as const) {
      tokens[name] = await userWithRole(gw, name, role);
    }
    browser = await launchBrowser();
    await waitForUp(gw, cameraId, 1, 15_000);
    await waitForSharedUp(gw, cameraId, 20_000);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await stopAllGateways();
    await stopAllOnvifSims();
    await stopAllTestCameras();
  });

  it('tells a filer what the profile asks of a request, the same fields filing refuses without (API)', async () => {
    const needs = await gw.api<Requirements>('GET', '/api/v1/access-requests/requirements?kind=export', undefined, tokens.officer);
    expect(needs.status).toBe(200);
    expect(needs.body.staff.count).toBeGreaterThanOrEqual(2);
    const refused = await gw.api<{ error: { details: { missing: Array<{ field: string }> } } }>(
      'POST',
      '/api/v1/access-requests',
      {
        kind: 'export',
        cameraIds: [cameraId],
        from: new Date(Date.now() - 60_000).toISOString(),
        to: new Date().toISOString(),
        purpose: 'p',
        destination: 'd',
      },
      tokens.officer,
    );
    expect(refused.status).toBe(400);
    const anyOf = needs.body.documents.anyOf.map((d) => d.field).join(' | ');
    expect(refused.body.error.details.missing.map((m) => m.field)).toEqual([
      'staff',
      ...needs.body.documents.all.map((d) => d.field),
      ...(anyOf === '' ? [] : [anyOf]),
    ]);
    expect((await gw.api('GET', '/api/v1/access-requests/requirements?kind=peek', undefined, tokens.officer)).status).toBe(400);
    expect((await gw.api('GET', '/api/v1/access-requests/requirements?kind=export', undefined, tokens.duty)).status).toBe(403);
  });

  it('Must show 5: files a request naming what is missing, a second user approves, the officer plays raw; others are refused', async () => {
    const officer = await sessionOf('officer');
    await nav(officer, 'zh', 'nav.access');
    const form = officer.locator('[data-testid=request-form]');
    await form.locator('select[name=kind]').selectOption('view_live_raw');
    await form.locator('[data-testid=request-camera]').selectOption(cameraId);
    await form.locator('input[name=purpose]').fill('theft case 2026-118');
    await form.locator('input[name=destination]').fill('viewed on site, nothing copied');
    // Before anything else is filled, the form names the staff and each document the profile asks for.
    const needs = (await gw.api<Requirements>('GET', '/api/v1/access-requests/requirements?kind=view_live_raw', undefined, tokens.officer))
      .body;
    const missing = officer.locator('[data-testid=missing]');
    await expect.poll(() => missing.innerText(), { timeout: 5000 }).toContain(zh['access.missingStaff'].split('{')[0]!);
    for (const d of [...needs.documents.all, ...needs.documents.anyOf]) {
      expect(await missing.innerText()).toContain(zh[`access.doc.${d.field.replace('documents.', '')}` as keyof typeof zh]);
    }
    expect(await form.locator('button[type=submit]').isDisabled()).toBe(true);
    for (const [i, s] of STAFF.entries()) {
      await form.locator(`input[name=staff-${i}-name]`).fill(s.name);
      await form.locator(`input[name=staff-${i}-unit]`).fill(s.unit);
      await form.locator(`input[name=staff-${i}-credentialNo]`).fill(s.credentialNo);
    }
    for (const [field, value] of Object.entries(DOCUMENTS)) await form.locator(`input[name=doc-${field}]`).fill(value);
    await missing.waitFor({ state: 'detached', timeout: 5000 });
    expect(await untranslated(officer, 'zh')).toEqual([]);
    await form.locator('button[type=submit]').click();
    const row = officer.locator('[data-testid=requests] tr[data-state=pending]');
    await row.waitFor({ timeout: 5000 });
    const requestId = await row.getAttribute('data-request-id');

    // The approver, a second person, approves it in their console.
    const boss = await sessionOf('boss');
    await nav(boss, 'zh', 'nav.access');
    await boss.locator(`tr[data-request-id="${requestId}"] button[data-action=approve]`).click();
    await boss.locator(`tr[data-request-id="${requestId}"][data-state=approved]`).waitFor({ timeout: 5000 });

    // The officer plays the raw tier: the picture advances, watermarked with the viewer's name.
    await officer.reload();
    await officer.locator('[data-testid=raw-camera]').selectOption(cameraId);
    await officer.click('[data-testid=raw-play]');
    const rawVideo = officer.locator('[data-testid=raw-video]');
    const rawTime = () => rawVideo.evaluate((v) => (v as unknown as { currentTime: number }).currentTime);
    await expect.poll(rawTime, { timeout: 20_000 }).toBeGreaterThan(0.5);
    const at = await rawTime();
    await expect.poll(rawTime, { timeout: 5000 }).toBeGreaterThan(at + 0.5);
    expect(await officer.locator('.watermark').innerText()).toBe(zh['access.watermark'].replace('{viewer}', 'officer'));

    // An operator without a request: refused in the console and by the API.
    const duty = await sessionOf('duty');
    await nav(duty, 'zh', 'nav.access');
    await duty.locator('[data-testid=raw-camera]').selectOption(cameraId);
    await duty.click('[data-testid=raw-play]');
    const refusal = duty.locator('[data-testid=raw-refused]');
    await refusal.waitFor({ timeout: 5000 });
    expect(await refusal.innerText()).toMatch(new RegExp(`^${zh['tile.refused'].replace('{message}', '.+')}$`));
    expect(await duty.locator('[data-testid=raw-view]').getAttribute('data-state')).toBe('refused');
    const streams = await gw.api<{ raw: { refused?: string } }>('GET', `/api/v1/cameras/${cameraId}/streams`, undefined, tokens.duty);
    expect(streams.body.raw.refused).toBeTruthy();
    expect((await gw.api('GET', `/api/v1/cameras/${cameraId}/snapshot?tier=raw`, undefined, tokens.duty)).status).toBe(403);
  });

  it('the access register page lists the raw live view of Must show 5; the audit log filters by action (auditor)', async () => {
    const inspector = await sessionOf('inspector');
    await nav(inspector, 'zh', 'nav.register');
    const rawView = inspector.locator('[data-testid=register] tr[data-method=view_live][data-tier=raw][data-retriever=officer]');
    await rawView.first().waitFor({ timeout: 10_000 });
    // The method filter keeps only the chosen method's rows.
    await inspector.locator('[data-testid=register-method]').selectOption('export');
    await expect.poll(() => rawView.count(), { timeout: 5000 }).toBe(0);
    await inspector.locator('[data-testid=register-method]').selectOption('view_live');
    await rawView.first().waitFor({ timeout: 5000 });
    expect(await inspector.locator('[data-testid=register] tbody tr:not([data-method=view_live])').count()).toBe(0);
    // The download goes through the API with the same period and the session's cookie.
    const href = (await inspector.locator('[data-testid=access-register] a[data-format=csv]').getAttribute('href'))!;
    expect(href).toMatch(/^\/api\/v1\/access-register\?from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d&format=csv&lang=zh$/);
    const csv = await inspector.context().request.get(`${gw.apiUrl}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
    expect(await csv.text()).toContain('officer');

    // The audit log: the one approval so far is Must show 5's, by the approver.
    const audit = inspector.locator('[data-testid=audit] tbody tr');
    await audit.first().waitFor({ timeout: 5000 });
    await inspector.locator('input[name=audit-action]').fill('access_request.approve');
    await inspector.locator('[data-testid=audit-log] button[type=submit]').click();
    await expect
      .poll(() => audit.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action'))), { timeout: 5000 })
      .toEqual(['access_request.approve']);
    expect(await audit.first().innerText()).toContain('boss');
    expect(await untranslated(inspector, 'zh')).toEqual([]);
    // An operator holds no register.read: the page shows the API's refusal.
    const duty = await sessionOf('duty');
    await nav(duty, 'zh', 'nav.register');
    await duty.locator('[data-testid=access-register] [role=alert]').waitFor({ timeout: 5000 });
  });

  it('Must show 4: draws a filled rectangle and a blurred triangle on the snapshot, saves; removing one waits for a second admin', async () => {
    const before = await sharedSnapshot('pages-unmasked');
    const chief = await sessionOf('chief');
    await nav(chief, 'zh', 'nav.masks');
    await chief.locator('[data-testid=mask-camera]').selectOption(cameraId);
    const canvas = chief.locator('[data-testid=mask-canvas][data-loaded=true]');
    await canvas.waitFor({ timeout: 10_000 });
    const box = (await canvas.boundingBox())!;
    const point = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;

    await chief.locator('[data-testid=mask-mode]').selectOption('fill');
    await chief.mouse.move(...point(RECT.x, RECT.y));
    await chief.mouse.down();
    await chief.mouse.move(...point(RECT.x + RECT.w / 2, RECT.y + RECT.h / 2));
    await chief.mouse.move(...point(RECT.x + RECT.w, RECT.y + RECT.h));
    await chief.mouse.up();
    await chief.check('input[name=tool][value=polygon]');
    await chief.locator('[data-testid=mask-mode]').selectOption('blur');
    for (const [x, y] of TRIANGLE) await chief.mouse.click(...point(x, y));
    await chief.click('[data-testid=close-polygon]');
    expect(await chief.locator('[data-testid=mask-list] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-mode')))).toEqual([
      'fill',
      'blur',
    ]);
    await chief.click('[data-testid=mask-save]');
    // Adding masks hides more: the API applies it at once.
    await chief.locator('[data-testid=mask-saved][data-saved=applied]').waitFor({ timeout: 5000 });
    const camera = await gw.api<{ masks: Array<{ shape: string; mode: string }> }>('GET', `/api/v1/cameras/${cameraId}`);
    expect(camera.body.masks.map((m) => `${m.shape}/${m.mode}`)).toEqual(['rect/fill', 'polygon/blur']);

    let masked: GrayFrame | null = null;
    await gw.waitFor(
      'the shared snapshot masked in both regions',
      async () => {
        masked = await sharedSnapshot('pages-masked').catch(() => null);
        return masked !== null && isFlat(masked, RECT, before) && isFlat(masked, TRIANGLE_INSIDE, before);
      },
      30_000,
      500,
    );
    // The editor's preview, refreshed, shows the shared tier masked.
    const shots = Number(await canvas.getAttribute('data-snapshots'));
    await chief.click('[data-testid=mask-preview]');
    await chief.locator(`[data-testid=mask-canvas][data-snapshots="${shots + 1}"]`).waitFor({ timeout: 10_000 });
    await chief.screenshot({ path: `${ARTIFACTS}console-mask-editor.png` });
    expect(await untranslated(chief, 'zh')).toEqual([]);

    // Removing the triangle uncovers it: pending until a second admin approves.
    await chief.locator('[data-testid=mask-list] li[data-shape=polygon] button').click();
    await chief.click('[data-testid=mask-save]');
    const pending = chief.locator('[data-testid=mask-saved][data-saved=pending]');
    await pending.waitFor({ timeout: 5000 });
    expect((await gw.api<{ masks: unknown[] }>('GET', `/api/v1/cameras/${cameraId}`)).body.masks).toHaveLength(2);
    const changes = await gw.api<{ items: Array<{ id: string; state: string }> }>('GET', '/api/v1/pending-changes?state=pending');
    expect(changes.body.items).toHaveLength(1);
    const change = changes.body.items[0]!;
    expect(await pending.innerText()).toContain(change.id);

    // The pending-changes page: the proposer may withdraw but not approve (the API's refusal shows).
    await nav(chief, 'zh', 'nav.changes');
    const ownRow = chief.locator(`[data-testid=changes] tr[data-change-id="${change.id}"][data-state=pending]`);
    await ownRow.waitFor({ timeout: 5000 });
    expect(await ownRow.locator('button[data-action=withdraw]').count()).toBe(1);
    await ownRow.locator('button[data-action=approve]').click();
    const refusal = chief.locator('[role=alert]');
    await refusal.waitFor({ timeout: 5000 });
    expect(await refusal.innerText()).toMatch(new RegExp(`^${zh['error.api'].replace('{message}', '.+')}$`));
    const stillPending = await gw.api<{ state: string }>('GET', `/api/v1/pending-changes/${change.id}`);
    expect(stillPending.body.state).toBe('pending');
    expect(await untranslated(chief, 'zh')).toEqual([]);

    // A second admin approves it in their console, with a reason.
    await secondAdmin(gw);
    const second = await sessionOf('admin-b');
    await nav(second, 'zh', 'nav.changes');
    const row = second.locator(`[data-testid=changes] tr[data-change-id="${change.id}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.locator('button[data-action=withdraw]').count()).toBe(0);
    await row.locator(`input[name="reason-${change.id}"]`).fill('triangle area no longer private');
    await row.locator('button[data-action=approve]').click();
    await second.locator(`tr[data-change-id="${change.id}"][data-state=approved]`).waitFor({ timeout: 5000 });
    const approved = await gw.api<{ state: string; decidedBy: string; decisionReason: string }>(
      'GET',
      `/api/v1/pending-changes/${change.id}`,
    );
    expect(approved.body).toMatchObject({ state: 'approved', decidedBy: 'admin-b', decisionReason: 'triangle area no longer private' });
    await gw.waitFor(
      'the triangle unmasked again, the rectangle still masked',
      async () => {
        const frame = await sharedSnapshot('pages-after-removal').catch(() => null);
        return frame !== null && isFlat(frame, RECT, before) && !isFlat(frame, TRIANGLE_INSIDE, before);
      },
      30_000,
      500,
    );

    // The proposer withdraws a second removal on the same page: nothing changes.
    const proposal = await gw.api<{ id: string }>('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [] }, tokens.chief);
    expect(proposal.status).toBe(202);
    await chief.reload();
    const mine = chief.locator(`[data-testid=changes] tr[data-change-id="${proposal.body.id}"]`);
    await mine.locator('button[data-action=withdraw]').click();
    await chief.locator(`tr[data-change-id="${proposal.body.id}"][data-state=withdrawn]`).waitFor({ timeout: 5000 });
    expect((await gw.api<{ state: string }>('GET', `/api/v1/pending-changes/${proposal.body.id}`)).body.state).toBe('withdrawn');
    expect((await gw.api<{ masks: unknown[] }>('GET', `/api/v1/cameras/${cameraId}`)).body.masks).toHaveLength(1);
  });

  it('Must show 6: the timeline shows the recorded ranges, a gap with its outage cause and a hold, and plays from a clicked time', async () => {
    // A gap: the camera stops until the outage ledger has it, then comes back and records again.
    await gw.waitFor('three segments recorded', async () => (await recordingList(gw, cameraId)).segments.length >= 3, 30_000, 500);
    await camera.stop();
    let outage: Outage | undefined;
    await gw.waitFor(
      'an outage in the ledger',
      async () => {
        const res = await gw.api<{ items: Outage[] }>('GET', `/api/v1/outages?cameraId=${cameraId}`);
        outage = res.body.items.at(-1);
        return outage !== undefined;
      },
      20_000,
      250,
    );
    // Down a few seconds, so the gap is wide enough to see and click beside.
    await gw.waitFor('the outage 4 s old', () => Date.now() - Date.parse(outage!.startedAt) > 4000, 10_000, 250);
    await camera.restart();
    await gw.waitFor(
      'the gap closed and three segments after it',
      async () => {
        const list = await recordingList(gw, cameraId);
        const gap = list.gaps.at(-1);
        return gap?.end != null && list.segments.filter((s) => s.start >= gap.end!).length >= 3;
      },
      60_000,
      500,
    );
    const list = await recordingList(gw, cameraId);
    const hold = await gw.api<{ id: number }>('POST', '/api/v1/holds', {
      cameraIds: [cameraId],
      from: list.segments[0]!.start,
      to: list.gaps.at(-1)!.start,
      reason: 'case 2026-118',
    });
    expect(hold.status).toBe(201);
    const outageCause = (await gw.api<{ items: Outage[] }>('GET', `/api/v1/outages?cameraId=${cameraId}`)).body.items.at(-1)!.cause;
    const now = Date.now();
    const request = await fileRequest(gw, tokens.officer!, 'view_recorded', [cameraId], {
      from: new Date(now - 3600_000),
      to: new Date(now + 3600_000),
    });
    await decideRequest(gw, tokens.boss!, request, 'approve');

    // The admin reads the outage ledger: the gap shows the ledger's cause.
    const chief = await sessionOf('chief');
    await nav(chief, 'zh', 'nav.playback');
    await chief.locator('[data-testid=playback-camera]').selectOption(cameraId);
    await chief.locator('[data-testid=timeline] .gap').waitFor({ timeout: 10_000 });
    expect(await chief.locator('[data-testid=timeline] .gap').last().getAttribute('data-cause')).toBe(outageCause);
    expect(await chief.locator('[data-testid=gaps] tbody tr').last().innerText()).toContain(zh[`cause.${outageCause}` as keyof typeof zh]);
    expect(await chief.locator(`[data-testid=timeline] .hold[data-hold="${hold.body.id}"]`).count()).toBe(1);
    // Without a request covering the recordings the console shows the API's refusal, not a player.
    const chiefLine = (await chief.locator('[data-testid=timeline]').boundingBox())!;
    await chief.mouse.click(chiefLine.x + chiefLine.width * 0.9, chiefLine.y + chiefLine.height / 2);
    await chief.locator('[data-testid=playback-refused]').waitFor({ timeout: 5000 });
    expect(await chief.locator('[data-testid=player]').count()).toBe(0);
    // The keyboard reaches a time too: Home goes to the start of the view, an arrow steps on.
    const line = chief.locator('[data-testid=timeline]');
    await line.focus();
    await chief.keyboard.press('Home');
    await expect.poll(() => line.getAttribute('aria-valuenow')).toBe(await line.getAttribute('data-from'));
    await chief.keyboard.press('ArrowRight');
    await expect
      .poll(async () => Number(await line.getAttribute('aria-valuenow')))
      .toBeGreaterThan(Number(await line.getAttribute('data-from')));
    expect(await chief.locator('[data-testid=playback-refused]').innerText()).toMatch(
      new RegExp(`^${zh['playback.refused'].replace('{message}', '.+')}$`),
    );

    // The officer, under an approved request, sees the recorded ranges and plays.
    const officer = await sessionOf('officer');
    await nav(officer, 'zh', 'nav.playback');
    await officer.locator('[data-testid=playback-camera]').selectOption(cameraId);
    const timeline = officer.locator('[data-testid=timeline]');
    await officer.locator('[data-testid=timeline], [role=alert]').first().waitFor({ timeout: 10_000 });
    expect(await officer.locator('[role=alert]').allInnerTexts()).toEqual([]);
    const ranges = await timeline
      .locator('.rec')
      .evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-from')), Number(e.getAttribute('data-to'))]));
    expect(ranges.length).toBeGreaterThanOrEqual(2);
    expect(await timeline.locator('.gap').count()).toBeGreaterThanOrEqual(1);

    // Click into the middle of the range recorded after the gap.
    const [fromMs, toMs] = [Number(await timeline.getAttribute('data-from')), Number(await timeline.getAttribute('data-to'))];
    const [recFrom, recTo] = ranges.at(-1)!;
    const target = (recFrom! + recTo!) / 2;
    const tbox = (await timeline.boundingBox())!;
    await officer.mouse.click(tbox.x + ((target - fromMs) / (toMs - fromMs)) * tbox.width, tbox.y + tbox.height / 2);
    const player = officer.locator('[data-testid=player]');
    await player.waitFor({ timeout: 5000 });
    const startMs = Number(await player.getAttribute('data-start'));
    expect(Math.abs(startMs - target)).toBeLessThan(((toMs - fromMs) / tbox.width) * 2);
    const video = officer.locator('[data-testid=playback-video]');
    const position = async () => Number((await player.getAttribute('data-position')) || NaN);
    const currentTime = () => video.evaluate((v) => (v as unknown as { currentTime: number }).currentTime);
    await expect
      .poll(position, { timeout: 30_000 })
      .toBeGreaterThan(startMs - 1000)
      .catch(async (err: unknown) => {
        const state = await video.evaluate((v) => {
          const el = v as unknown as {
            error: { code: number; message: string } | null;
            readyState: number;
            networkState: number;
            src: string;
          };
          return {
            error: el.error && { code: el.error.code, message: el.error.message },
            readyState: el.readyState,
            networkState: el.networkState,
          };
        });
        throw new Error(`the recorded video did not play: ${JSON.stringify(state)}; page says ${await player.innerText()}`, { cause: err });
      });
    const first = await position();
    // It plays from the clicked time: the wall-clock position starts there and advances.
    expect(first).toBeLessThan(startMs + 3000);
    await expect.poll(position, { timeout: 10_000 }).toBeGreaterThan(first + 1000);
    await officer.screenshot({ path: `${ARTIFACTS}console-timeline.png` });

    await officer.click('[data-testid=play-pause]');
    await expect.poll(() => video.evaluate((v) => (v as unknown as { paused: boolean }).paused), { timeout: 5000 }).toBe(true);
    const pausedAt = await currentTime();
    await officer.locator('[data-testid=speed]').selectOption('2');
    await officer.click('[data-testid=play-pause]');
    expect(await video.evaluate((v) => (v as unknown as { playbackRate: number }).playbackRate)).toBe(2);
    await expect.poll(currentTime, { timeout: 10_000 }).toBeGreaterThan(pausedAt + 0.5);
    expect(await untranslated(officer, 'zh')).toEqual([]);
  });

  it('the health page shows the outage ledger, open incidents, platform links and the disk as the API has them', async () => {
    const chief = await sessionOf('chief');
    await nav(chief, 'zh', 'nav.health');
    await chief.locator(`[data-testid=outages] tr[data-camera-id="${cameraId}"]`).first().waitFor({ timeout: 5000 });
    const incidents = (await gw.api<{ items: unknown[] }>('GET', '/api/v1/incidents')).body.items;
    if (incidents.length === 0) await chief.locator(`text=${zh['health.noIncidents']}`).waitFor({ timeout: 5000 });
    else expect(await chief.locator('[data-testid=incidents] tbody tr').count()).toBe(incidents.length);
    expect((await gw.api<{ items: unknown[] }>('GET', '/api/v1/platforms')).body.items).toEqual([]);
    expect(await chief.locator('[data-testid=no-platforms]').innerText()).toBe(zh['health.noPlatforms']);
    const disk = (await gw.api<{ disk: { full: boolean } | null }>('GET', '/api/v1/recordings/disk')).body.disk;
    expect(disk).not.toBeNull();
    await chief.locator('[data-testid=disk][data-full=false]').waitFor({ timeout: 5000 });
    expect(await untranslated(chief, 'zh')).toEqual([]);
  });

  it('Must show 7: every page in English and in Chinese shows no untranslated string, and none is wider than 1366x768', async () => {
    const chief = await sessionOf('chief');
    await chief.setViewportSize({ width: 1366, height: 768 });
    for (const lang of ['en', 'zh'] as const) {
      await switchLanguage(chief, lang);
      const visits: Array<[keyof typeof zh, string]> = [
        ['nav.cameras', `[role=row][data-camera-id="${cameraId}"]`],
        ['nav.wall', '[data-layout]'],
        ['nav.playback', '[data-testid=playback-camera]'],
        ['nav.masks', '[data-testid=mask-camera]'],
        ['nav.access', '[data-testid=request-form]'],
        ['nav.health', '[data-testid=outages]'],
        ['nav.changes', '[data-testid=changes], [data-testid=no-changes]'],
        ['nav.register', '[data-testid=audit]'],
        ['nav.onboarding', '[data-testid=csv-import]'],
      ];
      for (const [key, ready] of visits) {
        await nav(chief, lang, key);
        await chief.locator(ready).first().waitFor({ timeout: 10_000 });
        const camera = chief.locator('[data-testid=playback-camera], [data-testid=mask-camera]');
        if ((await camera.count()) > 0) {
          await camera.selectOption(cameraId);
          await chief.locator('[data-testid=timeline], [data-testid=mask-canvas]').waitFor({ timeout: 10_000 });
        }
        expect(await untranslated(chief, lang), `${lang} ${key}`).toEqual([]);
        expect(await overflowing(chief), `${lang} ${key} at 1366x768`).toEqual([]);
      }
    }
  });

  it('onboards an ONVIF device found by discovery, and imports a CSV file with a per-row report', async () => {
    const user = 'onvif-admin';
    const password = 'Onvif-pass-7731';
    const device = await OnvifDeviceSim.start({
      username: user,
      password,
      endpointRef: 'urn:uuid:6a1c0d2e-0000-4000-8000-00000000c001',
      profiles: [{ token: 'Profile_1', name: 'mainStream', width: 640, height: 360, streamUri: camera.url }],
    });
    const camerasBefore = (await gw.api<{ total: number }>('GET', '/api/v1/cameras?limit=1')).body.total;
    const chief = await sessionOf('chief');
    await nav(chief, 'zh', 'nav.onboarding');
    await chief.locator('input[name=probe]').fill(device.probeAddress);
    await chief.click('[data-testid=discover]');
    const found = chief.locator('[data-testid=discovered] tr[data-address="127.0.0.1"]');
    await found.waitFor({ timeout: 15_000 });
    expect(await found.innerText()).toContain(zh['health.no']);

    const form = chief.locator('[data-testid=onboard-form]');
    await form.locator('input[name=device]').fill(`127.0.0.1:${device.httpPort}`);
    await form.locator('input[name=username]').fill(user);
    await form.locator('input[name=password]').fill(password);
    await form.locator('input[name=name]').fill('East gate');
    await form.locator('select[name=siteType]').selectOption('road');
    await form.locator('button[type=submit]').click();
    const onboarded = chief.locator('[data-testid=onboarded]');
    await onboarded.waitFor({ timeout: 15_000 });
    const newId = (await onboarded.getAttribute('data-camera-id'))!;
    const created = await gw.api<{ name: string; siteType: string }>('GET', `/api/v1/cameras/${newId}`);
    expect(created.body).toMatchObject({ name: 'East gate', siteType: 'road' });

    // Line 2: the same device again; line 3: a malformed row (never sent); line 4: a password the device refuses.
    const csv =
      'device,username,password,name,lat\r\n' +
      `127.0.0.1:${device.httpPort},${user},${password},East gate,\r\n` +
      `127.0.0.1:${device.httpPort},${user},${password},Broken row,north\r\n` +
      `127.0.0.1:${device.httpPort},${user},not-the-password,Wrong password,\r\n`;
    await chief.locator('select[name=csvSiteType]').selectOption('road');
    await chief.locator('[data-testid=csv-file]').setInputFiles({ name: 'cameras.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    const summary = chief.locator('[data-testid=csv-summary]');
    await summary.waitFor({ timeout: 20_000 });
    const report = await chief
      .locator('[data-testid=csv-report] tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute('data-line'), r.getAttribute('data-outcome'), r.lastElementChild?.textContent]),
      );
    expect(report.map(([line, outcome]) => [line, outcome])).toEqual([
      ['2', 'already_registered'],
      ['3', 'failed'],
      ['4', 'failed'],
    ]);
    expect(report[0]![2]).toContain(newId);
    expect(report[1]![2]).toMatch(/lat "north" is not a number/);
    expect(report[2]![2]).toMatch(/^ONVIF_AUTH_FAILED: /);
    expect(await summary.innerText()).toBe(zh['onboarding.csvSummary'].replace('{total}', '3').replace('{failed}', '2'));
    expect((await gw.api<{ total: number }>('GET', '/api/v1/cameras?limit=1')).body.total).toBe(camerasBefore + 1);
    expect(await untranslated(chief, 'zh')).toEqual([]);
    await switchLanguage(chief, 'en');
    expect(await untranslated(chief, 'en')).toEqual([]);
  });
});
