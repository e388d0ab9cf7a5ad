/** Small numeric helpers for the report. */

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

export function round(value: number | null | undefined, digits = 1): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function ratio(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || baseline <= 0) return null;
  return round(value / baseline, 2);
}

export interface Summary {
  n: number;
  p50: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}

export function summarize(values: readonly number[], digits = 1): Summary {
  return {
    n: values.length,
    p50: round(percentile(values, 50), digits),
    p95: round(percentile(values, 95), digits),
    min: round(values.length ? Math.min(...values) : null, digits),
    max: round(values.length ? Math.max(...values) : null, digits),
    mean: round(mean(values), digits),
  };
}

/** A measured figure next to its target: pass when `value` is at or below `max`. */
export function verdict(value: number | null, max: number): 'pass' | 'fail' | 'not measured' {
  if (value === null) return 'not measured';
  return value <= max ? 'pass' : 'fail';
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns true; returns the elapsed ms, or null on timeout. */
export async function pollUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    try {
      if (await check()) return performance.now() - started;
    } catch {
      /* not yet */
    }
    if (performance.now() - started > timeoutMs) return null;
    await sleep(everyMs);
  }
}
