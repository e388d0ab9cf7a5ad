import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccessRegister } from '../../../src/access/index.js';
import { getProfile } from '../../../src/config/index.js';
import { SqliteStore } from '../../../src/store/index.js';
import { accessRequest } from '../store/accessRequestContract.js';

const STAFF = accessRequest('x').staff;

describe('AccessRegister', () => {
  let dir: string;
  let store: SqliteStore;
  let now: number;
  let register: AccessRegister;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psvgw-register-'));
    store = new SqliteStore(join(dir, 'db.sqlite'));
    await store.migrate();
    await store.users.insert({
      id: 'u-1',
      username: 'officer',
      displayName: '张伟',
      unit: '城东派出所',
      credentialNo: 'GA-101',
      roles: ['police'],
      passwordHash: null,
      disabled: false,
      createdAt: '2026-05-01T00:00:00.000Z',
      updatedAt: '2026-05-01T00:00:00.000Z',
    });
    await store.accessRequests.insert(
      accessRequest('req-1', { state: 'approved', decidedBy: 'approver1', filedBy: { userId: 'u-1', username: 'officer' } }),
    );
    now = Date.parse('2026-05-01T10:00:00.000Z');
    register = new AccessRegister({
      store,
      profile: getProfile('guangdong'),
      logger: pino({ level: 'silent' }),
      idleMs: 10_000,
      pushLingerMs: 30_000,
      now: () => now,
    });
  });

  afterEach(async () => {
    await register.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills recorder, retriever, purpose and destination from the user and the request, and audits the row', async () => {
    const row = await register.record({
      method: 'export',
      tier: 'raw',
      username: 'officer',
      requestId: 'req-1',
      cameraIds: ['cam-1'],
      startedAt: '2026-05-01T10:00:00.000Z',
      endedAt: '2026-05-01T10:02:00.000Z',
      footageFrom: '2026-05-01T08:00:00.000Z',
      footageTo: '2026-05-01T08:10:00.000Z',
      bytes: 5000,
      clientAddress: '10.0.0.7',
    });
    expect(row).toMatchObject({
      method: 'export',
      recorder: 'approver1',
      retriever: { username: 'officer', displayName: '张伟', unit: '城东派出所', credentialNo: 'GA-101', staff: STAFF },
      purpose: '盗窃案 2026-118',
      destination: 'viewed on site',
      footageFrom: '2026-05-01T08:00:00.000Z',
      footageTo: '2026-05-01T08:10:00.000Z',
      requestId: 'req-1',
      exemption: null,
    });
    expect(await store.accessRegister.list()).toEqual([row]);
    const [audit] = await store.audit.list({ action: 'register.record' });
    expect(audit).toMatchObject({ actor: 'officer', cameraId: 'cam-1', details: { registerId: row.id, method: 'export', bytes: 5000 } });
    // Credential numbers stay in the register, out of the audit details.
    expect(JSON.stringify(audit?.details)).not.toContain('GA-10');
  });

  it('writes a live play when it ends, with its bytes; a platform push is the gateway registering a play to its target', async () => {
    let sent = 0;
    register.livePlays.started({
      id: 's1',
      cameraId: 'cam-1',
      tier: 'raw',
      protocol: 'ws-flv',
      clientAddress: '10.0.0.8:5000',
      userId: 'u-1',
      requestId: null,
      reader: null,
      bytes: () => sent,
    });
    register.livePlays.started({
      id: 's2',
      cameraId: 'cam-1',
      tier: 'shared',
      protocol: 'rtmp',
      clientAddress: '127.0.0.1:4000',
      userId: null,
      requestId: null,
      reader: 'rtmp://platform.example/live',
      bytes: () => 777,
    });
    sent = 1234;
    const listed = await register.list();
    expect(listed.items).toEqual([]);
    expect(listed.ongoing.map((e) => [e.method, e.bytes, e.ongoing])).toEqual([
      ['view_live', 1234, true],
      ['platform_play', 777, true],
    ]);
    now += 60_000;
    register.livePlays.ended('s1');
    await register.close();
    // Both started at the same instant: listed in the order they were written.
    const rows = (await store.accessRegister.list()).sort((a, b) => b.method.localeCompare(a.method));
    expect(rows.map((r) => [r.method, r.tier, r.recorder, r.bytes, r.destination, r.clientAddress])).toEqual([
      ['view_live', 'raw', 'psv-gateway', 1234, null, '10.0.0.8:5000'],
      ['platform_play', 'shared', 'psv-gateway', 777, 'rtmp://platform.example/live', null],
    ]);
    // Raw footage with no request: the guangdong exemption, by its article.
    expect(rows[0]?.exemption).toMatch(/guangdong-2025 Art\. 22/);
    expect(rows[0]).toMatchObject({ startedAt: '2026-05-01T10:00:00.000Z', endedAt: '2026-05-01T10:01:00.000Z' });
    expect(rows[0]?.footageFrom).toBe(rows[0]?.startedAt);
    expect(rows[1]?.retriever.username).toBeNull();
  });

  it('a push relay that fails and reconnects within the linger time is one retrieval; it ends once it stops reading', async () => {
    const read = (id: string, bytes: number) =>
      register.livePlays.started({
        id,
        cameraId: 'cam-1',
        tier: 'shared',
        protocol: 'rtmp',
        clientAddress: '127.0.0.1:4000',
        userId: null,
        requestId: null,
        reader: 'rtmp://platform.example/live',
        bytes: () => bytes,
      });
    register.start(); // the sweep that ends idle retrievals
    // Three reads of a relay whose target keeps failing, 20 s apart (inside the 30 s linger).
    for (const [i, bytes] of [100, 200, 300].entries()) {
      read(`p${i}`, bytes);
      now += 1_000;
      register.livePlays.ended(`p${i}`);
      // The sweep runs every second on the real clock; the register's own clock (now) says 20 s passed.
      now += 20_000;
    }
    expect(await store.accessRegister.list()).toEqual([]);
    expect((await register.list()).ongoing.map((e) => [e.method, e.bytes])).toEqual([['platform_play', 600]]);
    // No read for longer than the linger time: the push has ended, as one row from the first read to the last.
    now += 30_000;
    await vi.waitFor(async () => expect(await store.accessRegister.list()).toHaveLength(1), { timeout: 5_000, interval: 100 });
    const [row] = await store.accessRegister.list();
    expect(row).toMatchObject({
      method: 'platform_play',
      bytes: 600,
      startedAt: '2026-05-01T10:00:00.000Z',
      endedAt: '2026-05-01T10:00:43.000Z',
      destination: 'rtmp://platform.example/live',
    });
  });

  it('adds up the fetches of one HLS token into one recorded view, ended after the idle time', async () => {
    const view = {
      method: 'view_recorded' as const,
      tier: 'raw' as const,
      userId: 'u-1',
      requestId: 'req-1',
      cameraIds: ['cam-1'],
      startedAt: new Date(now),
      protocol: 'hls',
      clientAddress: '10.0.0.9',
    };
    register.fetched('k', view, 100);
    now += 3000;
    register.fetched('k', { ...view, startedAt: new Date(now) }, 900);
    now += 9000;
    // Not idle long enough yet: still running.
    expect((await register.list()).ongoing).toHaveLength(1);
    now += 2000;
    await new Promise((r) => setTimeout(r, 1100));
    await register.close();
    const rows = await store.accessRegister.list();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      method: 'view_recorded',
      bytes: 1000,
      startedAt: '2026-05-01T10:00:00.000Z',
      endedAt: '2026-05-01T10:00:03.000Z',
      recorder: 'approver1',
    });
  });
});
