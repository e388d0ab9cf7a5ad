import { describe, expect, it } from 'vitest';
import { failure, input, useRegistry } from './registryFixture.js';

const t = useRegistry();
const RECT = { shape: 'rect', x: 0.1, y: 0.1, w: 0.2, h: 0.2, mode: 'fill' } as const;
const TRIANGLE = {
  shape: 'polygon',
  points: [
    [0.5, 0.1],
    [0.9, 0.1],
    [0.7, 0.5],
  ],
  mode: 'blur',
} as const;

describe('CameraRegistry: privacy masks', () => {
  it('stores masks given at creation, version 1, audited', async () => {
    const view = await t.registry.create(input({ masks: [RECT] }), 'admin');
    expect(view).toMatchObject({ masks: [RECT], masksVersion: 1 });
    const audit = await t.store.audit.list({ cameraId: view.id, action: 'camera.masks' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'admin', details: { before: [], after: [RECT], version: 1 } });
  });

  it('defaults to no masks at version 0', async () => {
    const view = await t.registry.create(input(), 'admin');
    expect(view).toMatchObject({ masks: [], masksVersion: 0 });
    expect(await t.store.audit.list({ action: 'camera.masks' })).toHaveLength(0);
  });

  it('bumps the version and audits before and after on each change, not on a repeat', async () => {
    const { id } = await t.registry.create(input({ masks: [RECT] }), 'admin');
    const changed = await t.registry.update(id, { masks: [RECT, TRIANGLE] }, 'bob');
    expect(changed.masksVersion).toBe(2);
    await t.registry.update(id, { masks: [RECT, TRIANGLE] }, 'bob');
    expect((await t.registry.get(id)).masksVersion).toBe(2);
    const cleared = await t.registry.update(id, { masks: [] }, 'carol');
    expect(cleared).toMatchObject({ masks: [], masksVersion: 3 });
    const audit = await t.store.audit.list({ cameraId: id, action: 'camera.masks' });
    expect(audit.map((a) => [a.actor, a.details.version])).toEqual([
      ['carol', 3],
      ['bob', 2],
      ['admin', 1],
    ]);
    expect(audit[1]?.details).toMatchObject({ before: [RECT], after: [RECT, TRIANGLE] });
  });

  it('refuses invalid masks and leaves the camera as it was', async () => {
    const { id } = await t.registry.create(input({ masks: [RECT] }), 'admin');
    const err = await failure(t.registry.update(id, { masks: [{ ...RECT, w: 1.5 }] }, 'bob'));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toContain('masks[0]');
    expect(await t.registry.get(id)).toMatchObject({ masks: [RECT], masksVersion: 1 });
  });
});
