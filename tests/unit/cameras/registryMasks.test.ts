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

describe('CameraRegistry: shared-tier encoder override', () => {
  it('defaults to no override, stores one given at creation, and audits each change with before and after', async () => {
    const plain = await t.registry.create(input(), 'admin');
    expect(plain.sharedEncoder).toEqual({});
    const { id, sharedEncoder } = await t.registry.create(input({ sharedEncoder: { maxHeight: 720 } }), 'admin');
    expect(sharedEncoder).toEqual({ maxHeight: 720 });
    const changed = await t.registry.update(id, { sharedEncoder: { gopSeconds: 2, preset: 'faster' } }, 'bob');
    expect(changed.sharedEncoder).toEqual({ gopSeconds: 2, preset: 'faster' });
    expect((await t.registry.get(id)).sharedEncoder).toEqual({ gopSeconds: 2, preset: 'faster' });
    const [entry] = await t.store.audit.list({ cameraId: id, action: 'camera.update' });
    expect(entry).toMatchObject({
      actor: 'bob',
      details: { changed: ['sharedEncoder'], sharedEncoder: { before: { maxHeight: 720 }, after: { gopSeconds: 2, preset: 'faster' } } },
    });
  });

  it('refuses settings a sharing platform cannot take, naming each, and changes nothing', async () => {
    const { id } = await t.registry.create(input({ sharedEncoder: { maxBitrateKbps: 1500 } }), 'admin');
    const err = await failure(
      t.registry.update(id, { sharedEncoder: { gopSeconds: 3, maxBitrateKbps: 50, maxHeight: 100.5, preset: 'turbo' } }, 'bob'),
    );
    expect(err.code).toBe('VALIDATION_FAILED');
    for (const problem of [
      'sharedEncoder.gopSeconds must be more than 0 and at most 2 s',
      'sharedEncoder.maxBitrateKbps must be between 100 and 100000 kbit/s',
      'sharedEncoder.maxHeight must be a whole number of pixels',
      'sharedEncoder.preset must be one of ultrafast',
    ])
      expect(err.message).toContain(problem);
    expect((await t.registry.get(id)).sharedEncoder).toEqual({ maxBitrateKbps: 1500 });
  });
});
