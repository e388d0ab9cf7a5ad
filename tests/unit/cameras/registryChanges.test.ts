import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CameraRecord } from '../../../src/domain/index.js';
import { GatewayError } from '../../../src/errors.js';
import { FORBIDDEN, PASSWORD, USERNAME, failure, input, useRegistry } from './registryFixture.js';

const t = useRegistry();

describe('CameraRegistry.update / remove / list', () => {
  it('applies a patch, audits and announces it', async () => {
    const { id } = await t.registry.create(input({ address: '南门', lat: 31 }), 'admin');
    const updates: [CameraRecord, CameraRecord][] = [];
    t.registry.on('updated', (after, before) => void updates.push([after, before]));
    const view = await t.registry.update(
      id,
      { name: 'North gate', address: null, signageInstalled: true, pushTargets: ['rtmp://p/live/x'] },
      'bob',
    );
    expect(view).toMatchObject({
      name: 'North gate',
      address: null,
      lat: 31,
      signageInstalled: true,
      pushTargets: ['rtmp://p/live/x'],
    });
    expect(updates).toHaveLength(1);
    expect(updates[0]?.[1].name).toBe('南门 1 号');
    const audit = await t.store.audit.list({ cameraId: id, action: 'camera.update' });
    expect(audit[0]?.details).toEqual({ changed: ['name', 'address', 'signageInstalled', 'pushTargets'] });
    expect(t.probe).toHaveBeenCalledTimes(1);
  });

  it('re-seals changed credentials and probes the new ones', async () => {
    const { id } = await t.registry.create(input(), 'admin');
    const before = (await t.registry.getRecord(id)).credentialsEnc;
    await t.registry.update(id, { password: 'n3w-pass' }, 'admin');
    const record = await t.registry.getRecord(id);
    expect(record.credentialsEnc).not.toBe(before);
    expect(t.registry.credentialsOf(record)).toEqual({ username: USERNAME, password: 'n3w-pass' });
    expect(t.probe).toHaveBeenLastCalledWith(record.rtspUrl, { username: USERNAME, password: 'n3w-pass' });

    await t.registry.update(id, { rtspUrl: 'rtsp://other:pw2@10.9.9.9/ch2' }, 'admin');
    expect(t.registry.credentialsOf(await t.registry.getRecord(id))).toEqual({ username: 'other', password: 'pw2' });

    const cleared = await t.registry.update(id, { username: null, password: null }, 'admin');
    expect(cleared.hasCredentials).toBe(false);
    expect((await t.registry.getRecord(id)).credentialsEnc).toBeNull();
  });

  it('refuses a patch to a forbidden site type the same way, leaving the camera as it was', async () => {
    const { id } = await t.registry.create(input(), 'admin');
    const err = await failure(t.registry.update(id, { siteType: 'toilet', name: 'moved' }, 'bob'));
    expect(err.code).toBe('PRIVACY_FORBIDDEN_SITE');
    expect(await t.registry.get(id)).toMatchObject({ siteType: 'road', name: '南门 1 号' });
    const refused = await t.store.audit.list({ action: 'camera.refused' });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      cameraId: id,
      outcome: 'refused',
      details: { operation: 'update', citations: FORBIDDEN.toilet },
    });
  });

  it('still lets a camera at a now-forbidden site be disabled', async () => {
    const { id } = await t.registry.create(input({ siteType: 'school_gate' }), 'admin');
    FORBIDDEN.school_gate = ['new rule'];
    try {
      expect((await failure(t.registry.update(id, { name: 'x' }, 'admin'))).code).toBe('PRIVACY_FORBIDDEN_SITE');
      expect((await t.registry.update(id, { enabled: false, removedAt: '2025-06-01' }, 'admin')).enabled).toBe(false);
    } finally {
      delete FORBIDDEN.school_gate;
    }
  });

  it('checks the merged record and refuses id changes and unknown keys', async () => {
    const { id } = await t.registry.create(input({ commissionedAt: '2024-05-01' }), 'admin');
    expect((await failure(t.registry.update(id, { removedAt: '2024-01-01' }, 'admin'))).message).toContain(
      'removedAt must not be before commissionedAt',
    );
    expect((await failure(t.registry.update(id, { id: '34020000001320000999' }, 'admin'))).message).toContain('id cannot be changed');
    expect((await failure(t.registry.update(id, { hasCredentials: false }, 'admin'))).message).toContain('unknown field "hasCredentials"');
    expect((await failure(t.registry.update(id, { rtspUrl: 'http://x/y' }, 'admin'))).code).toBe('CAMERA_URL_INVALID');
    expect((await failure(t.registry.update('34020000001320999999', { name: 'x' }, 'admin'))).code).toBe('CAMERA_NOT_FOUND');
  });

  it('leaves the camera as it was when the probe of a new URL fails', async () => {
    const { id } = await t.registry.create(input(), 'admin');
    t.probe.mockRejectedValueOnce(new GatewayError('CAMERA_UNREACHABLE', 'no answer'));
    expect((await failure(t.registry.update(id, { rtspUrl: 'rtsp://10.1.1.1/x' }, 'admin'))).message).toBe('no answer');
    expect((await t.registry.get(id)).rtspUrl).toBe('rtsp://192.168.1.64:554/Streaming/Channels/101');
  });

  it('removes a camera, audits and announces it', async () => {
    const { id } = await t.registry.create(input(), 'admin');
    const removed: string[] = [];
    t.registry.on('removed', (c) => void removed.push(c.id));
    await t.registry.remove(id, 'admin');
    expect(removed).toEqual([id]);
    expect((await failure(t.registry.get(id))).code).toBe('CAMERA_NOT_FOUND');
    expect((await failure(t.registry.remove(id, 'admin'))).code).toBe('CAMERA_NOT_FOUND');
    expect(await t.store.audit.list({ cameraId: id, action: 'camera.remove' })).toHaveLength(1);
  });

  it('lists views in id order with paging', async () => {
    for (const id of ['34020000001320000005', '34020000001320000003', '34020000001320000004']) {
      await t.registry.create(input({ id }), 'admin');
    }
    const page = await t.registry.list({ limit: 2, offset: 1 });
    expect(page.map((v) => v.id)).toEqual(['34020000001320000004', '34020000001320000005']);
    for (const v of page) expect(v).not.toHaveProperty('credentialsEnc');
  });
});

