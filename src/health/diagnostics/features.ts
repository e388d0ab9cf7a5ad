/**
 * Pure measurements of one small grayscale frame (8-bit luma, row-major). No I/O: the
 * analysis worker calls these on every sample and the unit tests on synthetic frames.
 */

export interface GrayFrame {
  width: number;
  height: number;
  /** width × height luma bytes. */
  pixels: Uint8Array;
}

/** Coarse layout of a scene: block means on a GRID_COLS × GRID_ROWS grid. */
export const GRID_COLS = 16;
export const GRID_ROWS = 9;

/** A pixel counts as changed between two samples when its luma moves by more than this (above codec noise). */
export const MOTION_DELTA = 8;

export interface FrameFeatures {
  /** Mean luma, 0-255. */
  mean: number;
  /** Standard deviation of luma: contrast. */
  stddev: number;
  /** Mean absolute 4-neighbour Laplacian: the detail (sharpness) of the picture. */
  edge: number;
  /** Share of pixels changed by more than MOTION_DELTA since the previous sample; null without one. */
  motion: number | null;
  /** Block means, GRID_COLS × GRID_ROWS, row-major. */
  grid: number[];
}

export function assertFrame(frame: GrayFrame): void {
  if (frame.width < 3 || frame.height < 3 || frame.pixels.length !== frame.width * frame.height)
    throw new Error(`a ${frame.width}x${frame.height} frame needs ${frame.width * frame.height} bytes, got ${frame.pixels.length}`);
}

export function measureFrame(frame: GrayFrame, previous?: GrayFrame | null): FrameFeatures {
  assertFrame(frame);
  const { width: w, height: h, pixels: p } = frame;
  let sum = 0;
  let sumSq = 0;
  for (const v of p) {
    sum += v;
    sumSq += v * v;
  }
  const n = p.length;
  const mean = sum / n;
  let lap = 0;
  for (let y = 1; y < h - 1; y++) {
    const row = y * w;
    for (let x = 1; x < w - 1; x++) {
      const i = row + x;
      lap += Math.abs(4 * (p[i] as number) - (p[i - 1] as number) - (p[i + 1] as number) - (p[i - w] as number) - (p[i + w] as number));
    }
  }
  return {
    mean,
    stddev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
    edge: lap / ((w - 2) * (h - 2)),
    motion: previous && previous.width === w && previous.height === h ? changedShare(p, previous.pixels) : null,
    grid: blockMeans(frame),
  };
}

function changedShare(a: Uint8Array, b: Uint8Array): number {
  let changed = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs((a[i] as number) - (b[i] as number)) > MOTION_DELTA) changed++;
  return changed / a.length;
}

function blockMeans({ width: w, height: h, pixels: p }: GrayFrame): number[] {
  const sums = new Array<number>(GRID_COLS * GRID_ROWS).fill(0);
  const counts = new Array<number>(GRID_COLS * GRID_ROWS).fill(0);
  for (let y = 0; y < h; y++) {
    const gy = Math.min(GRID_ROWS - 1, Math.floor((y * GRID_ROWS) / h));
    for (let x = 0; x < w; x++) {
      const g = gy * GRID_COLS + Math.min(GRID_COLS - 1, Math.floor((x * GRID_COLS) / w));
      sums[g] = (sums[g] as number) + (p[y * w + x] as number);
      counts[g] = (counts[g] as number) + 1;
    }
  }
  return sums.map((s, i) => s / Math.max(1, counts[i] as number));
}

/**
 * How alike two scene layouts are: the correlation of their block means, 1 for the same
 * layout whatever the exposure (a gain or offset change keeps it), near 0 or below for a
 * different view. A flat layout has no shape to compare: 0.
 */
export function sceneSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) return 0;
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  // Below one grey level of spread per block there is no layout to speak of.
  if (va < n || vb < n) return 0;
  return cov / Math.sqrt(va * vb);
}

/** Element-wise mean of equally long grids (a reference layout learned over several samples). */
export function meanGrid(grids: readonly (readonly number[])[]): number[] {
  const first = grids[0];
  if (!first) return [];
  return first.map((_, i) => grids.reduce((s, g) => s + (g[i] ?? 0), 0) / grids.length);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
