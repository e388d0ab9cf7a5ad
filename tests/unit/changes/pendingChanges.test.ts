import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPROVED_CONFIG_SETTING,
  CONFIG_FILE_PROPOSER,
  FourEyes,
  guardConfig,
  PendingChanges,
  registerConfigAppliers,
} from '../../../src/changes/index.js';
import { GatewayConfigSchema, PROFILES, type GatewayConfigInput } from '../../../src/config/index.js';
import type { Principal } from '../../../src/domain/index.js';
import { createLogger } from '../../../src/log.js';
import { EvidenceHolds } from '../../../src/recording/holds.js';
import { SqliteStore } from '../../../src/store/index.js';

const admin = (name: string): Principal => ({ kind: 'user', userId: `u-${name}`, username: name, roles: ['admin'] });
const A = admin('alice');
const B = admin('bob');
const TARGET = 'rtmp://platform.example/live/SECRETKEY123?sign=abc';

let store: SqliteStore;
let now: number;
let logLines: string[];
let changes: PendingChanges;

const logger = () =>
  createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  });
const config = (input: GatewayConfigInput = {}) => GatewayConfigSchema.parse(input);
const start = (input: GatewayConfigInput = {}) => guardConfig(config(input), store, changes, logger());
const actions = async () => (await store.audit.list()).map((e) => `${e.actor}:${e.action}:${e.outcome}`);

beforeEach(async () => {
  store = new SqliteStore(':memory:');
  await store.migrate();
  now = Date.parse('2026-06-01T08:00:00Z');
  logLines = [];
  changes = new PendingChanges({ store, profile: PROFILES.strict, pendingDays: 7, now: () => now });
  registerConfigAppliers(changes, store);
});
afterEach(async () => {
  await store.close();
});

describe('the config guard', () => {
  it('records the first start as approved, then keeps the approved retention when the file lowers it and files it as pending', async () => {
    expect((await start({ recording: { retentionDays: 60 } })).recording.retentionDays).toBe(60);
    expect(JSON.parse((await store.settings.get(APPROVED_CONFIG_SETTING))!)).toMatchObject({ retention: { default: 60 } });

    const effective = await start({ recording: { retentionDays: 40 } });
    expect(effective.recording.retentionDays).toBe(60);
    const [pending] = await changes.list({ state: 'pending' });
    expect(pending).toMatchObject({
      kind: 'config.retention',
      subject: 'default',
      current: 60,
      proposed: 40,
      proposedBy: CONFIG_FILE_PROPOSER,
    });
    expect(logLines.join('')).toContain('the config weakens protection');

    // The same file again files nothing new.
    await start({ recording: { retentionDays: 40 } });
    expect(await changes.list({ state: 'pending' })).toHaveLength(1);

    // A second admin approves: the next start runs with the lower retention.
    await changes.approve(B, pending!.id, { reason: 'the unit moved to the hubei rules for this site' });
    expect((await start({ recording: { retentionDays: 40 } })).recording.retentionDays).toBe(40);
    expect(await changes.list({ state: 'pending' })).toHaveLength(0);
    expect(await actions()).toEqual(
      expect.arrayContaining([
        'config file:pending_change.propose:ok',
        'bob:pending_change.approve:ok',
        'config file:config.approved_values:ok',
      ]),
    );
  });

  it('applies a longer retention at once, and holds back another profile and a new push target', async () => {
    await start({ recording: { retentionDays: 30 } });
    const effective = await start({ profile: 'hubei', recording: { retentionDays: 90 }, platform: { pushTargets: [TARGET] } });
    expect(effective.recording.retentionDays).toBe(90);
    expect(effective.profile).toBe('strict');
    expect(effective.platform.pushTargets).toEqual([]);
    const pending = await changes.list({ state: 'pending' });
    expect(pending.map((c) => c.kind).sort()).toEqual(['config.profile', 'config.pushTarget']);
    // The stream key never reaches the store's pending change or the log.
    expect(JSON.stringify(pending)).not.toContain('SECRETKEY123');
    expect(logLines.join('')).not.toContain('SECRETKEY123');

    // Going back to the approved profile makes its pending change moot.
    await start({ recording: { retentionDays: 90 }, platform: { pushTargets: [TARGET] } });
    expect((await changes.list({ state: 'pending' })).map((c) => c.kind)).toEqual(['config.pushTarget']);
    const target = (await changes.list({ state: 'pending' }))[0]!;
    await changes.approve(A, target.id, {});
    expect((await start({ recording: { retentionDays: 90 }, platform: { pushTargets: [TARGET] } })).platform.pushTargets).toEqual([TARGET]);
  });

  it('holds back a lower retention of one camera', async () => {
    await start({ recording: { perCamera: [{ cameraId: 'cam-1', retentionDays: 90 }] } });
    const effective = await start({ recording: { perCamera: [{ cameraId: 'cam-1', retentionDays: 45 }] } });
    expect(effective.recording.perCamera).toEqual([{ cameraId: 'cam-1', retentionDays: 90 }]);
    expect((await changes.list({ state: 'pending' }))[0]).toMatchObject({ subject: 'cam-1', current: 90, proposed: 45 });
  });
});

