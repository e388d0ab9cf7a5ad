import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCamera, waitForUp } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { WebhookReceiver } from '../../helpers/webhookReceiver.js';

/** A camera's return is alerted within this long when nothing is in the way (tests/integration/health/outages.test.ts). */
const RESOLVE_MS = 5000;

interface DeadLetter {
  eventId: string;
  target: string;
  lastStatus: number | null;
  lastResponse: string | null;
  body: { kind: string; state: string };
}

/**
 * Must show 6 on a real gateway, camera and HTTP receiver: a receiver answering 400 forever
 * to one alert does not delay the next alert to it; the refused alert ends as a dead letter,
 * seen in /metrics, as an `alert_dead_letter` incident and in the API.
 */
describe('an alert its receiver refuses forever', () => {
  let receiver: WebhookReceiver;
  let cam: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let refusedEvent: string | null = null;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    receiver = await WebhookReceiver.start();
    // The first camera_down firing is refused, every time it comes; everything else is taken.
    receiver.answerWith((a) => {
      if (refusedEvent === null && a.body.kind === 'camera_down' && a.body.state === 'firing') refusedEvent = a.eventId;
      return a.eventId === refusedEvent ? 400 : 204;
    });
    cam = await TestCamera.start({ width: 320, height: 180 });
    gw = await GatewayProcess.start({
      configYaml: `diagnostics:\n  enabled: false\ningest:\n  stallSeconds: 3\nalerts:\n  webhooks:\n    - name: ops\n      url: ${receiver.url}\n  retry:\n    initialMs: 1000\n    maxMs: 2000\n  maxRejections: 5\n`,
    });
    cameraId = (await addCamera(gw, cam.url, 'East gate')).id;
    await waitForUp(gw, cameraId, 1, 20_000);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    await receiver?.stop();
  });

  it('lets the next alert to the same receiver through in its normal time, then keeps the refused one as a dead letter', async () => {
    await cam.stop();
    await gw.waitFor('the receiver refusing the camera_down firing', () => receiver.refused.length >= 1, 15_000);
    // Off long enough for the ingest to see the camera gone.
    await new Promise((r) => setTimeout(r, 1000));
    await cam.restart();
    const backAt = Date.now();
    const resolved = await receiver.waitFor({ id: cameraId, kind: 'camera_down', state: 'resolved' }, backAt, 15_000);
    expect(resolved.at - backAt).toBeLessThanOrEqual(RESOLVE_MS);
    expect(receiver.matching({ kind: 'camera_down', state: 'firing' })).toEqual([]);

    await gw.waitFor(
      'psvgw_alerts_dead_letters{target="ops"} == 1',
      async () => (await gw.metric('psvgw_alerts_dead_letters', { target: 'ops' })) === 1,
      30_000,
    );
    expect(receiver.refused.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
    const warning = await receiver.waitFor({ kind: 'alert_dead_letter', state: 'firing' }, 0, 10_000);
    expect(warning.body).toMatchObject({ severity: 'warning', id: null, details: { target: 'ops', eventId: refusedEvent, status: 400 } });
    const incidents = await gw.api<{ items: Array<{ kind: string }> }>('GET', '/api/v1/incidents');
    expect(incidents.body.items.map((i) => i.kind)).toContain('alert_dead_letter');

    const letters = await gw.api<{ items: DeadLetter[] }>('GET', '/api/v1/alerts/dead-letters');
    expect(letters.status).toBe(200);
    expect(letters.body.items).toEqual([
      expect.objectContaining({
        eventId: refusedEvent,
        target: 'ops',
        lastStatus: 400,
        lastResponse: '{"error":"refused with 400"}',
        body: expect.objectContaining({ kind: 'camera_down', state: 'firing' }) as unknown,
      }),
    ]);
    // Nothing else is stuck behind the dead letter.
    await gw.waitFor('psvgw_alerts_pending == 0', async () => (await gw.metric('psvgw_alerts_pending')) === 0, 10_000);
  });
});
