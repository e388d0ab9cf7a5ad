import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkChain, segmentRelPath, sha256File } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

describe('chain entries written in one transaction, and recovered segments', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await recordingFixture();
  });
  afterEach(async () => f.cleanup());

  const content = (startMs: number, detail: Record<string, unknown> = {}) => ({
    kind: 'segment' as const,
    path: `${f.cam.id}/x/${startMs}.ts`,
    startMs,
    endMs: startMs + 1000,
    bytes: 1,
    sha256: 'a'.repeat(64),
    partial: false,
    detail,
  });

  it('stores a chain entry together with what is written alongside it, or neither', async () => {
    await f.store.recordings.openGap(f.cam.id, 0, 'gateway_down');
    await expect(
      f.ledger.append(f.cam.id, content(1000), async (tx) => {
        await tx.recordings.closeGap(f.cam.id, 1000);
        throw new Error('disk gone');
      }),
    ).rejects.toThrow('disk gone');
    expect(await f.store.recordings.head(f.cam.id)).toBeUndefined();
    expect((await f.store.recordings.gaps(f.cam.id, 0, 10_000))[0]?.endMs).toBeNull();

    const entry = await f.ledger.append(f.cam.id, content(1000), (tx) => tx.recordings.closeGap(f.cam.id, 1000));
    expect(entry.seq).toBe(1);
    expect((await f.store.recordings.gaps(f.cam.id, 0, 10_000))[0]?.endMs).toBe(1000);
  });

  it('lists recovered segments in the verify report without a finding, and the mark is covered by the hash', async () => {
    await f.segment(2);
    const last = await f.segment(1);
    const startMs = last.endMs;
    const path = segmentRelPath(f.cam.id, startMs);
    mkdirSync(dirname(join(f.dir, path)), { recursive: true });
    writeFileSync(join(f.dir, path), 'a segment indexed at start-up');
    const marked = await f.ledger.append(f.cam.id, {
      ...content(startMs, { recovered: true }),
      path,
      bytes: statSync(join(f.dir, path)).size,
      sha256: await sha256File(join(f.dir, path)),
    });
    const report = await f.verify();
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.recovered).toEqual([{ cameraId: f.cam.id, seq: marked.seq, path }]);
    // Dropping the mark afterwards breaks the entry's hash.
    const chain = await f.store.recordings.entries({ cameraId: f.cam.id });
    const unmarked = chain.map((e) => (e.seq === marked.seq ? { ...e, detail: {} } : e));
    expect(checkChain(unmarked).map((p) => [p.kind, p.seq])).toEqual([['index_tampered', marked.seq]]);
  });
});