describe('pending changes', () => {
  const hold = async () => {
    const holds = new EvidenceHolds(store, () => now);
    // Placed straight in the store: placing checks the camera, which is not what this test is about.
    const h = await store.recordings.createHold({
      cameraIds: ['cam-1'],
      startMs: now - 3600_000,
      endMs: now,
      reason: 'case 2026-7',
      createdBy: 'alice',
      createdAt: new Date(now).toISOString(),
    });
    return { holds, h };
  };

  it('a hold lift waits: the proposer cannot approve it (four eyes), a second admin can, and then it is lifted', async () => {
    const { holds, h } = await hold();
    const cameras = { get: () => Promise.reject(new Error('unused')), update: () => Promise.reject(new Error('unused')) };
    const fourEyes = new FourEyes(changes, cameras, holds);
    const change = await fourEyes.holdLift(A, h.id, { reason: 'case closed' });
    expect(change).toMatchObject({ kind: 'hold.lift', state: 'pending', proposedBy: { username: 'alice' } });
    expect((await holds.list())[0]!.liftedAt).toBeNull();

    await expect(changes.approve(A, change.id, {})).rejects.toThrow(/Four-eyes rule/);
    await expect(changes.reject(B, change.id, {})).rejects.toThrow(/reason/);
    const approved = await changes.approve(B, change.id, { reason: 'checked with the case file' });
    expect(approved).toMatchObject({ state: 'approved', decidedBy: 'bob', decisionReason: 'checked with the case file' });
    expect((await holds.list())[0]).toMatchObject({ liftedBy: 'alice', liftReason: 'case closed' });
    await expect(changes.approve(B, change.id, {})).rejects.toThrow(/is approved, not pending/);
    expect(await actions()).toEqual(
      expect.arrayContaining([
        'alice:pending_change.propose:ok',
        'alice:pending_change.approve:refused',
        'bob:pending_change.approve:ok',
        'alice:hold.lift:ok',
      ]),
    );
  });

  it('only its proposer withdraws a change; an undecided one expires after the configured days', async () => {
    const { holds, h } = await hold();
    const cameras = { get: () => Promise.reject(new Error('unused')), update: () => Promise.reject(new Error('unused')) };
    const fourEyes = new FourEyes(changes, cameras, holds);
    const first = await fourEyes.holdLift(A, h.id, { reason: 'case closed' });
    await expect(changes.withdraw(B, first.id, {})).rejects.toThrow(/Only its proposer/);
    expect(await changes.withdraw(A, first.id, { reason: 'wrong hold' })).toMatchObject({ state: 'withdrawn' });

    const second = await fourEyes.holdLift(A, h.id, { reason: 'case closed' });
    now += 7 * 86400_000 + 1;
    expect(await changes.get(second.id)).toMatchObject({ state: 'expired', decidedBy: 'system' });
    await expect(changes.approve(B, second.id, {})).rejects.toThrow(/is expired, not pending/);
    expect((await holds.list())[0]!.liftedAt).toBeNull();
    expect(await actions()).toEqual(expect.arrayContaining(['alice:pending_change.withdraw:ok', 'system:pending_change.expire:ok']));
  });
});
