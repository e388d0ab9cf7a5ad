import { describe, expect, it } from 'vitest';
import type { Mask } from '../../../src/domain/index.js';
import { MASK_GROW_PX, rasterizeMasks, toPgm } from '../../../src/privacy/rasterize.js';

type Pt = [number, number];

const rect = (x: number, y: number, w: number, h: number): Mask => ({ shape: 'rect', x, y, w, h, mode: 'fill' });
const polygon = (points: Pt[]): Mask => ({ shape: 'polygon', points, mode: 'blur' });

const lShape: Pt[] = [
  [0.1, 0.1],
  [0.3, 0.1],
  [0.3, 0.6],
  [0.8, 0.6],
  [0.8, 0.9],
  [0.1, 0.9],
];
const uShape: Pt[] = [
  [0.1, 0.1],
  [0.9, 0.1],
  [0.9, 0.9],
  [0.7, 0.9],
  [0.7, 0.3],
  [0.3, 0.3],
  [0.3, 0.9],
  [0.1, 0.9],
];
// A concave outline with slanted edges and a vertex on the frame's left edge.
const arrow: Pt[] = [
  [0, 0.5],
  [0.45, 0.05],
  [0.45, 0.3],
  [0.95, 0.27],
  [0.9, 0.75],
  [0.45, 0.7],
  [0.45, 0.95],
];

/** Pixels covered, as "col,row" → 255 lookups. */
const at = (bits: Uint8Array, width: number) => (col: number, row: number) => bits[row * width + col];

/** Bounding box of the covered pixels, or null when none is. */
function coveredBox(bits: Uint8Array, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } | null {
  let box: { x0: number; y0: number; x1: number; y1: number } | null = null;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      if (bits[row * width + col] !== 255) continue;
      box =
        box === null
          ? { x0: col, y0: row, x1: col, y1: row }
          : { x0: Math.min(box.x0, col), y0: Math.min(box.y0, row), x1: Math.max(box.x1, col), y1: Math.max(box.y1, row) };
    }
  }
  return box;
}

// Reference, written independently of the implementation: a pixel is covered exactly
// when the square of side 2·grow around its centre meets the (closed) region.
const TOL = 1e-9;

function cross(a: Pt, b: Pt, c: Pt): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

function segmentsMeet(a: Pt, b: Pt, c: Pt, d: Pt): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  const within = (p: Pt, q: Pt, r: Pt) =>
    Math.min(p[0], q[0]) - TOL <= r[0] &&
    r[0] <= Math.max(p[0], q[0]) + TOL &&
    Math.min(p[1], q[1]) - TOL <= r[1] &&
    r[1] <= Math.max(p[1], q[1]) + TOL;
  return (
    (Math.abs(d1) < TOL && within(c, d, a)) ||
    (Math.abs(d2) < TOL && within(c, d, b)) ||
    (Math.abs(d3) < TOL && within(a, b, c)) ||
    (Math.abs(d4) < TOL && within(a, b, d))
  );
}

function pointInPolygon(p: Pt, poly: readonly Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function squareMeetsPolygon(cx: number, cy: number, r: number, poly: readonly Pt[]): boolean {
  if (pointInPolygon([cx, cy], poly)) return true;
  const lo = [cx - r - TOL, cy - r - TOL] as const;
  const hi = [cx + r + TOL, cy + r + TOL] as const;
  if (poly.some(([x, y]) => x >= lo[0] && x <= hi[0] && y >= lo[1] && y <= hi[1])) return true;
  const corners: Pt[] = [
    [lo[0], lo[1]],
    [hi[0], lo[1]],
    [hi[0], hi[1]],
    [lo[0], hi[1]],
  ];
  return poly.some((a, i) => {
    const b = poly[(i + 1) % poly.length]!;
    return corners.some((c, k) => segmentsMeet(a, b, c, corners[(k + 1) % 4]!));
  });
}

function reference(masks: readonly Mask[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const polys = masks.map((m): Pt[] =>
    m.shape === 'rect'
      ? [
          [m.x, m.y],
          [m.x + m.w, m.y],
          [m.x + m.w, m.y + m.h],
          [m.x, m.y + m.h],
        ]
      : m.points,
  );
  const scaled = polys.map((p) => p.map(([x, y]): Pt => [x * width, y * height]));
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      if (scaled.some((p) => squareMeetsPolygon(col + 0.5, row + 0.5, MASK_GROW_PX, p))) out[row * width + col] = 255;
    }
  }
  return out;
}

