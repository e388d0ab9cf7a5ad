import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SegmentListReader } from '../../../src/recording/segmentList.js';

const dir = mkdtempSync(join(tmpdir(), 'psvgw-list-'));
afterEach(() => rmSync(join(dir, 'run.csv'), { force: true }));

const line = (i: number) => `r1-${String(i).padStart(6, '0')}.ts,${i * 4}.000000,${(i + 1) * 4}.000000\n`;

describe('SegmentListReader', () => {
  it('returns only the entries appended since the last read, reading only their bytes however long the list', async () => {
    const file = join(dir, 'run.csv');
    writeFileSync(file, Array.from({ length: 5000 }, (_, i) => line(i)).join(''));
    const reader = new SegmentListReader(file);
    const all = await reader.next();
    expect(all).toHaveLength(5000);
    expect(all[4999]).toEqual({ name: 'r1-004999.ts', startS: 19_996, endS: 20_000 });
    const before = reader.bytesRead;
    for (let i = 5000; i < 5010; i++) {
      appendFileSync(file, line(i));
      expect((await reader.next()).map((s) => s.name)).toEqual([`r1-${String(i).padStart(6, '0')}.ts`]);
    }
    expect(reader.bytesRead - before).toBe(Array.from({ length: 10 }, (_, i) => line(5000 + i).length).reduce((a, b) => a + b));
    expect(await reader.next()).toEqual([]);
  });

  it('waits for a line still being written, takes it when the run is final, and reads a missing list as empty', async () => {
    const file = join(dir, 'run.csv');
    const reader = new SegmentListReader(file);
    expect(await reader.next()).toEqual([]);
    writeFileSync(file, line(0) + 'r1-000001.ts,4.0');
    expect((await reader.next()).map((s) => s.name)).toEqual(['r1-000000.ts']);
    appendFileSync(file, '00000,8.000000');
    expect(await reader.next(true)).toEqual([{ name: 'r1-000001.ts', startS: 4, endS: 8 }]);
  });
});
