import { isDemoSource, type CameraRecord } from '../domain/index.js';
import type { MaintenanceWindow, OutageRecord } from '../store/index.js';

export interface OutageRow {
  cameraId: string;
  cameraName: string;
  kind: string;
  cause: string;
  /** ISO times; `endedAt` null while it lasts. */
  startedAt: string;
  endedAt: string | null;
  /** Up to the end of the outage, or to the report's end while it lasts. */
  durationSeconds: number;
  planned: boolean;
}

export interface CameraUptime {
  cameraId: string;
  cameraName: string;
  /** Seconds of the range the camera was in service (registered, not removed). */
  observedSeconds: number;
  /** Seconds down outside maintenance, overlapping outages counted once. */
  downSeconds: number;
  plannedDownSeconds: number;
  /** 100 × (observed − unplanned down) / observed; null when not in service during the range. */
  uptimePercent: number | null;
  outages: number;
}

export interface OutageReport {
  from: string;
  to: string;
  generatedAt: string;
  rows: OutageRow[];
  cameras: CameraUptime[];
  maintenance: MaintenanceWindow[];
}

export interface OutageReportInput {
  from: Date;
  to: Date;
  now: Date;
  outages: readonly OutageRecord[];
  cameras: readonly CameraRecord[];
  maintenance: readonly MaintenanceWindow[];
}

type Span = [number, number];

/** Total length of spans, overlaps counted once. */
function unionLength(spans: Span[]): number {
  const sorted = spans.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [curStart, curEnd] = [Number.NaN, Number.NaN];
  for (const [a, b] of sorted) {
    if (Number.isNaN(curStart) || a > curEnd) {
      if (!Number.isNaN(curStart)) total += curEnd - curStart;
      [curStart, curEnd] = [a, b];
    } else curEnd = Math.max(curEnd, b);
  }
  if (!Number.isNaN(curStart)) total += curEnd - curStart;
  return total;
}

/** A calendar date (YYYY-MM-DD) is its day's start in UTC; an ISO time is itself. */
function timeOf(value: string): number {
  return Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
}

/**
 * Every stop overlapping the range with its duration inside the range, and each camera's
 * uptime: the share of its time in service not lost to unplanned outages.
 */
export function buildOutageReport(input: OutageReportInput): OutageReport {
  const from = input.from.getTime();
  const to = Math.min(input.to.getTime(), Math.max(input.now.getTime(), from));
  const clip = (a: number, b: number): Span => [Math.max(a, from), Math.min(b, to)];
  // A demo camera's outages are shown on demand, not suffered: they count nowhere.
  const demos = new Set(input.cameras.filter((c) => isDemoSource(c.rtspUrl)).map((c) => c.id));
  const real = input.cameras.filter((c) => !demos.has(c.id));
  const names = new Map(real.map((c) => [c.id, c.name]));
  const inRange = input.outages.filter(
    (o) => !demos.has(o.cameraId) && timeOf(o.startedAt) < input.to.getTime() && (o.endedAt === null || timeOf(o.endedAt) > from),
  );
  const spanOf = (o: OutageRecord): Span => clip(timeOf(o.startedAt), o.endedAt === null ? to : timeOf(o.endedAt));

  const rows: OutageRow[] = inRange.map((o) => {
    const end = o.endedAt === null ? input.now.getTime() : timeOf(o.endedAt);
    return {
      cameraId: o.cameraId,
      cameraName: names.get(o.cameraId) ?? '',
      kind: o.kind,
      cause: o.cause,
      startedAt: o.startedAt,
      endedAt: o.endedAt,
      durationSeconds: Math.max(0, end - timeOf(o.startedAt)) / 1000,
      planned: o.planned,
    };
  });

  const ids = [...new Set([...real.map((c) => c.id), ...inRange.map((o) => o.cameraId)])].sort();
  const cameras: CameraUptime[] = ids.map((id) => {
    const camera = real.find((c) => c.id === id);
    const since = camera ? timeOf(camera.commissionedAt ?? camera.createdAt) : from;
    const until = camera?.removedAt ? timeOf(camera.removedAt) : to;
    const [obsStart, obsEnd] = clip(since, until);
    const observed = Math.max(0, obsEnd - obsStart);
    const mine = inRange.filter((o) => o.cameraId === id);
    const down = unionLength(mine.filter((o) => !o.planned).map(spanOf));
    const planned = unionLength(mine.filter((o) => o.planned).map(spanOf));
    return {
      cameraId: id,
      cameraName: names.get(id) ?? '',
      observedSeconds: observed / 1000,
      downSeconds: down / 1000,
      plannedDownSeconds: planned / 1000,
      uptimePercent: observed > 0 ? Math.round(10000 * Math.max(0, 1 - down / observed)) / 100 : null,
      outages: mine.length,
    };
  });

  return {
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    generatedAt: input.now.toISOString(),
    rows,
    cameras,
    maintenance: [...input.maintenance],
  };
}
