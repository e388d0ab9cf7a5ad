import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

/** One GET of /readyz: its status and body's status, or null once the port no longer answers. */
async function readyz(gw: GatewayProcess): Promise<{ code: number; status: string } | null> {
  try {
    const res = await fetch(`${gw.apiUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
    return { code: res.status, status: ((await res.json()) as { status: string }).status };
  } catch {
    return null;
  }
}

describe('gateway readiness', () => {
  let camera: TestCamera;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    camera = await TestCamera.start();
  });

  afterEach(stopAllGateways);
  afterAll(stopAllTestCameras);

  it('/readyz answers 200 once started, and 503 "stopping" from the moment the close begins until the port closes', async () => {
    const gw = await GatewayProcess.start();
    expect(await readyz(gw)).toEqual({ code: 200, status: 'ready' });
    // A live camera: its pipeline and recording take a moment to stop, the window in which /readyz is polled.
    const res = await gw.api<{ id: string }>('POST', '/api/v1/cameras', { name: 'Gate', rtspUrl: camera.url, siteType: 'school_gate' });
    expect(res.status).toBe(201);
    await gw.waitFor('camera live', async () => (await gw.metric('psvgw_camera_up', { camera_id: res.body.id })) === 1, 15_000);

    const exited = gw.stop('SIGTERM');
    const seen: Array<{ code: number; status: string }> = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      const answer = await readyz(gw);
      if (answer === null) break;
      seen.push(answer);
      if (Date.now() > deadline) throw new Error(`/readyz still answering after 15 s: ${JSON.stringify(seen.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await exited).toBe(0);
    // Requests that beat the signal may still see 200; from the first 503 on, nothing else.
    const first = seen.findIndex((a) => a.code === 503);
    expect(first, `answers while stopping: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(0);
    expect(seen.slice(first).every((a) => a.code === 503 && a.status === 'stopping')).toBe(true);
  });
});
