import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RetentionSweeper } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

describe('stored bytes kept by the chain ledger', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await recordingFixture();
  });
  afterEach(async () => f.cleanup());

  it('sums the table once, then follows every segment and deletion without reading it again', async () => {
    for (let day = 40; day > 20; day -= 1) await f.segment(day);
    let sums = 0;
    const sum = f.store.recordings.storedBytes.bind(f.store.recordings);
    f.store.recordings.storedBytes = async () => {
      sums += 1;
      return sum();
    };
    const first = await f.ledger.storedBytes();
    expect(first).toBe(await sum());
    for (let day = 20; day > 0; day -= 1) await f.segment(day);
    const policy = { rule: () => ({ days: 30, profile: 'strict', rule: 'profile' as const, article: null }), holdRetentionDays: 731 };
    const sweeper = new RetentionSweeper({
      store: f.store,
      ledger: f.ledger,
      dir: f.dir,
      policy,
      logger: f.logger,
      clock: () => f.clock.now,
    });
    expect((await sweeper.sweepOnce()).deleted).toHaveLength(11);
    for (let i = 0; i < 100; i++) await f.ledger.storedBytes();
    expect(await f.ledger.storedBytes()).toBe(await sum());
    expect(sums).toBe(1);
  });
});
