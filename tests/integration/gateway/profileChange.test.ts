import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addCamera, type CameraBody } from '../../helpers/cameraSteps.js';
import { secondAdmin, type PendingChangeBody } from '../../helpers/changeSteps.js';
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

    // Another profile is a change under four eyes: the first start under it keeps hubei and files it as pending.
    const yunnanEnv = { PSVGW_PROFILE: 'yunnan', PSVGW_DATA_DIR: join(hubei.dataDir, 'data') };
    const pending = await GatewayProcess.start({ env: yunnanEnv });
    const changes = await pending.api<{ items: PendingChangeBody[] }>('GET', '/api/v1/pending-changes');
    const change = changes.body.items.find((c) => c.kind === 'config.profile' && c.state === 'pending');
    expect(change).toMatchObject({ current: 'hubei', proposed: 'yunnan', proposedBy: { username: 'config file' } });
    expect((await pending.api<CameraBody>('GET', `/api/v1/cameras/${added.id}`)).body.status.state).not.toBe('refused');
    const approved = await pending.api(
      'POST',
      `/api/v1/pending-changes/${change!.id}/approve`,
      { reason: 'the unit moved to Yunnan' },
      await secondAdmin(pending),
    );
    expect(approved.status).toBe(200);
    await pending.stop();

    // Approved: the next start runs under yunnan.
    const yunnan = await GatewayProcess.start({ env: yunnanEnv });
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
    pending.cleanup();
    hubei.cleanup();
  });
});
