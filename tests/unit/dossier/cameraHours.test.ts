import { describe, expect, it } from 'vitest';
import type { ChainEntry, RecordingGap } from '../../../src/domain/index.js';
import { cameraHours } from '../../../src/dossier/index.js';

const H = 3_600_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');

function seg(seq: number, startMs: number, over: Partial<ChainEntry> = {}): ChainEntry {
  return {
    cameraId: 'cam1',
    seq,
    kind: 'segment',
    path: `cam1/${seq}.ts`,
    startMs,
    endMs: startMs + 10_000,
    bytes: 1000,
    sha256: 'x',
    partial: false,
    detail: {},
    prevHash: '',
    entryHash: '',
    at: '',
    deletedAt: null,
    ...over,
  };
}

describe('cameraHours', () => {
  it('counts segments per hour, spreads gaps over the hours they cover, and places findings', () => {
    const entries = [
      seg(1, T0 + 60_000),
      seg(2, T0 + 120_000),
      seg(3, T0 + H + 5_000),
      seg(4, T0 + 2 * H + 1),
      {
        ...seg(5, T0 + 2 * H + 10),
        kind: 'deletion' as const,
        detail: { deletedSeq: 4 },
      },
    ];
    const gaps: RecordingGap[] = [
      { id: 1, cameraId: 'cam1', startMs: T0 + H - 30_000, endMs: T0 + H + 60_000, cause: 'ingest_down' },
      { id: 2, cameraId: 'cam1', startMs: T0 + 2 * H + 3_000_000, endMs: null, cause: 'disk_full' },
    ];
    const findings = [
      { kind: 'modified' as const, cameraId: 'cam1', seq: 3, path: 'cam1/3.ts', message: 'content changed' },
      { kind: 'unexpected' as const, cameraId: 'cam1', seq: null, path: 'cam1/x.ts', message: 'file is not in the index' },
      { kind: 'modified' as const, cameraId: 'cam2', seq: 1, path: 'cam2/1.ts', message: 'other camera' },
    ];
    const rows = cameraHours({ cameraId: 'cam1', entries, gaps, findings, fromMs: T0, toMs: T0 + 3 * H });
    expect(rows.map((r) => [r.hour, r.segments, r.bytes, r.gapSeconds, r.gapCauses])).toEqual([
      ['2026-11-01T00:00:00.000Z', 2, 2000, 30, ['ingest_down']],
      ['2026-11-01T01:00:00.000Z', 1, 1000, 60, ['ingest_down']],
      ['2026-11-01T02:00:00.000Z', 0, 0, 600, ['disk_full']],
    ]);
    expect(rows[1]!.findings.map((f) => f.kind)).toEqual(['modified']);
    expect(rows[2]!.findings.map((f) => f.kind)).toEqual(['unexpected']);
  });

  it('is empty for an empty period', () => {
    expect(cameraHours({ cameraId: 'c', entries: [], gaps: [], findings: [], fromMs: T0, toMs: T0 })).toEqual([]);
  });
});
