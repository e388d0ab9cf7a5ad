import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../src/domain/index.js';
import { ChainLedger, EvidenceHolds, HolderSweep, RetentionSweeper, filesToRemove, segmentFile } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

const entry = (seq: number, change: Partial<ChainEntry>): ChainEntry =>
  ({ cameraId: 'c', seq, kind: 'segment', path: `c/${seq}.ts`, deletedAt: null, node: 'ra', ...change }) as ChainEntry;

describe('files a holder removes (pure selection)', () => {
  it('takes the deleted segments this node wrote, nothing else', () => {
    const entries = [
      entry(1, { deletedAt: '2026-12-01T00:00:00.000Z' }),
      entry(2, {}),
      entry(3, { deletedAt: '2026-12-01T00:00:00.000Z', node: 'rb' }),
      entry(4, { kind: 'deletion', deletedAt: null }),
      entry(5, { deletedAt: '2026-12-01T00:00:00.000Z', node: undefined }),
      entry(6, { deletedAt: '2026-12-01T00:00:00.000Z' }),
    ];
    expect(filesToRemove(entries, 'ra').map((e) => e.seq)).toEqual([1, 6]);
    expect(filesToRemove(entries, 'rb').map((e) => e.seq)).toEqual([3]);
  });

  it('keeps removal inside the recordings directory', () => {
    expect(segmentFile('/rec', 'cam/2026-12-01/00-00-00.ts')).toBe('/rec/cam/2026-12-01/00-00-00.ts');
    expect(segmentFile('/rec', '../etc/passwd')).toBeNull();
    expect(segmentFile('/rec', 'cam/../../etc/passwd')).toBeNull();
    expect(segmentFile('/rec', '/etc/passwd')).toBeNull();
    expect(segmentFile('/rec', '')).toBeNull();
  });
});

describe('holder sweep: node A removes the files of its segments that node B deleted', () => {
  let f: Fixture;
  /** B's ledger and recordings directory: it owns the camera now and chains the deletions. */
  let onB: RetentionSweeper;
  beforeEach(async () => {
    f = await recordingFixture();
    f.ledger.writeAs('ra');
    const ledgerB = new ChainLedger(f.store, f.signer, f.logger, () => f.clock.now);
    ledgerB.writeAs('rb');
    const policy = { rule: () => ({ days: 30, profile: 'strict', rule: 'profile' as const, article: null }), holdRetentionDays: null };
    onB = new RetentionSweeper({
      store: f.store,
      ledger: ledgerB,
      dir: join(f.root, 'recordings-b'),
      policy,
      logger: f.logger,
      clock: () => f.clock.now,
    });
  });
  afterEach(async () => f.cleanup());

  const holderA = (batch?: number) =>
    new HolderSweep({ store: f.store, dir: f.dir, node: 'ra', logger: f.logger, clock: () => f.clock.now, ...(batch ? { batch } : {}) });

  it('removes them in one pass however many batches, idempotently; a held segment is not deleted, so its file stays', async () => {
    const written: ChainEntry[] = [];
    for (let day = 40; day > 33; day -= 1) written.push(await f.segment(day));
    const held = written[3]!;
    await new EvidenceHolds(f.store, () => f.clock.now).create(
      { cameraIds: [f.cam.id], from: held.startMs, to: held.endMs, reason: 'case 7' },
      'admin',
    );
    const swept = await onB.sweepOnce();
    expect(swept.deleted).toHaveLength(6);
    // B's sweep chained them; their files are still on A's disk.
    expect(written.every((s) => existsSync(join(f.dir, s.path)))).toBe(true);
    expect((await f.store.recordings.pendingFileRemovals('ra', 100)).map((e) => e.seq)).toEqual(
      written.filter((s) => s !== held).map((s) => s.seq),
    );

    expect(await holderA(2).sweepOnce()).toEqual({ removed: 6, failed: 0 });
    expect(written.filter((s) => existsSync(join(f.dir, s.path))).map((s) => s.seq)).toEqual([held.seq]);
    expect(await f.store.recordings.pendingFileRemovals('ra', 100)).toEqual([]);
    expect(await holderA().sweepOnce()).toEqual({ removed: 0, failed: 0 });
    // Nothing left that verify would call unexpected, nothing missing.
    const report = await f.verify();
    expect(report.findings.filter((x) => x.kind === 'unexpected' || x.kind === 'missing')).toEqual([]);
  });

  it('leaves a file it cannot remove pending, removes the rest, and removes it on a later pass', async () => {
    const written: ChainEntry[] = [];
    for (let day = 40; day > 36; day -= 1) written.push(await f.segment(day));
    await onB.sweepOnce();
    // A directory where the first file was: rm refuses it.
    const stuck = join(f.dir, written[0]!.path);
    rmSync(stuck);
    mkdirSync(join(stuck, 'inside'), { recursive: true });
    expect(await holderA(1).sweepOnce()).toEqual({ removed: 3, failed: 1 });
    expect((await f.store.recordings.pendingFileRemovals('ra', 100)).map((e) => e.seq)).toEqual([written[0]!.seq]);
    rmSync(stuck, { recursive: true });
    expect(await holderA().sweepOnce()).toEqual({ removed: 1, failed: 0 });
  });

  it("runs after each sweep of the node's own sweeper, which reports what it removed", async () => {
    const written: ChainEntry[] = [];
    for (let day = 40; day > 37; day -= 1) written.push(await f.segment(day));
    const onA = new RetentionSweeper({
      store: f.store,
      ledger: f.ledger,
      dir: f.dir,
      policy: { rule: () => ({ days: 30, profile: 'strict', rule: 'profile' as const, article: null }), holdRetentionDays: null },
      logger: f.logger,
      clock: () => f.clock.now,
      holder: holderA(),
    });
    await onB.sweepOnce();
    const result = await onA.sweepOnce();
    expect(result.removedHere).toBe(3);
    expect(written.some((s) => existsSync(join(f.dir, s.path)))).toBe(false);
  });
});
