import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../../bench/webhookReceiver.js';
import { loadConfig } from '../../../src/config/index.js';
import { IncidentBoard } from '../../../src/health/incidents.js';
import { alertBody, alertEventId, signAlert, WebhookNotifier, webhookTargets } from '../../../src/health/webhook.js';
import { SqliteStore } from '../../../src/store/sqlite.js';

const SECRET = 'unit-test-webhook-secret';

function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, destination), lines };
}

describe('webhook alerts', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp() {
    const receiver = await WebhookReceiver.start({ secret: SECRET });
    cleanups.push(() => receiver.stop());
    const store = new SqliteStore(':memory:');
    await store.migrate();
    cleanups.push(() => store.close());
    const { logger, lines } = capturingLogger();
    const board = new IncidentBoard(logger);
    const notifier = new WebhookNotifier({
      outbox: store.alertOutbox,
      targets: [{ name: 'ops', url: `${receiver.url}?token=query-secret`, secret: SECRET, timeoutMs: 2000 }],
      retry: { initialMs: 50, maxMs: 200 },
      gateway: 'gw-test',
      logger,
    });
    board.onChange((c) => notifier.notify(c));
    await notifier.start();
    cleanups.push(() => notifier.close());
    return { receiver, store, board, notifier, lines };
  }

  it('posts a signed JSON body naming the camera, kind, state and times, on firing and on resolving', async () => {
    const { receiver, board } = await setUp();
    const since = Date.now();
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down', details: { cause: 'unreachable' } });
    board.resolve('c1', 'camera_down');
    const resolved = await receiver.waitFor({ state: 'resolved' }, since, 5000);
    const [firing] = receiver.matching({ state: 'firing' });
    expect(firing?.signatureValid).toBe(true);
    expect(firing?.body).toMatchObject({ id: 'c1', kind: 'camera_down', state: 'firing', gateway: 'gw-test', resolvedAt: null });
    expect(resolved.body).toMatchObject({ id: 'c1', state: 'resolved', startedAt: firing?.body.startedAt });
    expect(typeof resolved.body.resolvedAt).toBe('string');
    expect(firing?.eventId).toBe(firing?.body.eventId);
    expect(resolved.eventId).not.toBe(firing?.eventId);
    // Order kept: the firing arrived first.
    expect(receiver.received.map((a) => a.body.state)).toEqual(['firing', 'resolved']);
  });

  it('keeps retrying while the receiver is down, then delivers each change once, in order, and never logs the secret', async () => {
    const { receiver, board, store, lines } = await setUp();
    await receiver.stop();
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down' });
    board.resolve('c1', 'camera_down');
    await new Promise((r) => setTimeout(r, 600));
    expect(await store.alertOutbox.pendingCount()).toBe(2);
    expect((await store.alertOutbox.oldestPending('ops'))?.attempts).toBeGreaterThanOrEqual(2);
    await receiver.resume();
    await receiver.waitFor({ state: 'resolved' }, 0, 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.map((a) => a.body.state)).toEqual(['firing', 'resolved']);
    expect(await store.alertOutbox.pendingCount()).toBe(0);
    const log = lines.join('');
    expect(log).toContain('alert delivery failed');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('query-secret');
  });

  it('signs timestamp and body with HMAC-SHA256 and gives each change a stable event id', () => {
    // Reference value computed independently (Python hmac).
    expect(signAlert('k', '1700000000', '{}')).toBe('sha256=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146');
    const incident = {
      key: 'c1/camera_down',
      cameraId: 'c1',
      kind: 'camera_down',
      severity: 'critical' as const,
      message: 'm',
      since: '2026-01-01T00:00:00.000Z',
    };
    const firing = { state: 'firing' as const, incident, at: incident.since };
    expect(alertEventId(firing)).toBe(alertEventId({ ...firing }));
    expect(alertEventId(firing)).not.toBe(alertEventId({ ...firing, state: 'resolved', at: '2026-01-01T00:01:00.000Z' }));
    expect(alertBody(firing, 'gw')).toMatchObject({
      id: 'c1',
      kind: 'camera_down',
      state: 'firing',
      startedAt: incident.since,
      resolvedAt: null,
    });
  });

  it('takes targets from alerts.webhooks and PSVGW_ALERT_WEBHOOK_URL / _SECRET', () => {
    const config = loadConfig({
      text: 'alerts:\n  webhooks:\n    - name: noc\n      url: https://noc.example/hook\n      secret: s1\n',
      env: { PSVGW_ALERT_WEBHOOK_URL: 'https://ops.example/alerts?key=abc', PSVGW_ALERT_WEBHOOK_SECRET: 's2' },
    });
    expect(webhookTargets(config.alerts)).toEqual([
      { name: 'noc', url: 'https://noc.example/hook', secret: 's1', timeoutMs: 5000 },
      { name: 'https://ops.example/alerts', url: 'https://ops.example/alerts?key=abc', secret: 's2', timeoutMs: 5000 },
    ]);
  });
});
