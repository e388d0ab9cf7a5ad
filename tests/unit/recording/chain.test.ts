import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkChain, entryHash } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

describe('per-camera hash chain', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await recordingFixture();
  });
  afterEach(async () => f.cleanup());

  const entries = () => f.store.recordings.entries({ cameraId: f.cam.id });
  const verify = () => f.verify();

  it('links each entry to the previous one and recomputes every hash', async () => {
    for (const days of [3, 2, 1]) await f.segment(days);
    const chain = await entries();
    expect(chain.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(chain[1]?.prevHash).toBe(chain[0]?.entryHash);
    expect(chain.every((e) => entryHash(e) === e.entryHash)).toBe(true);
    expect(checkChain(chain)).toEqual([]);
  });

  it('names an edited entry, a removed entry and entries out of time order', async () => {
    for (const days of [3, 2, 1]) await f.segment(days);
    const chain = await entries();
    const edited = chain.map((e) => (e.seq === 2 ? { ...e, bytes: e.bytes + 1 } : e));
    expect(checkChain(edited).map((p) => [p.kind, p.seq])).toEqual([['index_tampered', 2]]);
    const holed = chain.filter((e) => e.seq !== 2);
    expect(checkChain(holed).map((p) => [p.kind, p.seq])).toEqual([['chain_broken', 3]]);
    const late = await f.segment(5); // indexed after a newer segment
    expect(checkChain([...chain, late]).map((p) => [p.kind, p.seq])).toEqual([['reordered', 4]]);
  });

  it('catches a chain cut short after a signed checkpoint, and a forged checkpoint', async () => {
    for (const days of [3, 2, 1]) await f.segment(days);
    await f.ledger.checkpointAll();
    expect((await verify()).ok).toBe(true);
    const db = new Database(join(f.root, 'psvgw.db'));
    db.prepare('DELETE FROM recording_entries WHERE seq = 3').run();
    db.prepare("UPDATE recording_checkpoints SET signed_at = '2020-01-01T00:00:00.000Z' WHERE seq = 3").run();
    const extra = db.prepare('SELECT COUNT(*) AS n FROM recording_checkpoints').get() as { n: number };
    db.close();
    expect(extra.n).toBe(1);
    const report = await verify();
    expect(report.ok).toBe(false);
    // The edited checkpoint no longer verifies: its signature covered the original time.
    expect(report.findings.map((x) => x.kind)).toEqual(['checkpoint_invalid', 'unexpected']);
  });

  it('reports truncation when the chain ends before its newest checkpoint', async () => {
    for (const days of [3, 2, 1]) await f.segment(days);
    await f.ledger.checkpointAll();
    const db = new Database(join(f.root, 'psvgw.db'));
    db.prepare('DELETE FROM recording_entries WHERE seq = 3').run();
    db.close();
    const report = await verify();
    expect(report.findings.map((x) => [x.kind, x.seq])).toEqual([
      ['truncated', 3],
      ['unexpected', null],
    ]);
  });
  it('does not report a segment the recorder moved into place and indexed while verify ran', async () => {
    for (const days of [3, 2]) await f.segment(days);
    await f.ledger.checkpointAll();
    // The recorder renames a finished segment into place, then indexes it: here, just after verify read the index.
    let first = true;
    const recordings = Object.create(f.store.recordings, {
      entries: {
        value: async (q: Parameters<typeof f.store.recordings.entries>[0]) => {
          const rows = await f.store.recordings.entries(q);
          if (first) {
            first = false;
            await f.segment(1);
          }
          return rows;
        },
      },
    }) as typeof f.store.recordings;
    const report = await f.verify({ store: Object.create(f.store, { recordings: { value: recordings } }) as typeof f.store });
    expect(report.findings).toEqual([]);
  });
});
