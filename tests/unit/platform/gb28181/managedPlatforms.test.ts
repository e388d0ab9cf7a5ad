/**
 * Platforms added through the API (issue 13, "Interface points"): validated with clear
 * errors, stored with the password sealed, pending until a second admin approves, then
 * linked on a real SIP port; removal unregisters and forgets them.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TextBox } from '../../../../src/cameras/index.js';
import { PendingChanges } from '../../../../src/changes/index.js';
import { PROFILES } from '../../../../src/config/index.js';
import type { Principal } from '../../../../src/domain/index.js';
import { GatewayError } from '../../../../src/errors.js';
import { createLogger } from '../../../../src/log.js';
import { ManagedPlatforms, startGb28181, type Gb28181Service } from '../../../../src/platform/index.js';
import type { PlatformLinkConfig } from '../../../../src/platform/gb28181/index.js';
import { SqliteStore } from '../../../../src/store/index.js';

const admin = (name: string): Principal => ({ kind: 'user', userId: `u-${name}`, username: name, roles: ['admin'] });
const A = admin('alice');
const B = admin('bob');
const PASSWORD = 'platform-secret-42';

const body = (over: Record<string, unknown> = {}) => ({
  kind: 'gb28181',
  name: 'city',
  serverId: '34020000002000000001',
  serverDomain: '3402000000',
  host: '127.0.0.1',
  port: 9, // discard: nothing answers, the link just keeps trying
  transport: 'udp',
  deviceId: '34020000001180000001',
  password: PASSWORD,
  cameraIds: 'all',
  keepaliveSeconds: 60,
  registerExpiresSeconds: 3600,
  ...over,
});

let store: SqliteStore;
let service: Gb28181Service;
let changes: PendingChanges;
let managed: ManagedPlatforms;
const box = new TextBox(randomBytes(32), 'platform passwords');

beforeEach(async () => {
  store = new SqliteStore(':memory:');
  await store.migrate();
  const logger = createLogger({ level: 'silent' });
  service = await startGb28181(
    { sipHost: '127.0.0.1', sipPort: 0, platforms: [] },
    {
      cameras: async () => [],
      online: () => false,
      incidents: { fire: () => false, resolve: () => false, onChange: () => () => undefined },
      logger,
    },
  );
  changes = new PendingChanges({ store, profile: PROFILES.strict });
  managed = new ManagedPlatforms({
    store,
    box,
    service,
    changes,
    cameraIds: async () => ['44030500001320000001'],
    configNames: ['fromfile'],
    logger,
  });
});
afterEach(async () => {
  await service.close();
  await store.close();
});

async function refusal(work: Promise<unknown>): Promise<GatewayError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe('GB/T 28181 platforms through the API', () => {
  it.each([
    [{ serverId: '3402000000200000001' }, /serverId must be the platform's 20-digit SIP server ID/],
    [{ deviceId: 'abc' }, /deviceId must be the gateway's 20-digit ID/],
    [{ serverDomain: '4402000000' }, /serverDomain must be the first 10 digits of serverId \(3402000000\)/],
    [{ serverDomain: '34020' }, /serverDomain must be the 10-digit SIP domain/],
    [{ port: 70000 }, /port/],
    [{ transport: 'sctp' }, /transport/],
    [{ password: '' }, /password is required/],
    [{ name: 'a b' }, /name use letters, digits/],
    [{ cameraIds: ['44030500001320000001', '44030500001320000099'] }, /unknown cameras 44030500001320000099/],
    [{ color: 'red' }, /unknown field "color"/],
  ])('refuses %j with a clear error', async (over, message) => {
    const err = await refusal(managed.add(A, body(over)));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.message).toMatch(message);
    expect(await store.platforms.list()).toEqual([]);
  });

  it('refuses a name already used, in the config file or through the API', async () => {
    expect((await refusal(managed.add(A, body({ name: 'fromfile' })))).message).toMatch(/fromfile already exists \(in the config file\)/);
    await managed.add(A, body());
    const again = await refusal(managed.add(A, body()));
    expect(again.code).toBe('PLATFORM_EXISTS');
    expect(again.httpStatus).toBe(409);
  });

  it('stores the password sealed and waits for a second admin before linking', async () => {
    const { platform, change } = await managed.add(A, body());
    expect(platform).toMatchObject({ id: 'city', state: 'pending', registered: false, pendingChangeId: change.id });
    expect(JSON.stringify(platform)).not.toContain(PASSWORD);
    expect(change).toMatchObject({ kind: 'platform.add', subject: 'city', state: 'pending' });
    expect(JSON.stringify(change)).not.toContain(PASSWORD);
    const row = await store.platforms.get('city');
    expect(row?.passwordBox).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
    expect(box.open(row!.passwordBox)).toBe(PASSWORD);
    expect(service.list()).toEqual([]);
    expect(JSON.stringify(await store.audit.list())).not.toContain(PASSWORD);

    // The proposer cannot approve; a second admin does, and the link starts at once.
    await expect(changes.approve(A, change.id, {})).rejects.toThrow(/Four-eyes rule/);
    await changes.approve(B, change.id, {});
    expect(service.get('city')).toMatchObject({ id: 'city', state: expect.stringMatching(/connecting|offline/) });
    expect((await store.platforms.get('city'))?.state).toBe('active');
    expect((await managed.get('city'))?.id).toBe('city');

    // A restart links the stored platform again with its sealed password.
    const restarted = await startGb28181(
      { sipHost: '127.0.0.1', sipPort: 0, platforms: [] },
      {
        cameras: async () => [],
        online: () => false,
        incidents: { fire: () => false, resolve: () => false, onChange: () => () => undefined },
        logger: createLogger({ level: 'silent' }),
      },
    );
    const again = new ManagedPlatforms({
      store,
      box,
      service: restarted,
      changes: new PendingChanges({ store, profile: PROFILES.strict }),
      cameraIds: async () => [],
      configNames: [],
      logger: createLogger({ level: 'silent' }),
    });
    await again.start();
    expect((await again.list()).map((p) => p.id)).toEqual(['city']);
    await again.remove(A, 'city');
    expect(await store.platforms.get('city')).toBeUndefined();
    await restarted.close();
  });

  it('removes a linked platform and withdraws a pending one from its approval', async () => {
    const { change } = await managed.add(A, body());
    await changes.approve(B, change.id, {});
    await managed.remove(A, 'city');
    expect(service.get('city')).toBeUndefined();
    expect(await managed.get('city')).toBeUndefined();

    const second = await managed.add(A, body({ name: 'other' }));
    await managed.remove(B, 'other');
    expect((await changes.get(second.change.id)).state).toBe('superseded');
    expect(await managed.list()).toEqual([]);
    const audit = (await store.audit.list()).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['platform.add', 'platform.remove']));

    expect((await refusal(managed.remove(A, 'fromfile'))).message).toMatch(/comes from the config file/);
    expect((await refusal(managed.remove(A, 'nope'))).code).toBe('NOT_FOUND');
  });

  it('narrows the shared cameras or changes the keepalive of an approved platform, and refuses sharing more', async () => {
    const cams = ['44030500001320000001', '44030500001320000002'];
    const m = new ManagedPlatforms({
      store,
      box,
      service,
      changes,
      cameraIds: async () => cams,
      configNames: ['fromfile'],
      logger: createLogger({ level: 'silent' }),
    });
    const { change } = await m.add(A, body({ cameraIds: cams }));
    expect((await refusal(m.update(A, 'city', { keepaliveSeconds: 30 }))).message).toMatch(/still waits for its approval/);
    await changes.approve(B, change.id, {});

    const narrowed = await m.update(A, 'city', { cameraIds: [cams[0]], keepaliveSeconds: 30 });
    expect(narrowed).toMatchObject({ id: 'city', cameraIds: [cams[0]], keepaliveSeconds: 30 });
    expect(service.get('city')).toMatchObject({ cameraIds: [cams[0]], keepaliveSeconds: 30 });
    expect((await store.platforms.get('city'))?.settings).toMatchObject({ cameraIds: [cams[0]], keepaliveSeconds: 30 });
    // The password survives the link's restart, sealed as before.
    expect(box.open((await store.platforms.get('city'))!.passwordBox)).toBe(PASSWORD);

    expect((await refusal(m.update(A, 'city', { cameraIds: cams }))).message).toMatch(
      /sharing more cameras with platform city \(44030500001320000002\) needs a second admin/,
    );
    expect((await refusal(m.update(A, 'city', { cameraIds: 'all' }))).message).toMatch(/needs a second admin/);
    expect((await refusal(m.update(A, 'city', { host: '10.0.0.9' }))).message).toMatch(/unknown field "host"/);
    expect((await refusal(m.update(A, 'city', { keepaliveSeconds: 0 }))).message).toMatch(/keepaliveSeconds/);
    expect((await refusal(m.update(A, 'fromfile', { keepaliveSeconds: 30 }))).message).toMatch(/comes from the config file/);
    expect(service.get('city')).toMatchObject({ cameraIds: [cams[0]], keepaliveSeconds: 30 });
    expect((await store.audit.list()).map((e) => e.action)).toContain('platform.update');
  });

  it('sync (cluster mode) links platforms approved elsewhere, follows changes made elsewhere, drops those removed elsewhere', async () => {
    // Another node's work is the store's rows: approved (active), then changed, then deleted.
    await managed.add(A, body());
    await store.platforms.update('city', { state: 'active' });
    await managed.sync();
    expect(service.get('city')).toMatchObject({ keepaliveSeconds: 60 });
    const stored = (await store.platforms.get('city'))?.settings as Record<string, unknown>;
    await store.platforms.update('city', { settings: { ...stored, keepaliveSeconds: 30 } });
    await managed.sync();
    expect(service.get('city')).toMatchObject({ keepaliveSeconds: 30 });
    await store.platforms.delete('city');
    await managed.sync();
    expect(service.get('city')).toBeUndefined();
  });

  it('sync leaves linked a platform this node is approving (linked, its row still pending)', async () => {
    await managed.add(A, body());
    const { kind: _kind, ...cfg } = body();
    await service.add(cfg as unknown as PlatformLinkConfig);
    await managed.sync();
    expect(service.get('city')).toBeDefined();
  });
});
