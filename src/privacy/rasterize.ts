/**
 * Turns masks into a per-pixel coverage map for one frame size. Pixels are sampled at
 * their centres against each region grown by MASK_GROW_PX on every side, so every pixel
 * the region touches, even in part, is hidden: privacy errs on the side of hiding.
 * No I/O here.
 */
import type { Mask } from '../domain/index.js';

/** How far, in pixels, each region is grown before sampling. */
export const MASK_GROW_PX = 1;

const INSIDE = 255;
// Scaling fractions to pixels leaves rounding errors; bounds are widened by this much.
const EPS = 1e-9;

type Point = readonly [number, number];

/** One byte per pixel, row by row from the top-left: 255 inside any mask, 0 elsewhere. */
export function rasterizeMasks(masks: readonly Mask[], width: number, height: number): Uint8Array {
  checkSize(width, height);
  const out = new Uint8Array(width * height);
  const frame = { out, width, height };
  for (const mask of masks) {
    if (mask.shape === 'rect') {
      fillRect(frame, mask.x * width, mask.y * height, (mask.x + mask.w) * width, (mask.y + mask.h) * height);
    } else {
      const points = mask.points.map(([x, y]): Point => [x * width, y * height]);
      fillInterior(frame, points);
      points.forEach((p, i) => strokeEdge(frame, p, points[(i + 1) % points.length]!));
    }
  }
  return out;
}

/** A binary greyscale (P5) PGM of the coverage map, as ffmpeg reads it as an image input. */
export function toPgm(bytes: Uint8Array, width: number, height: number): Buffer {
  checkSize(width, height);
  if (bytes.length !== width * height) throw new RangeError(`expected ${width * height} bytes for ${width}x${height}, got ${bytes.length}`);
  const header = Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii');
  return Buffer.concat([header, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
}

interface Frame {
  out: Uint8Array;
  width: number;
  height: number;
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`frame size must be positive integers, got ${width}x${height}`);
  }
}

/** Rows or columns whose centre lies within [lo - grow, hi + grow]. */
function centresWithin(lo: number, hi: number, grow: number): [number, number] {
  return [Math.ceil(lo - grow - 0.5 - EPS), Math.floor(hi + grow - 0.5 + EPS)];
}

function markSpan({ out, width, height }: Frame, row: number, first: number, last: number): void {
  if (row < 0 || row >= height) return;
  const from = Math.max(0, first);
  const to = Math.min(width - 1, last);
  if (from <= to) out.fill(INSIDE, row * width + from, row * width + to + 1);
}

function fillRect(frame: Frame, x0: number, y0: number, x1: number, y1: number): void {
  const [firstRow, lastRow] = centresWithin(y0, y1, MASK_GROW_PX);
  const [firstCol, lastCol] = centresWithin(x0, x1, MASK_GROW_PX);
  for (let row = Math.max(0, firstRow); row <= Math.min(frame.height - 1, lastRow); row++) markSpan(frame, row, firstCol, lastCol);
}

/** Scanline fill at pixel centres (even-odd; masks are simple polygons, so any rule agrees). */
function fillInterior(frame: Frame, points: readonly Point[]): void {
  const ys = points.map((p) => p[1]);
  const [firstRow, lastRow] = centresWithin(Math.min(...ys), Math.max(...ys), 0);
  for (let row = Math.max(0, firstRow); row <= Math.min(frame.height - 1, lastRow); row++) {
    const yc = row + 0.5;
    const xs: number[] = [];
    points.forEach(([xa, ya], i) => {
      const [xb, yb] = points[(i + 1) % points.length]!;
      // Half-open in y, so a vertex on the scanline counts once.
      if (ya <= yc !== yb <= yc) xs.push(xa + ((yc - ya) * (xb - xa)) / (yb - ya));
    });
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const [first, last] = centresWithin(xs[k]!, xs[k + 1]!, 0);
      markSpan(frame, row, first, last);
    }
  }
}

/**
 * Marks every pixel whose centre lies within MASK_GROW_PX (in x and in y) of the edge
 * a→b: the part of the edge inside each row's band of height 2·grow gives that row's span.
 */
function strokeEdge(frame: Frame, a: Point, b: Point): void {
  const grow = MASK_GROW_PX;
  const [firstRow, lastRow] = centresWithin(Math.min(a[1], b[1]), Math.max(a[1], b[1]), grow);
  for (let row = Math.max(0, firstRow); row <= Math.min(frame.height - 1, lastRow); row++) {
    const yc = row + 0.5;
    let xlo: number;
    let xhi: number;
    if (a[1] === b[1]) {
      xlo = Math.min(a[0], b[0]);
      xhi = Math.max(a[0], b[0]);
    } else {
      const ta = (yc - grow - a[1]) / (b[1] - a[1]);
      const tb = (yc + grow - a[1]) / (b[1] - a[1]);
      const t0 = Math.max(0, Math.min(ta, tb));
      const t1 = Math.min(1, Math.max(ta, tb));
      if (t0 > t1 + EPS) continue;
      const xa = a[0] + t0 * (b[0] - a[0]);
      const xb = a[0] + t1 * (b[0] - a[0]);
      xlo = Math.min(xa, xb);
      xhi = Math.max(xa, xb);
    }
    const [first, last] = centresWithin(xlo, xhi, grow);
    markSpan(frame, row, first, last);
  }
}
