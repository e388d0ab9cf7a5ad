import type { ChainEntry, RecordingGap } from '../domain/index.js';
import type { Finding } from '../recording/index.js';

const HOUR_MS = 3_600_000;

/** One camera-hour of the integrity part: what was recorded, what is missing, what failed. */
export interface CameraHour {
  cameraId: string;
  /** ISO start of the hour (UTC). */
  hour: string;
  segments: number;
  bytes: number;
  /** Seconds of the hour inside a recorded gap (ingest down, disk full, …). */
  gapSeconds: number;
  gapCauses: string[];
  /** Findings about segments that start in this hour. */
  findings: Array<Pick<Finding, 'kind' | 'seq' | 'path' | 'message'>>;
}

/**
 * The period cut into whole UTC hours for one camera: segments that start in each hour
 * (deleted ones left out), the overlap with each gap, and the findings of those segments.
 * A finding without a segment (a broken checkpoint, an unexpected file) goes to the hour
 * of the period's end, so it is printed once and not lost.
 */
export function cameraHours(input: {
  cameraId: string;
  entries: readonly ChainEntry[];
  gaps: readonly RecordingGap[];
  findings: readonly Finding[];
  fromMs: number;
  toMs: number;
}): CameraHour[] {
  const first = Math.floor(input.fromMs / HOUR_MS) * HOUR_MS;
  const rows: CameraHour[] = [];
  const index = (ms: number) => Math.floor((ms - first) / HOUR_MS);
  for (let start = first; start < input.toMs; start += HOUR_MS) {
    rows.push({
      cameraId: input.cameraId,
      hour: new Date(start).toISOString(),
      segments: 0,
      bytes: 0,
      gapSeconds: 0,
      gapCauses: [],
      findings: [],
    });
  }
  if (rows.length === 0) return rows;
  const deleted = new Set(input.entries.filter((e) => e.kind === 'deletion').map((e) => Number(e.detail.deletedSeq)));
  const startOf = new Map<number, number>();
  for (const e of input.entries) {
    if (e.kind !== 'segment') continue;
    startOf.set(e.seq, e.startMs);
    const row = rows[index(e.startMs)];
    if (row === undefined || deleted.has(e.seq) || e.startMs < input.fromMs) continue;
    row.segments += 1;
    row.bytes += e.bytes;
  }
  for (const g of input.gaps) {
    const end = g.endMs ?? input.toMs;
    for (const row of rows) {
      const hourStart = Date.parse(row.hour);
      const overlap = Math.min(end, hourStart + HOUR_MS, input.toMs) - Math.max(g.startMs, hourStart, input.fromMs);
      if (overlap <= 0) continue;
      row.gapSeconds += Math.round(overlap / 1000);
      if (!row.gapCauses.includes(g.cause)) row.gapCauses.push(g.cause);
    }
  }
  for (const f of input.findings) {
    if (f.cameraId !== input.cameraId) continue;
    const at = f.seq === null ? undefined : startOf.get(f.seq);
    const row = (at === undefined ? undefined : rows[index(at)]) ?? rows[rows.length - 1];
    row?.findings.push({ kind: f.kind, seq: f.seq, path: f.path, message: f.message });
  }
  return rows;
}
