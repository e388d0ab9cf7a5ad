import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookNotifier } from '../../../src/health/index.js';
import { checkpointHash } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

describe('checkpoint witness in the webhook outbox', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await recordingFixture();
  });
  afterEach(async () => f.cleanup());

  it('queues each signed checkpoint as a checkpoint event for every webhook target', async () => {
    const notifier = new WebhookNotifier({
      outbox: f.store.alertOutbox,
      // Nothing listens there: the event stays queued, as it would while a receiver is down.
      targets: [{ name: 'ops', url: 'http://127.0.0.1:9/hook', timeoutMs: 500 }],
      retry: { initialMs: 60_000, maxMs: 60_000 },
      gateway: 'gw-test',
      logger: f.logger,
    });
    f.ledger.addWitness({
      name: 'webhook outbox',
      record: (cp) =>
        notifier.event({
          kind: 'checkpoint',
          id: cp.cameraId,
          eventId: checkpointHash(cp).slice(0, 32),
          at: cp.signedAt,
          details: { ...cp },
        }),
    });
    try {
      await f.segment(1);
      expect(await f.ledger.checkpointAll()).toBe(1);
      const queued = await f.store.alertOutbox.oldestPending('ops');
      const [cp] = await f.store.recordings.checkpoints(f.cam.id);
      const body = JSON.parse(queued!.body) as Record<string, unknown>;
      expect(body).toMatchObject({ kind: 'checkpoint', gateway: 'gw-test', id: f.cam.id, at: cp!.signedAt });
      expect(body.details).toMatchObject({ ...cp, publicKey: expect.any(String) as unknown });
      expect(queued!.eventId).toBe(checkpointHash(cp!).slice(0, 32));
    } finally {
      await notifier.close();
    }
  });
});
