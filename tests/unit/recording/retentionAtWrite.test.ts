import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayConfigSchema, PROFILES, type ProfileName } from '../../../src/config/index.js';
import { DAY_MS, RetentionSweeper, retentionPolicy } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

/** The retention a gateway under this profile (and config) applies, as RecordingSystem builds it. */
const policyOf = (profile: ProfileName, recording: Record<string, unknown> = {}) =>
  retentionPolicy(GatewayConfigSchema.parse({ profile, recording }).recording, PROFILES[profile]);

describe('retention fixed when a segment is written (real SQLite store and files, injected clock)', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await recordingFixture();
  });
  afterEach(async () => f.cleanup());

  const sweeperUnder = (profile: ProfileName) =>
    new RetentionSweeper({
      store: f.store,
      ledger: f.ledger,
      dir: f.dir,
      policy: policyOf(profile),
      logger: f.logger,
      clock: () => f.clock.now,
    });
  /** A segment ending `daysAgo` days ago, indexed with the rule the profile gives it now (as the recorder does). */
  const recordUnder = (profile: ProfileName, daysAgo: number) => f.segment(daysAgo, 60, { retention: policyOf(profile).rule(f.cam.id) });
  const exists = (path: string) => existsSync(join(f.dir, path));

  it('names the profile, the rule and the article in what each profile, config and per-camera setting gives', () => {
    expect(policyOf('strict').rule(f.cam.id)).toEqual({
      days: 30,
      profile: 'strict',
      rule: 'profile',
      article: PROFILES.strict.retentionDays.source,
    });
    expect(policyOf('hubei', { retentionDays: 20 }).rule(f.cam.id)).toEqual({
      days: 20,
      profile: 'hubei',
      rule: 'config',
      article: 'hubei-2013 Art. 17(6)',
    });
    expect(policyOf('hubei', { perCamera: [{ cameraId: f.cam.id, retentionDays: 90 }] }).rule(f.cam.id)).toMatchObject({
      days: 90,
      rule: 'perCamera',
    });
    // guangdong sets no minimum: the gateway's own 30 days, citing nothing.
    expect(policyOf('guangdong').rule(f.cam.id)).toEqual({ days: 30, profile: 'guangdong', rule: 'fallback', article: null });
  });

  it('switching from strict (30 days) to hubei (15) deletes nothing recorded under strict before its 30 days', async () => {
    const strict20 = await recordUnder('strict', 20);
    const strict29 = await recordUnder('strict', 29);
    const strict31 = await recordUnder('strict', 31);
    const hubei20 = await recordUnder('hubei', 19);
    expect(strict20.detail.retention).toMatchObject({ days: 30, profile: 'strict' });

    const result = await sweeperUnder('hubei').sweepOnce();
    // Only what is past its own 30 days, and what hubei's 15 days let go that was recorded under hubei.
    expect(result.deleted.map((s) => s.seq).sort()).toEqual([strict31.seq, hubei20.seq].sort());
    for (const kept of [strict20, strict29]) expect(exists(kept.path)).toBe(true);
    expect(exists(strict31.path)).toBe(false);

    // Each deletion names the rule that allowed it.
    const deletions = (await f.store.recordings.entries({ cameraId: f.cam.id })).filter((e) => e.kind === 'deletion');
    const ofStrict31 = deletions.find((d) => d.detail.deletedSeq === strict31.seq);
    expect(ofStrict31?.detail).toEqual({
      deletedSeq: strict31.seq,
      reason: 'retention passed',
      retentionDays: 30,
      keepUntilMs: strict31.endMs + 30 * DAY_MS,
    });

    // The strict footage goes once its own 30 days have passed.
    f.clock.now += 10 * DAY_MS + 3_600_000;
    expect((await sweeperUnder('hubei').sweepOnce()).deleted.map((s) => s.seq)).toEqual([strict20.seq, strict29.seq]);
  });

  it('a longer policy later lengthens retention of footage recorded under a shorter one', async () => {
    const hubei20 = await recordUnder('hubei', 20);
    expect((await sweeperUnder('strict').sweepOnce()).deleted).toEqual([]);
    expect(exists(hubei20.path)).toBe(true);
  });

  it('footage indexed before entries carried their rule falls under the current policy', async () => {
    const legacy = await f.segment(20);
    expect((await sweeperUnder('hubei').sweepOnce()).deleted.map((s) => s.seq)).toEqual([legacy.seq]);
  });

  it('a deletion request is refused for footage recorded under the longer rule', async () => {
    const strict20 = await recordUnder('strict', 20);
    await expect(sweeperUnder('hubei').deleteRange(f.cam.id, strict20.startMs, strict20.endMs, 'admin')).rejects.toMatchObject({
      code: 'RETENTION_LOCKED',
    });
    expect(exists(strict20.path)).toBe(true);
  });
});
