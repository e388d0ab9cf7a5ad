import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addCamera, type CameraBody } from '../../helpers/cameraSteps.js';
import { GatewayProcess, mediaProcessesMentioning, stopAllGateways } from '../../helpers/gateway.js';
import { stopAllTestCameras, TestCamera } from '../../helpers/testCamera.js';

afterAll(async () => {
  await stopAllGateways();
  await stopAllTestCameras();
});

describe('a camera whose site becomes forbidden under the active profile', () => {
  it('is refused at start-up: never ingested, shown as refused, counted in metrics', async () => {
    const camera = await TestCamera.start();
    // Hubei's measures do not list KTV private rooms; Yunnan's (Art. 11) do.
    const hubei = await GatewayProcess.start({ env: { PSVGW_PROFILE: 'hubei' } });
    const added: CameraBody = await addCamera(hubei, camera.url, 'KTV corridor', { siteType: 'ktv_private_room' });
    await hubei.stop();

    const yunnan = await GatewayProcess.start({ env: { PSVGW_PROFILE: 'yunnan', PSVGW_DATA_DIR: join(hubei.dataDir, 'data') } });
    const shown = await yunnan.api<CameraBody>('GET', `/api/v1/cameras/${added.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.status.state).toBe('refused');
    expect(shown.body.status.reason).toMatch(/yunnan-2016 Art\. 11/);
    await yunnan.waitFor(
      'the refused state in the metrics',
      async () => (await yunnan.metric('psvgw_camera_state', { camera_id: added.id, state: 'refused' })) === 1,
      5000,
    );
    expect(await yunnan.metric('psvgw_camera_up', { camera_id: added.id })).toBeUndefined();
    // Give a wrongly started pipeline time to show itself, then check nothing pulls the camera.
    await new Promise((r) => setTimeout(r, 2000));
    expect(mediaProcessesMentioning(`127.0.0.1:${camera.port}/`)).toEqual([]);
    await yunnan.waitForLine(/camera refused/, 5000);

    // The registry still refuses the same site type for a new camera under this profile.
    const again = await yunnan.api<{ error: { code: string } }>('POST', '/api/v1/cameras', {
      name: 'KTV room 2',
      rtspUrl: camera.url,
      siteType: 'ktv_private_room',
    });
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('PRIVACY_FORBIDDEN_SITE');
    await yunnan.stop();
    yunnan.cleanup();
    hubei.cleanup();
  });
});
