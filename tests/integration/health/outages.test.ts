import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { ADMIN_TOKEN, CLI_PATH, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { WebhookReceiver } from '../../helpers/webhookReceiver.js';
import type { OutageRecord as Outage } from '../../../src/store/index.js';

const run = promisify(execFile);

/** Must show 1: alert within 3 s (p95 of 10 trials), resolution within 5 s of the camera's return. */
const TRIALS = 10;
const ALERT_P95_MS = 3000;
const RESOLVE_MS = 5000;
const SECRET = 'webhook-signing-secret-0123456789';

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] as number;
}

describe('outage alerts, ledger and reports on a real camera', () => {
  let receiver: WebhookReceiver;
  let cam: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  const testStart = new Date(Date.now() - 1000).toISOString();
  // Image diagnostics are off: the test camera's ball on black is rightly "too dark", and
  // these tests count every alert the receiver gets.
  const gatewayYaml = (url: string) =>
    `diagnostics:\n  enabled: false\ningest:\n  stallSeconds: 3\nalerts:\n  webhooks:\n    - name: ops\n      url: ${url}\n      secret: ${SECRET}\n  retry:\n    initialMs: 200\n    maxMs: 1000\n`;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    receiver = await WebhookReceiver.start({ secret: SECRET });
    cam = await TestCamera.start({ width: 320, height: 180 });
    gw = await GatewayProcess.start({ configYaml: gatewayYaml(receiver.url) });
    cameraId = (await addCamera(gw, cam.url, '北门 North gate', { lat: 30.59, lon: 114.3, signageInstalled: true })).id;
    await waitForUp(gw, cameraId, 1, 20_000);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    await receiver?.stop();
  });

  async function outages(): Promise<Outage[]> {
    const res = await gw.api<{ items: Outage[] }>('GET', `/api/v1/outages?from=${testStart}&cameraId=${cameraId}`);
    expect(res.status).toBe(200);
    return res.body.items;
  }

  it('alerts a stopped camera within 3 s (p95 of 10), resolves within 5 s of its return, and keeps both times and the cause', async () => {
    const alertMs: number[] = [];
    const resolveMs: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const stoppedAt = Date.now();
      await cam.stop();
      const firing = await receiver.waitFor({ id: cameraId, kind: 'camera_down', state: 'firing' }, stoppedAt, 10_000);
      alertMs.push(firing.at - stoppedAt);
      // Off long enough for a retry to find the port closed: the ledger then says why.
      await new Promise((r) => setTimeout(r, 1000));
      await cam.restart();
      const backAt = Date.now();
      const resolved = await receiver.waitFor({ id: cameraId, kind: 'camera_down', state: 'resolved' }, backAt, 15_000);
      resolveMs.push(resolved.at - backAt);
      expect(firing.signatureValid).toBe(true);
      expect(resolved.signatureValid).toBe(true);
      expect(resolved.body.startedAt).toBe(firing.body.startedAt);
      await waitForUp(gw, cameraId, 1, 15_000);
    }
    console.log(`camera stopped → webhook alert, ms: ${JSON.stringify(alertMs)}; p95 ${p95(alertMs)} ms`);
    console.log(`camera back → resolve alert, ms: ${JSON.stringify(resolveMs)}; max ${Math.max(...resolveMs)} ms`);
    expect(p95(alertMs)).toBeLessThanOrEqual(ALERT_P95_MS);
    expect(Math.max(...resolveMs)).toBeLessThanOrEqual(RESOLVE_MS);

    // Each change reached the receiver once: one firing and one resolution per trial.
    expect(receiver.matching({ id: cameraId, state: 'firing' })).toHaveLength(TRIALS);
    expect(receiver.matching({ id: cameraId, state: 'resolved' })).toHaveLength(TRIALS);
    expect(new Set(receiver.received.map((a) => a.eventId)).size).toBe(receiver.received.length);

    const ledger = await outages();
    expect(ledger).toHaveLength(TRIALS);
    for (const o of ledger) {
      expect(o.kind).toBe('camera_down');
      expect(o.endedAt).not.toBeNull();
      expect(Date.parse(o.endedAt as string)).toBeGreaterThan(Date.parse(o.startedAt));
      // A stopped camera closes its connection, then refuses new ones.
      expect(['unreachable', 'connection_lost']).toContain(o.cause);
      expect(o.planned).toBe(false);
    }
    expect(ledger.filter((o) => o.cause === 'unreachable').length).toBeGreaterThanOrEqual(TRIALS / 2);
    expect((await gw.api<{ items: unknown[] }>('GET', '/api/v1/incidents')).body.items).toEqual([]);
  });

  it('delivers an alert exactly once after the receiver was down during the outage', async () => {
    await receiver.stop();
    const logFrom = gw.logs.length;
    const stoppedAt = Date.now();
    await cam.stop();
    await gw.waitFor('a failed delivery', () => gw.logs.slice(logFrom).some((l) => l.includes('alert delivery failed')), 10_000);
    const incidents = await gw.api<{ items: Array<{ kind: string; cameraId: string }> }>('GET', '/api/v1/incidents');
    expect(incidents.body.items).toEqual([expect.objectContaining({ kind: 'camera_down', cameraId })]);
    await gw.waitFor(
      'the camera_down incident in the metrics',
      async () => (await gw.metric('psvgw_incidents_active', { camera_id: cameraId, kind: 'camera_down' })) === 1,
      5000,
    );
    await gw.waitFor('a pending alert', async () => ((await gw.metric('psvgw_alerts_pending')) ?? 0) >= 1, 5000);
    await receiver.resume();
    const firing = await receiver.waitFor({ id: cameraId, state: 'firing' }, stoppedAt, 10_000);
    await cam.restart();
    const resolved = await receiver.waitFor({ id: cameraId, state: 'resolved' }, firing.at, 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.matching({ eventId: firing.eventId })).toHaveLength(1);
    expect(receiver.matching({ eventId: resolved.eventId })).toHaveLength(1);
    await gw.waitFor('no pending alert', async () => (await gw.metric('psvgw_alerts_pending')) === 0, 5000);
  });

  it('keeps an undelivered alert and an open outage across a gateway restart, and sends each once', async () => {
    await waitForUp(gw, cameraId, 1, 15_000);
    await receiver.stop();
    const logFrom = gw.logs.length;
    const stoppedAt = Date.now();
    await cam.stop();
    await gw.waitFor('a failed delivery', () => gw.logs.slice(logFrom).some((l) => l.includes('alert delivery failed')), 10_000);
    expect(await gw.stop()).toBe(0);
    await receiver.resume();
    gw = await GatewayProcess.start({ dataDir: gw.dataDir, configYaml: gatewayYaml(receiver.url) });
    const firing = await receiver.waitFor({ id: cameraId, state: 'firing' }, stoppedAt, 10_000);
    // The outage open at shutdown is taken back, not fired again.
    expect((await gw.api<{ items: unknown[] }>('GET', '/api/v1/incidents')).body.items).toHaveLength(1);
    await cam.restart();
    const resolved = await receiver.waitFor({ id: cameraId, state: 'resolved' }, firing.at, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.matching({ eventId: firing.eventId })).toHaveLength(1);
    expect(receiver.matching({ eventId: resolved.eventId })).toHaveLength(1);
    expect(receiver.matching({ id: cameraId, state: 'firing' }).filter((a) => a.at >= stoppedAt)).toHaveLength(1);
    await gw.waitFor('the outage closed in the ledger', async () => (await outages()).at(-1)?.endedAt != null, 5000);
    const last = (await outages()).at(-1) as Outage;
    expect(last.startedAt).toBe(firing.body.startedAt);
    expect(last.endedAt).toBe(resolved.body.resolvedAt);
  });

  it('marks an outage inside a declared maintenance window as planned', async () => {
    await waitForUp(gw, cameraId, 1, 15_000);
    const cli = (args: string[]) =>
      run(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN } });
    const now = Date.now();
    const { stdout } = await cli([
      'maintenance',
      'add',
      '--camera',
      cameraId,
      '--from',
      new Date(now - 60_000).toISOString(),
      '--to',
      new Date(now + 600_000).toISOString(),
      '--reason',
      '更换交换机 replace the switch',
    ]);
    expect(stdout).toContain('maintenance window');
    // Bad input is refused with a clear error and stores nothing.
    const before = (await gw.api<{ items: unknown[] }>('GET', '/api/v1/maintenance')).body.items.length;
    const bad = await gw.api<{ error: { code: string; message: string } }>('POST', '/api/v1/maintenance', {
      startsAt: '2026-12-02T10:00:00Z',
      endsAt: '2026-12-02T09:00:00Z',
      reason: 'x',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'endsAt must be after startsAt' });
    const noCamera = await gw.api<{ error: { code: string } }>('POST', '/api/v1/maintenance', {
      cameraId: '99999999999999999999',
      startsAt: '2026-12-02T08:00:00Z',
      endsAt: '2026-12-02T09:00:00Z',
      reason: 'x',
    });
    expect(noCamera.body.error.code).toBe('CAMERA_NOT_FOUND');
    expect((await gw.api<{ items: unknown[] }>('GET', '/api/v1/maintenance')).body.items).toHaveLength(before);
    const badFormat = await gw.api<{ error: { code: string; message: string } }>('GET', '/api/v1/reports/outages?format=docx');
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.message).toContain('format must be one of csv, html, pdf, json');
    const stoppedAt = Date.now();
    await cam.stop();
    const firing = await receiver.waitFor({ id: cameraId, state: 'firing' }, stoppedAt, 10_000);
    await cam.restart();
    await receiver.waitFor({ id: cameraId, state: 'resolved' }, firing.at, 15_000);
    const last = (await outages()).at(-1) as Outage;
    expect(last.planned).toBe(true);
    expect(last.endedAt).not.toBeNull();
  });

  it('reports every stop with uptime, and flags a camera past its 30-day filing deadline', async () => {
    const cli = (args: string[]) =>
      run(process.execPath, [CLI_PATH, ...args], {
        env: { ...process.env, PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN },
        encoding: 'buffer',
        maxBuffer: 10_000_000,
      });
    const ledger = await outages();
    const csv = (await cli(['report', 'outages', '--from', testStart, '--format', 'csv'])).stdout.toString('utf8');
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('camera_id,camera_name,kind,cause,started_at,ended_at,duration_seconds,planned');
    const mine = lines.slice(1).filter((l) => l.startsWith(cameraId));
    expect(mine).toHaveLength(ledger.length);
    for (const o of ledger) expect(csv).toContain(`${o.startedAt},${o.endedAt}`);
    expect(mine.filter((l) => l.endsWith(',true'))).toHaveLength(1);

    const out = join(gw.dataDir, 'outages.html');
    await cli(['report', 'outages', '--from', testStart, '--format', 'html', '--lang', 'bilingual', '-o', out]);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('停机记录 Stops');
    expect(html).toContain('北门 North gate');
    expect(html).toContain('更换交换机 replace the switch');
    expect(html).toMatch(/\d+\.\d\d%/);
    const pdf = (await cli(['report', 'outages', '--from', testStart, '--format', 'pdf'])).stdout;
    expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
    expect(pdf.toString('latin1')).toContain(`(${cameraId})`);
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);

    // A camera commissioned 45 days ago and never filed is overdue; the live one is still within its 30 days.
    const old = new Date(Date.now() - 45 * 86_400_000).toISOString().slice(0, 10);
    const added = await gw.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
      name: 'Old school gate',
      rtspUrl: 'rtsp://127.0.0.1:9/none',
      siteType: 'school_gate',
      commissionedAt: old,
      lat: 30.6,
      lon: 114.31,
      enabled: false,
    });
    expect(added.status).toBe(201);
    const oldCam = added.body;
    const filing = (await cli(['report', 'filing', '--format', 'csv'])).stdout.toString('utf8');
    const rowOf = (id: string) => filing.split('\r\n').find((l) => l.startsWith(id)) ?? '';
    expect(rowOf(oldCam.id)).toMatch(/,overdue,.*true$/);
    expect(rowOf(cameraId)).toMatch(/,due,.*false$/);
    const geo = JSON.parse((await cli(['report', 'filing', '--format', 'geojson'])).stdout.toString('utf8')) as {
      features: Array<{ id: string; geometry: { coordinates: number[] } | null; properties: { overdue: boolean } }>;
    };
    expect(geo.features.find((f) => f.id === oldCam.id)).toMatchObject({
      geometry: { coordinates: [114.31, 30.6] },
      properties: { overdue: true },
    });
    const filingHtml = (await cli(['report', 'filing', '--format', 'html'])).stdout.toString('utf8');
    expect(filingHtml).toContain('已逾期');
    expect(filingHtml).toMatch(/<tr class="flag"><td>\d{20}<\/td><td>Old school gate/);
  });
});
