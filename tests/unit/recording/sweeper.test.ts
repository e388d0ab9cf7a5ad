import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { DAY_MS, EvidenceHolds, RetentionSweeper } from '../../../src/recording/index.js';
import { NOW, recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

describe('RetentionSweeper on a fake clock', () => {
  let f: Fixture;
  let sweeper: RetentionSweeper;
  let holds: EvidenceHolds;

  beforeEach(async () => {
    f = await recordingFixture();
    const policy = { rule: () => ({ days: 30, profile: 'strict', rule: 'profile' as const, article: null }), holdRetentionDays: 731 };
    sweeper = new RetentionSweeper({ store: f.store, ledger: f.ledger, dir: f.dir, policy, logger: f.logger, clock: () => f.clock.now });
    holds = new EvidenceHolds(f.store, () => f.clock.now);
  });
  afterEach(async () => f.cleanup());

  const exists = (path: string) => existsSync(join(f.dir, path));
  const verify = () => f.verify();

  it('removes footage past retention, keeps everything inside it and held footage for the long retention', async () => {
    const held = await f.segment(45);
    const expired = await f.segment(40);
    const edge = await f.segment(30 - 1 / 24); // one hour inside retention
    const recent = await f.segment(2);
    // The hold was placed 44 days ago, while the footage was still inside retention.
    f.clock.now = NOW - 44 * DAY_MS;
    const hold = await holds.create(
      { cameraIds: [f.cam.id], from: held.startMs, to: held.endMs, reason: 'traffic accident case 118' },
      'admin',
    );
    f.clock.now = NOW;

    const first = await sweeper.sweepOnce();
    expect(first.deleted.map((s) => s.seq)).toEqual([expired.seq]);
    expect(first.held).toBe(1);
    expect(exists(expired.path)).toBe(false);
    for (const kept of [held, edge, recent]) expect(exists(kept.path)).toBe(true);

    // The deletion is a link of the chain: verify finds nothing missing, nothing broken.
    const chain = await f.store.recordings.entries({ cameraId: f.cam.id });
    expect(chain.at(-1)).toMatchObject({
      kind: 'deletion',
      path: expired.path,
      sha256: expired.sha256,
      detail: { deletedSeq: expired.seq },
    });
    await f.ledger.checkpointAll();
    expect((await verify()).findings).toEqual([]);

    // Two hours later the edge segment has passed its 30 days; the held one has not passed its 731.
    f.clock.now = NOW + 2 * 3_600_000;
    expect((await sweeper.sweepOnce()).deleted.map((s) => s.seq)).toEqual([edge.seq]);
    expect(exists(held.path)).toBe(true);

    // 731 days after the hold the held footage goes; a second sweep deletes nothing twice.
    f.clock.now = Date.parse(hold.createdAt) + 731 * DAY_MS + 1;
    const late = await sweeper.sweepOnce();
    expect(late.deleted.map((s) => s.seq)).toEqual([held.seq, recent.seq]);
    expect((await sweeper.sweepOnce()).deleted).toEqual([]);
    expect((await verify()).findings).toEqual([]);
  });

  it('reads only the segments past retention and still stored: a sweep costs the same after months of history', async () => {
    for (let day = 60; day > 0; day -= 0.5) await f.segment(day);
    const rows = { read: 0 };
    const recordings = f.store.recordings as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const name of ['entries', 'liveSegmentsEndingBy']) {
      const original = recordings[name]?.bind(f.store.recordings);
      if (!original) continue;
      recordings[name] = async (...args: unknown[]) => {
        const result = await original(...args);
        rows.read += Array.isArray(result) ? result.length : 0;
        return result;
      };
    }
    const first = await sweeper.sweepOnce();
    // Segments that ended 60 to 30 days ago are past the 30-day retention: 61, each read once.
    expect(first.deleted).toHaveLength(61);
    expect(rows.read).toBe(61);
    rows.read = 0;
    // The deleted rows and those inside retention are not read again.
    expect((await sweeper.sweepOnce()).deleted).toEqual([]);
    expect(rows.read).toBe(0);
  });

  it('lets lifted holds fall back to normal retention', async () => {
    const held = await f.segment(40);
    const hold = await holds.create({ cameraIds: [f.cam.id], from: held.startMs, to: held.endMs, reason: 'held a while' }, 'admin');
    expect((await sweeper.sweepOnce()).deleted).toEqual([]);
    await holds.lift(hold.id, { reason: 'case closed' }, 'admin');
    expect((await sweeper.sweepOnce()).deleted.map((s) => s.seq)).toEqual([held.seq]);
    const actions = (await f.store.audit.list()).map((a) => a.action);
    expect(actions).toEqual(['hold.lift', 'hold.create']);
  });

  it('refuses a deletion request that touches footage inside retention, changing nothing', async () => {
    const old = await f.segment(40);
    const young = await f.segment(5);
    const attempt = sweeper.deleteRange(f.cam.id, old.startMs, young.endMs, 'admin');
    await expect(attempt).rejects.toBeInstanceOf(GatewayError);
    await expect(attempt).rejects.toMatchObject({ code: 'RETENTION_LOCKED' });
    expect(exists(old.path) && exists(young.path)).toBe(true);
    expect((await f.store.recordings.entries({ cameraId: f.cam.id })).map((e) => e.kind)).toEqual(['segment', 'segment']);
    expect((await f.store.audit.list())[0]).toMatchObject({ action: 'recordings.delete', outcome: 'refused' });

    // Past retention the same request deletes, through the chain.
    expect((await sweeper.deleteRange(f.cam.id, old.startMs, old.endMs, 'admin')).map((s) => s.seq)).toEqual([old.seq]);
    expect(exists(old.path)).toBe(false);
  });
});
