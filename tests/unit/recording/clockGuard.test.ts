import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentBoard } from '../../../src/health/index.js';
import { CLOCK_JUMP, ClockGuard, DAY_MS, RetentionSweeper, type ClockSyncState } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

const TOLERANCE_MS = 5 * 60_000;
const SWEEP_MS = 10 * 60_000;
const retention = { days: 30, profile: 'strict', rule: 'profile' as const, article: null };

/**
 * The real sweeper on real files and a real SQLite store; the wall clock (what the
 * sweeper and the ledger read) and the monotonic clock are the test's to move.
 */
describe('the sweeper deletes only while the clock is trusted', () => {
  let f: Fixture;
  let mono: number;
  let ntp: ClockSyncState;
  let incidents: IncidentBoard;
  let guard: ClockGuard;
  let sweeper: RetentionSweeper;

  beforeEach(async () => {
    f = await recordingFixture();
    mono = 1_000;
    ntp = 'unknown';
    incidents = new IncidentBoard(f.logger);
    guard = new ClockGuard({
      toleranceMs: TOLERANCE_MS,
      logger: f.logger,
      incidents,
      ntpState: () => Promise.resolve(ntp),
      wall: () => f.clock.now,
      mono: () => mono,
    });
    const policy = { rule: () => retention, holdRetentionDays: 731 };
    sweeper = new RetentionSweeper({
      store: f.store,
      ledger: f.ledger,
      dir: f.dir,
      policy,
      logger: f.logger,
      clock: () => f.clock.now,
      clockGuard: guard,
    });
  });
  afterEach(async () => f.cleanup());

  /** Both clocks advance together by `ms`: time passes normally. */
  const pass = (ms: number) => {
    f.clock.now += ms;
    mono += ms;
  };
  const exists = (path: string) => existsSync(join(f.dir, path));

  it('a wall clock moved 60 days forward deletes nothing inside retention and fires clock_jump', async () => {
    const young = await f.segment(2, 60, { retention });
    const older = await f.segment(25, 60, { retention });
    expect((await sweeper.sweepOnce()).deleted).toEqual([]);

    pass(SWEEP_MS);
    f.clock.now += 60 * DAY_MS; // the jump: the wall clock only
    const swept = await sweeper.sweepOnce();
    expect(swept.deleted).toEqual([]);
    expect(swept.paused).toMatch(/jumped 60\.0 days ahead/);
    for (const kept of [young, older]) expect(exists(kept.path)).toBe(true);
    expect((await f.store.recordings.entries({ cameraId: f.cam.id })).map((e) => e.kind)).toEqual(['segment', 'segment']);
    expect(incidents.active({ kind: CLOCK_JUMP })).toEqual([
      expect.objectContaining({ cameraId: null, kind: CLOCK_JUMP, severity: 'critical', details: { aheadMs: 60 * DAY_MS } }),
    ]);
    expect(guard.paused).toBe(true);

    // A deletion request in the meantime is refused too, and audited.
    await expect(sweeper.deleteRange(f.cam.id, older.startMs, older.endMs, 'admin')).rejects.toMatchObject({ code: 'RETENTION_LOCKED' });
    expect(exists(older.path)).toBe(true);

    // Later sweeps stay paused: the jump does not become the new normal on its own.
    pass(SWEEP_MS);
    expect((await sweeper.sweepOnce()).deleted).toEqual([]);
    expect(incidents.isFiring(null, CLOCK_JUMP)).toBe(true);
  });

  it('resumes when the clock comes back, and after an operator confirms a jump (audited)', async () => {
    const older = await f.segment(25, 60, { retention });
    await sweeper.sweepOnce();

    pass(SWEEP_MS);
    f.clock.now += 60 * DAY_MS;
    expect((await sweeper.sweepOnce()).paused).toBeDefined();
    // The clock is set right again: the clocks agree, the incident resolves.
    f.clock.now -= 60 * DAY_MS;
    pass(SWEEP_MS);
    expect((await sweeper.sweepOnce()).paused).toBeUndefined();
    expect(incidents.isFiring(null, CLOCK_JUMP)).toBe(false);
    expect(guard.paused).toBe(false);
    expect(exists(older.path)).toBe(true);

    // A real jump of 10 days that the operator confirms as the right time.
    f.clock.now += 10 * DAY_MS;
    pass(SWEEP_MS);
    expect((await sweeper.sweepOnce()).paused).toBeDefined();
    expect(await sweeper.confirmClock('admin')).toEqual({ jumpMs: 10 * DAY_MS });
    expect(incidents.isFiring(null, CLOCK_JUMP)).toBe(false);
    expect((await f.store.audit.list())[0]).toMatchObject({ action: 'recordings.clock.confirm', actor: 'admin', outcome: 'ok' });
    pass(SWEEP_MS);
    expect((await sweeper.sweepOnce()).deleted.map((s) => s.seq)).toEqual([older.seq]);
  });

  it('follows slow drift within the tolerance, and a clock that went back is not a jump', async () => {
    const older = await f.segment(29.9, 60, { retention });
    await sweeper.sweepOnce();
    for (let i = 0; i < 5; i += 1) {
      pass(SWEEP_MS);
      f.clock.now += TOLERANCE_MS - 1000; // each sweep a little ahead, never beyond the tolerance since the last
      expect((await sweeper.sweepOnce()).paused).toBeUndefined();
    }
    f.clock.now -= 3 * DAY_MS;
    pass(SWEEP_MS);
    expect((await sweeper.sweepOnce()).paused).toBeUndefined();
    expect(incidents.isFiring(null, CLOCK_JUMP)).toBe(false);
    expect(exists(older.path)).toBe(true);
  });

  it('pauses while NTP reports the clock unsynchronised; unknown NTP state leaves it to the monotonic check', async () => {
    const old = await f.segment(40, 60, { retention });
    ntp = 'unsynchronized';
    const swept = await sweeper.sweepOnce();
    expect(swept).toMatchObject({ deleted: [], paused: expect.stringMatching(/unsynchronised/) });
    expect(guard.paused).toBe(true);
    ntp = 'unknown';
    pass(SWEEP_MS);
    expect((await sweeper.sweepOnce()).deleted.map((s) => s.seq)).toEqual([old.seq]);
    expect(guard.paused).toBe(false);
  });
});