function mismatches(a: Uint8Array, b: Uint8Array, width: number): string[] {
  const diff: string[] = [];
  a.forEach((v, i) => {
    if (v !== b[i] && diff.length < 10) diff.push(`(${i % width},${Math.floor(i / width)}): ${v} vs ${b[i]}`);
  });
  return diff;
}

describe('rasterizeMasks', () => {
  it('covers nothing without masks', () => {
    expect(rasterizeMasks([], 16, 9).every((v) => v === 0)).toBe(true);
  });

  it('grows a pixel-aligned rect by one pixel on every side', () => {
    // x 20..50, y 10..30 in pixels: columns 20–49 and rows 10–29 are inside, plus one around.
    const bits = rasterizeMasks([rect(0.2, 0.2, 0.3, 0.4)], 100, 50);
    expect(coveredBox(bits, 100, 50)).toEqual({ x0: 19, y0: 9, x1: 50, y1: 30 });
    expect(bits.filter((v) => v === 255).length).toBe(32 * 22);
    expect(bits.every((v) => v === 0 || v === 255)).toBe(true);
  });

  it('covers every pixel a rect touches, even in part (outward rounding)', () => {
    // x 20.4..30.6 touches columns 20 to 30; grown, 19 to 31.
    const bits = rasterizeMasks([rect(0.204, 0.204, 0.102, 0.102)], 100, 100);
    expect(coveredBox(bits, 100, 100)).toEqual({ x0: 19, y0: 19, x1: 31, y1: 31 });
  });

  it('covers a sliver that lies between pixel centres', () => {
    // 0.2 px tall, from y = 10.1 to 10.3: no pixel centre is inside it. Row 10 holds it;
    // row 9's centre (9.5) is within the grown pixel, row 11's (11.5) is not.
    const bits = rasterizeMasks([rect(0.1, 0.101, 0.5, 0.002)], 100, 100);
    const px = at(bits, 100);
    expect([8, 9, 10, 11].map((row) => px(30, row))).toEqual([0, 255, 255, 0]);
    const thinTriangle = rasterizeMasks(
      [
        polygon([
          [0.1, 0.101],
          [0.6, 0.102],
          [0.6, 0.103],
        ]),
      ],
      100,
      100,
    );
    expect(at(thinTriangle, 100)(50, 10)).toBe(255);
  });

  it.each([
    ['top-left corner', rect(0, 0, 0.25, 0.25), { x0: 0, y0: 0, x1: 160, y1: 90 }],
    ['bottom-right corner', rect(0.75, 0.75, 0.25, 0.25), { x0: 479, y0: 269, x1: 639, y1: 359 }],
    ['the whole frame', rect(0, 0, 1, 1), { x0: 0, y0: 0, x1: 639, y1: 359 }],
  ])('includes masks touching the frame edge: %s', (_name, mask, box) => {
    expect(coveredBox(rasterizeMasks([mask], 640, 360), 640, 360)).toEqual(box);
  });

  it.each([
    [641, 361],
    [7, 5],
    [1, 1],
  ])('covers the whole of an odd %ix%i frame', (width, height) => {
    const bits = rasterizeMasks([rect(0, 0, 1, 1)], width, height);
    expect(bits.length).toBe(width * height);
    expect(bits.every((v) => v === 255)).toBe(true);
  });

  it('handles odd sizes where halves fall between pixels', () => {
    // Right half of 641 columns starts at 320.5: column 320 is touched, 319 is within the grown pixel.
    const bits = rasterizeMasks([rect(0.5, 0.5, 0.5, 0.5)], 641, 361);
    expect(coveredBox(bits, 641, 361)).toEqual({ x0: 319, y0: 179, x1: 640, y1: 360 });
  });

  it('leaves the notch of a concave U open', () => {
    const w = 200;
    const h = 100;
    const px = at(rasterizeMasks([polygon(uShape)], w, h), w);
    // Notch: x 60..140, y 30..90; arms x 20..60 and 140..180.
    for (const [col, row] of [
      [100, 60],
      [62, 32],
      [137, 87],
      [100, 95],
    ] as const)
      expect(px(col, row), `(${col},${row}) in the notch`).toBe(0);
    for (const [col, row] of [
      [40, 60],
      [160, 60],
      [100, 20],
      [60, 60],
      [59, 89],
    ] as const)
      expect(px(col, row), `(${col},${row}) in the U`).toBe(255);
  });

  it('leaves the missing quadrant of a concave L open', () => {
    const px = at(rasterizeMasks([polygon(lShape)], 100, 100), 100);
    expect(px(60, 30)).toBe(0);
    expect(px(31, 58)).toBe(0);
    expect(px(20, 30)).toBe(255);
    expect(px(60, 75)).toBe(255);
  });

  it('draws a polygon rect exactly like the rect', () => {
    const asPolygon = polygon([
      [0.13, 0.21],
      [0.77, 0.21],
      [0.77, 0.66],
      [0.13, 0.66],
    ]);
    expect(mismatches(rasterizeMasks([asPolygon], 641, 361), rasterizeMasks([rect(0.13, 0.21, 0.64, 0.45)], 641, 361), 641)).toEqual([]);
  });

  it.each<[string, Mask[], number, number]>([
    ['a rect', [rect(0.123, 0.456, 0.321, 0.234)], 101, 57],
    ['an L', [polygon(lShape)], 101, 57],
    ['a U', [polygon(uShape)], 97, 61],
    ['a slanted concave arrow', [polygon(arrow)], 113, 71],
    ['an arrow on a tiny frame', [polygon(arrow)], 7, 5],
    ['overlapping masks', [rect(0.05, 0.05, 0.5, 0.5), polygon(arrow), rect(0.6, 0, 0.4, 1)], 83, 47],
    ['an odd-size frame', [polygon(uShape), rect(0.9, 0.9, 0.1, 0.1)], 641, 361],
  ])('matches the reference for %s', (_name, masks, width, height) => {
    const bits = rasterizeMasks(masks, width, height);
    expect(mismatches(bits, reference(masks, width, height), width)).toEqual([]);
  });

  it('refuses a frame size that is not a positive integer', () => {
    expect(() => rasterizeMasks([], 0, 10)).toThrow(RangeError);
    expect(() => rasterizeMasks([], 10.5, 10)).toThrow(RangeError);
  });
});

describe('toPgm', () => {
  it('writes a binary P5 header then the bytes row by row', () => {
    const pgm = toPgm(new Uint8Array([0, 255, 0, 255, 0, 255]), 3, 2);
    expect(pgm.subarray(0, 11).toString('ascii')).toBe('P5\n3 2\n255\n');
    expect([...pgm.subarray(11)]).toEqual([0, 255, 0, 255, 0, 255]);
    expect(pgm.length).toBe(11 + 6);
  });

  it('keeps only the view it is given', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 9]);
    expect([...toPgm(backing.subarray(2, 6), 2, 2).subarray(-4)]).toEqual([1, 2, 3, 4]);
  });

  it('refuses a byte count that does not match the size', () => {
    expect(() => toPgm(new Uint8Array(5), 3, 2)).toThrow(/expected 6 bytes for 3x2, got 5/);
  });
});
