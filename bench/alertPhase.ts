import { BenchCamera } from './camera.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { attempt, progress } from './progress.js';
import { sleep } from './stats.js';
import { WebhookReceiver } from './webhookReceiver.js';

export interface AlertResults {
  errors: string[];
  /** Camera SIGKILLed → `camera_down` firing received by a webhook receiver, ms. */
  killToAlertMs: number[];
  /** Camera frozen (SIGSTOP) → firing received, ms (includes ingest.stallSeconds, 3 s by default). */
  freezeToAlertMs: number[];
  /** Camera's READY line after the restart → resolution received, ms. */
  backToResolveMs: number[];
  /** Frozen camera resumed (SIGCONT) → resolution received, ms. */
  thawToResolveMs: number[];
}

const SECRET = 'bench-webhook-secret-0123456789';
/** Long enough for one retry to find the camera's port closed; keeps the phase near a minute. */
const OFF_MS = 1000;

/**
 * Detection delay as an operator sees it: from the camera going dark to the signed webhook
 * alert arriving at a real HTTP receiver, through the gateway's outbox.
 */
export async function alertPhase(o: BenchOptions): Promise<AlertResults> {
  const r: AlertResults = { errors: [], killToAlertMs: [], freezeToAlertMs: [], backToResolveMs: [], thawToResolveMs: [] };
  const receiver = await WebhookReceiver.start({ secret: SECRET });
  const camera = await BenchCamera.start({ ...o.camera, width: 320, height: 180, pattern: 'ball' });
  const gw = await BenchGateway.start(`alerts:\n  webhooks:\n    - name: bench\n      url: ${receiver.url}\n      secret: ${SECRET}\n`);
  try {
    const id = await gw.addCamera('alert bench', camera.url);
    if ((await gw.waitUp(id, 1, 30_000, 50)) === null) throw new Error(`camera not up within 30 s:\n${gw.logTail()}`);
    const alerted = async (state: 'firing' | 'resolved', since: number, timeoutMs = 20_000) => {
      const alert = await receiver.waitFor({ id, kind: 'camera_down', state }, since, timeoutMs);
      if (alert.signatureValid !== true) r.errors.push(`${state} alert with a bad signature`);
      return alert.at;
    };
    const backAfter = async (startCamera: () => Promise<number> | number, into: number[], timeoutMs?: number) => {
      const readyAt = await startCamera();
      into.push((await alerted('resolved', readyAt, timeoutMs)) - readyAt);
      await gw.waitUp(id, 1, 30_000, 50);
      await sleep(500);
    };
    for (let trial = 1; trial <= o.alertTrials; trial++) {
      progress(`alerts: trial ${trial}/${o.alertTrials}: camera killed → webhook alert`);
      await attempt(r.errors, `alert trial ${trial}`, async () => {
        const killedAt = Date.now();
        await camera.kill();
        r.killToAlertMs.push((await alerted('firing', killedAt)) - killedAt);
        await sleep(Math.max(0, killedAt + OFF_MS - Date.now()));
        await backAfter(() => camera.launch(), r.backToResolveMs);
      });
    }
    // One frozen trial: its delay is ingest.stallSeconds plus the alert's, measured above.
    progress('alerts: frozen-camera trial: SIGSTOP → webhook alert');
    await attempt(r.errors, 'frozen alert trial', async () => {
      const frozenAt = Date.now();
      camera.freeze();
      r.freezeToAlertMs.push((await alerted('firing', frozenAt)) - frozenAt);
      // A thawed camera comes back through the ingest's restart and backoff (tens of seconds at
      // worst): measured, not held to the restart figure.
      await backAfter(
        () => {
          camera.thaw();
          return Date.now();
        },
        r.thawToResolveMs,
        60_000,
      );
    });
  } finally {
    await gw.stop();
    await camera.stop();
    await receiver.stop();
  }
  return r;
}
