import { describe, expect, it } from 'vitest';
import type { CameraRecord } from '../../../src/domain/index.js';
import { GatewayError } from '../../../src/errors.js';
import { FailingStore } from '../../helpers/failingStore.js';
import { FORBIDDEN, PASSWORD, USERNAME, failure, input, useRegistry } from './registryFixture.js';

const t = useRegistry();

describe('CameraRegistry.create', () => {
  it('stores a camera under a generated ID and returns a view without secrets', async () => {
    const created: CameraRecord[] = [];
    t.registry.on('created', (c) => void created.push(c));
    const view = await t.registry.create(input({ lat: 31.82, lon: 117.22, commissionedAt: '2024-01-15' }), 'admin');

    expect(view).toMatchObject({
      id: '34020000001320000001',
      name: '南门 1 号',
      rtspUrl: 'rtsp://192.168.1.64:554/Streaming/Channels/101',
      siteType: 'road',
      lat: 31.82,
      governmentFunded: false,
      signageInstalled: false,
      enabled: true,
      pushTargets: [],
      hasCredentials: true,
      createdAt: '2025-06-01T08:00:00.000Z',
    });
    expect(view).not.toHaveProperty('credentialsEnc');
    expect(view).not.toHaveProperty('password');
    expect(JSON.stringify(view)).not.toContain(PASSWORD);
    expect(t.probe).toHaveBeenCalledWith('rtsp://192.168.1.64:554/Streaming/Channels/101', {
      username: USERNAME,
      password: PASSWORD,
    });

    const record = await t.registry.getRecord(view.id);
    expect(record.credentialsEnc).toMatch(/^v1\./);
    expect(t.registry.credentialsOf(record)).toEqual({ username: USERNAME, password: PASSWORD });
    expect(created.map((c) => c.id)).toEqual([view.id]);

    const audit = await t.store.audit.list({ cameraId: view.id });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'admin', action: 'camera.create', outcome: 'ok' });

    expect((await t.registry.create(input(), 'admin')).id).toBe('34020000001320000002');
  });

  it('moves credentials out of the URL', async () => {
    const view = await t.registry.create(
      input({ rtspUrl: 'rtsp://ops:p%40ss@10.0.0.9/ch1', username: undefined, password: undefined }),
      'admin',
    );
    expect(view.rtspUrl).toBe('rtsp://10.0.0.9/ch1');
    expect(t.registry.credentialsOf(await t.registry.getRecord(view.id))).toEqual({
      username: 'ops',
      password: 'p@ss',
    });
  });

  it('stores a camera without credentials', async () => {
    const view = await t.registry.create(input({ username: undefined, password: undefined }), 'admin');
    expect(view.hasCredentials).toBe(false);
    expect(t.registry.credentialsOf(await t.registry.getRecord(view.id))).toBeNull();
  });

  it('takes an explicit ID and refuses it twice with CAMERA_EXISTS', async () => {
    await t.registry.create(input({ id: '44030500001310000123' }), 'admin');
    const err = await failure(t.registry.create(input({ id: '44030500001310000123', name: 'again' }), 'admin'));
    expect(err.code).toBe('CAMERA_EXISTS');
    expect(await t.registry.count()).toBe(1);
    expect((await t.registry.get('44030500001310000123')).name).toBe('南门 1 号');
  });

  it('hands out distinct IDs to concurrent creates', async () => {
    const views = await Promise.all(Array.from({ length: 20 }, (_, i) => t.registry.create(input({ name: `cam ${i}` }), 'admin')));
    expect(new Set(views.map((v) => v.id)).size).toBe(20);
    expect(await t.store.cameras.maxSerial('34020000001320')).toBe(20);
  });

  it('lists every field problem in one VALIDATION_FAILED', async () => {
    const err = await failure(
      t.registry.create(
        {
          name: '  ',
          rtspUrl: 'rtsp://10.0.0.1/x',
          id: '34020000001180000001',
          lat: 95,
          lon: 'east',
          commissionedAt: '2024-02-30',
          pushTargets: ['http://x/y', 'rtmp://platform/live/1', 'rtmp://platform/live/1'],
          colour: 'red',
        },
        'admin',
      ),
    );
    expect(err.code).toBe('VALIDATION_FAILED');
    for (const part of [
      'name must not be empty',
      'siteType is required',
      'id is not a valid camera ID: type code 118',
      'lat must be between -90 and 90',
      'lon must be a number or null',
      'commissionedAt is not a real calendar date',
      'pushTargets[0] must be an rtmp://, rtmps:// or rtsp:// URL',
      'pushTargets[2] repeats entry 1',
      'unknown field "colour"',
    ]) {
      expect(err.message).toContain(part);
    }
    expect(t.probe).not.toHaveBeenCalled();
    expect(await t.registry.count()).toBe(0);
  });

  it('refuses a removal date before the commissioning date', async () => {
    const err = await failure(t.registry.create(input({ commissionedAt: '2024-05-01', removedAt: '2024-04-30' }), 'admin'));
    expect(err.message).toContain('removedAt must not be before commissionedAt (2024-05-01)');
  });

  it('refuses input that is not an object', async () => {
    expect((await failure(t.registry.create('camera', 'admin'))).message).toContain('expected an object of camera fields');
  });

  it('refuses an unknown site type before anything else happens', async () => {
    const err = await failure(t.registry.create(input({ siteType: 'moon_base' }), 'admin'));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toContain('"moon_base" is not a known site type');
    expect(await t.store.audit.list()).toEqual([]);
    expect(t.probe).not.toHaveBeenCalled();
  });

  it('refuses a forbidden site type: no camera row, exactly one refused audit entry', async () => {
    const err = await failure(t.registry.create(input({ siteType: 'hotel_guest_room', id: '34020000001310000077' }), 'installer-7'));
    expect(err.code).toBe('PRIVACY_FORBIDDEN_SITE');
    expect(err.message).toBe('cameras are forbidden at sites of type hotel_guest_room');
    expect(err.details).toEqual({ siteType: 'hotel_guest_room', citations: FORBIDDEN.hotel_guest_room });
    expect(await t.store.cameras.count()).toBe(0);
    expect(t.probe).not.toHaveBeenCalled();

    const audit = await t.store.audit.list();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'installer-7',
      action: 'camera.refused',
      cameraId: '34020000001310000077',
      outcome: 'refused',
      details: { siteType: 'hotel_guest_room', citations: FORBIDDEN.hotel_guest_room, operation: 'create' },
    });
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });

  it('passes a probe GatewayError through untouched and stores nothing', async () => {
    const refusal = new GatewayError('CAMERA_AUTH_FAILED', 'the camera refused the credentials', {
      hint: 'check them',
    });
    t.probe.mockRejectedValueOnce(refusal);
    expect(await failure(t.registry.create(input(), 'admin'))).toBe(refusal);
    expect(await t.store.cameras.count()).toBe(0);
    expect(await t.store.audit.list()).toEqual([]);
  });

  it('wraps any other probe failure as CAMERA_UNREACHABLE without leaking credentials', async () => {
    t.probe.mockRejectedValueOnce(new Error(`connect ECONNREFUSED rtsp://${USERNAME}:${PASSWORD}@192.168.1.64:554`));
    const err = await failure(t.registry.create(input(), 'admin'));
    expect(err.code).toBe('CAMERA_UNREACHABLE');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain(PASSWORD);
    expect(await t.store.cameras.count()).toBe(0);
  });

  it('skips the probe on request', async () => {
    await t.registry.create(input(), 'admin', { skipProbe: true });
    expect(t.probe).not.toHaveBeenCalled();
    expect(await t.registry.count()).toBe(1);
  });

  it('survives a listener that throws or rejects', async () => {
    const seen: string[] = [];
    t.registry.on('created', () => {
      throw new Error('listener boom');
    });
    t.registry.on('created', async () => {
      throw new Error('async listener boom');
    });
    t.registry.on('created', (c) => void seen.push(c.id));
    const view = await t.registry.create(input(), 'admin');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([view.id]);
    expect(t.logLines.join('')).toContain('listener boom');
    expect(t.logLines.join('')).toContain('async listener boom');
  });

  it('undoes the insert when the audit entry cannot be written', async () => {
    const failingAudit = new FailingStore(t.store);
    // Write 1 is the camera row, write 2 its audit entry.
    failingAudit.failAtWrite(2, new Error('disk full'));
    const reg = t.makeRegistry({ store: failingAudit });
    await expect(reg.create(input(), 'admin')).rejects.toThrow('disk full');
    expect(failingAudit.writes).toEqual(['cameras.insert', 'audit.append']);
    expect(await t.store.cameras.count()).toBe(0);
  });

  it('refuses an ID prefix that would not make camera IDs', () => {
    expect(() => t.makeRegistry({ idParts: { regionCode: '34020000', industryCode: '00', typeCode: '118', networkCode: '0' } })).toThrow(
      /type code 118/,
    );
    expect(() => t.makeRegistry({ idParts: { regionCode: '3402', industryCode: '00', typeCode: '132', networkCode: '0' } })).toThrow(
      /regionCode must be 8 digits/,
    );
  });
});
