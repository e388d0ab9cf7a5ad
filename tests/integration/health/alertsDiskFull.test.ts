import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentBoard } from '../../../src/health/incidents.js';
import { WebhookNotifier } from '../../../src/health/webhook.js';
import { SqliteStore } from '../../../src/store/sqlite.js';
import { mountTmpfs, type Tmpfs } from '../../helpers/tmpfs.js';
import { WebhookReceiver } from '../../helpers/webhookReceiver.js';

const TMPFS_MB = 4;

/** Writes a file until the disk refuses more; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 16, 512]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * The alert outbox on a real SQLite file on a 4 MB tmpfs that fills up: the alerts of that
 * time are held in memory, then written and delivered, in order, once there is room again.
 */
describe('alerts on a full disk', () => {
  let tmpfs: Tmpfs | undefined;
  let mountDir: string;
  let store: SqliteStore;
  let receiver: WebhookReceiver;
  let notifier: WebhookNotifier;
  let board: IncidentBoard;

  beforeAll(async () => {
    tmpfs = mountTmpfs(TMPFS_MB, 'psvgw-alerts-tmpfs-');
    mountDir = tmpfs.dir;
    store = new SqliteStore(join(mountDir, 'psvgw.db'));
    await store.migrate();
    receiver = await WebhookReceiver.start();
    const logger = pino({ level: 'silent' });
    board = new IncidentBoard(logger);
    notifier = new WebhookNotifier({
      outbox: store.alertOutbox,
      targets: [{ name: 'ops', url: receiver.url, timeoutMs: 2000 }],
      retry: { initialMs: 100, maxMs: 500 },
      gateway: 'gw-test',
      logger,
    });
    board.onChange((c) => notifier.notify(c));
    await notifier.start();
  });

  afterAll(async () => {
    await notifier?.close();
    await store?.close();
    await receiver?.stop();
    tmpfs?.remove();
  });

  it('holds the alerts while the store cannot write, then queues and delivers them in order', async () => {
    const filler = fillDisk(mountDir);
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down' });
    board.resolve('c1', 'camera_down');
    await notifier.notify({
      state: 'firing',
      at: new Date().toISOString(),
      incident: {
        key: 'gateway/disk_full',
        cameraId: null,
        kind: 'disk_full',
        severity: 'critical',
        message: 'full',
        since: new Date().toISOString(),
      },
    });
    expect(notifier.heldCount).toBe(3);
    expect(receiver.received).toEqual([]);

    rmSync(filler);
    await receiver.waitFor({ kind: 'disk_full' }, 0, 15_000);
    expect(receiver.received.map((a) => `${a.body.kind}/${a.body.state}`)).toEqual([
      'camera_down/firing',
      'camera_down/resolved',
      'disk_full/firing',
    ]);
    expect(notifier.heldCount).toBe(0);
    const deadline = Date.now() + 5000;
    while ((await store.alertOutbox.pendingCount()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await store.alertOutbox.pendingCount()).toBe(0);
  });
});
