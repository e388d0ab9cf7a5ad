import { describe, expect, it } from 'vitest';
import { input, useRegistry } from './registryFixture.js';

const t = useRegistry();

describe('CameraRegistry.update: site type relabelling', () => {
  it('audits the site type it was and the one it became', async () => {
    const { id } = await t.registry.create(input({ siteType: 'road' }), 'admin');
    await t.registry.update(id, { siteType: 'school_gate' }, 'bob');
    const [entry] = await t.store.audit.list({ cameraId: id, action: 'camera.update' });
    expect(entry).toMatchObject({
      actor: 'bob',
      outcome: 'ok',
      details: { changed: ['siteType'], siteType: { before: 'road', after: 'school_gate' } },
    });
  });

  it('names no site type change when the patch repeats the current one', async () => {
    const { id } = await t.registry.create(input({ siteType: 'road' }), 'admin');
    await t.registry.update(id, { siteType: 'road', name: 'renamed' }, 'bob');
    const [entry] = await t.store.audit.list({ cameraId: id, action: 'camera.update' });
    expect(entry?.details).not.toHaveProperty('siteType');
  });
});
