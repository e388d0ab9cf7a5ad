import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { ChainLedger, ChainSigner, segmentRelPath } from '../src/recording/index.js';
import { SqliteStore, type SqliteSynchronous } from '../src/store/index.js';
import type { BenchOptions } from './options.js';
import { progress } from './progress.js';

export interface SyncCost {
  synchronous: SqliteSynchronous;
  segments: number;
  /** Mean milliseconds per indexed segment (one chain append: head read + entry insert, one commit). */
  msPerSegment: number;
  p50Ms: number;
  p95Ms: number;
}

export interface DurabilityResults {
  /** Where the temp database lived (its file system decides what a sync costs). */
  dir: string;
  full: SyncCost;
  normal: SyncCost;
  /** How many times FULL costs what NORMAL does, per indexed segment. */
  fullOverNormal: number;
}

const CAMERA_ID = '44030500001320000001';
const RETENTION = { days: 30, profile: 'strict', rule: 'profile', article: 'strict: qingdao-2020 Art. 19(7), zhuzhou-2023 Art. 12(5)' };

/**
 * The cost of synchronous=FULL per indexed segment: N chain appends (what the recorder
 * writes per segment) on a temp SQLite file in WAL mode, once with FULL and once with
 * NORMAL, in the same run and the same directory. No media files are written: this is
 * the index and chain write alone.
 */
export async function durabilityPhase(o: BenchOptions): Promise<DurabilityResults> {
  const segments = o.quick ? 200 : 1000;
  const dir = mkdtempSync(join(process.env.PSVGW_BENCH_DB_DIR ?? tmpdir(), 'psvgw-bench-sync-'));
  try {
    // NORMAL first, then FULL, then both again; the second pass of each is reported (warm caches).
    await appends(dir, 'NORMAL', Math.min(50, segments));
    await appends(dir, 'FULL', Math.min(50, segments));
    progress(`durability: ${segments} chain appends with synchronous=NORMAL`);
    const normal = await appends(dir, 'NORMAL', segments);
    progress(`durability: ${segments} chain appends with synchronous=FULL`);
    const full = await appends(dir, 'FULL', segments);
    return {
      dir: process.env.PSVGW_BENCH_DB_DIR ?? tmpdir(),
      full,
      normal,
      fullOverNormal: round(full.msPerSegment / normal.msPerSegment),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function appends(root: string, synchronous: SqliteSynchronous, segments: number): Promise<SyncCost> {
  const dataDir = mkdtempSync(join(root, `${synchronous.toLowerCase()}-`));
  const store = new SqliteStore(join(dataDir, 'psvgw.db'), { synchronous });
  try {
    await store.migrate();
    const ledger = new ChainLedger(store, ChainSigner.loadOrCreate(dataDir), pino({ level: 'silent' }));
    const t0 = Date.now() - segments * 60_000;
    const times: number[] = [];
    for (let i = 0; i < segments; i++) {
      const startMs = t0 + i * 60_000;
      const started = performance.now();
      await ledger.append(CAMERA_ID, {
        kind: 'segment',
        path: segmentRelPath(CAMERA_ID, startMs),
        startMs,
        endMs: startMs + 60_000,
        bytes: 15_000_000,
        sha256: i.toString(16).padStart(64, '0'),
        partial: false,
        detail: { retention: RETENTION },
      });
      times.push(performance.now() - started);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
    return {
      synchronous,
      segments,
      msPerSegment: round(times.reduce((a, b) => a + b, 0) / times.length),
      p50Ms: at(0.5),
      p95Ms: at(0.95),
    };
  } finally {
    await store.close();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