describe('secrets at rest and in logs', () => {
  it('never writes the username or password in clear to the database files or the log', async () => {
    const { id } = await t.registry.create(input(), 'admin');
    await t.registry.update(id, { password: `${PASSWORD}-2` }, 'admin');
    await t.registry.create(
      input({ rtspUrl: `rtsp://${USERNAME}:${PASSWORD}@10.0.0.2/ch1`, username: undefined, password: undefined }),
      'admin',
    );
    t.probe.mockRejectedValueOnce(new Error(`401 for rtsp://${USERNAME}:${PASSWORD}@10.0.0.3/`));
    await failure(t.registry.create(input({ rtspUrl: 'rtsp://10.0.0.3/' }), 'admin'));
    await failure(t.registry.create(input({ siteType: 'toilet' }), 'admin'));

    const live = readdirSync(t.dir).map((f) => readFileSync(join(t.dir, f)));
    await t.store.close();
    const closed = readdirSync(t.dir).map((f) => readFileSync(join(t.dir, f)));
    for (const bytes of [...live, ...closed]) {
      expect(bytes.includes(Buffer.from(PASSWORD, 'utf8'))).toBe(false);
      expect(bytes.includes(Buffer.from(USERNAME, 'utf8'))).toBe(false);
    }
    const logs = t.logLines.join('');
    expect(logs).toContain('camera created');
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(USERNAME);
  });
});
