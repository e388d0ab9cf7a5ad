import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../../bench/webhookReceiver.js';
import { IncidentBoard } from '../../../src/health/incidents.js';
import { WebhookNotifier, type WebhookNotifierOptions } from '../../../src/health/webhook.js';
import { SqliteStore } from '../../../src/store/sqlite.js';
import type { DeliveryFailure, OutboxEntry } from '../../../src/store/index.js';

const DAY_MS = 86_400_000;

/** Polls until `check` holds; fails with `what` after the deadline. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('webhook alerts a receiver refuses', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp(over: Partial<WebhookNotifierOptions> = {}) {
    const receiver = await WebhookReceiver.start();
    cleanups.push(() => receiver.stop());
    const dir = mkdtempSync(join(tmpdir(), 'psvgw-outbox-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'psvgw.db');
    const store = new SqliteStore(dbPath);
    await store.migrate();
    cleanups.push(() => store.close());
    const logger = pino({ level: 'silent' });
    const board = new IncidentBoard(logger);
    const dead: Array<{ entry: OutboxEntry; failure: DeliveryFailure }> = [];
    const notifier = new WebhookNotifier({
      outbox: store.alertOutbox,
      targets: [{ name: 'ops', url: receiver.url, timeoutMs: 2000 }],
      retry: { initialMs: 1000, maxMs: 2000 },
      gateway: 'gw-test',
      logger,
      maxRejections: 4,
      onDeadLetter: (entry, failure) => dead.push({ entry, failure }),
      ...over,
    });
    board.onChange((c) => notifier.notify(c));
    await notifier.start();
    cleanups.push(() => notifier.close());
    /** Rows left in the outbox, read straight from the file. */
    const rows = () => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM alert_outbox').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    return { receiver, store, board, notifier, dead, rows };
  }

  it('delivers the next alert at once while a refused one is retried, then keeps the refused one as a dead letter', async () => {
    const { receiver, store, board, dead } = await setUp();
    receiver.answerWith((a) => (a.body.kind === 'bad_alert' ? 400 : 204));
    board.fire({ cameraId: 'c1', kind: 'bad_alert', severity: 'warning', message: 'refused by the receiver' });
    await until('the first refusal', () => receiver.refused.length >= 1);
    const since = Date.now();
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down' });
    const next = await receiver.waitFor({ kind: 'camera_down' }, 0, 5000);
    // Long before the refused alert's retries (about 1, 2 and 2 s) are spent.
    expect(next.at - since).toBeLessThan(1000);
    expect(dead).toEqual([]);

    await until('the dead letter', () => dead.length === 1);
    expect(receiver.refused.map((a) => a.status)).toEqual([400, 400, 400, 400]);
    expect(dead[0]?.failure).toMatchObject({ status: 400, response: '{"error":"refused with 400"}' });
    const [letter] = await store.alertOutbox.deadLetters();
    expect(letter).toMatchObject({ target: 'ops', rejections: 4, lastStatus: 400, lastResponse: '{"error":"refused with 400"}' });
    expect(JSON.parse(letter?.body ?? '{}')).toMatchObject({ kind: 'bad_alert' });
    expect(await store.alertOutbox.deadLetterCounts()).toEqual({ ops: 1 });
    expect(await store.alertOutbox.pendingCount()).toBe(0);
    // Given up on: no more attempts.
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.refused).toHaveLength(4);
  }, 30_000);

  it('keeps a target in order while its receiver answers 429 or 503, and counts no rejection', async () => {
    const { receiver, store, board } = await setUp();
    let busy = 3;
    receiver.answerWith(() => (busy-- > 0 ? (busy % 2 === 0 ? 429 : 503) : 204));
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down' });
    board.resolve('c1', 'camera_down');
    await receiver.waitFor({ state: 'resolved' }, 0, 10_000);
    expect(receiver.received.map((a) => a.body.state)).toEqual(['firing', 'resolved']);
    expect(receiver.refused.map((a) => a.body.state)).toEqual(['firing', 'firing', 'firing']);
    expect(await store.alertOutbox.deadLetters()).toEqual([]);
  }, 30_000);

  it('prunes delivered alerts and dead letters once their retention has passed', async () => {
    const clock = { now: Date.now() };
    const { receiver, store, board, notifier, dead, rows } = await setUp({
      clock: () => new Date(clock.now),
      retentionDays: 30,
      pruneEveryMs: 50,
      maxRejections: 1,
    });
    receiver.answerWith((a) => (a.body.kind === 'bad_alert' ? 400 : 204));
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down' });
    board.fire({ cameraId: 'c1', kind: 'bad_alert', severity: 'warning', message: 'refused' });
    await receiver.waitFor({ kind: 'camera_down' }, 0, 5000);
    await until('the dead letter', () => dead.length === 1);
    // A third alert the receiver cannot take yet stays, however old.
    await receiver.stop();
    board.resolve('c1', 'camera_down');
    await until('a failed attempt at the resolution', async () => (await store.alertOutbox.oldestPending('ops'))?.attempts === 1);
    expect(rows()).toBe(3);

    clock.now += 29 * DAY_MS;
    await new Promise((r) => setTimeout(r, 300));
    expect(rows()).toBe(3);
    clock.now += 2 * DAY_MS;
    await until('the pruning', () => rows() === 1);
    expect(await store.alertOutbox.deadLetters()).toEqual([]);
    expect(await store.alertOutbox.pendingCount()).toBe(1);
    expect(await notifier.prune()).toBe(0);
  }, 30_000);
});
