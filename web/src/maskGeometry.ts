/**
 * The mask editor's geometry: which shape a point falls in, which polygon vertex it grabs,
 * and shapes moved within the frame. Coordinates are fractions of the frame (0 to 1), as the API has them.
 */

export type MaskMode = 'fill' | 'blur' | 'mosaic';
export type Point = [number, number];
export type RectMask = { shape: 'rect'; x: number; y: number; w: number; h: number; mode: MaskMode };
export type PolygonMask = { shape: 'polygon'; points: Point[]; mode: MaskMode };
export type Mask = RectMask | PolygonMask;

/** Rounded to a 1/10,000 grid and kept within the frame, so the API's 0..1 check is never missed by a float. */
export const round = (v: number): number => Math.min(1, Math.max(0, Math.round(v * 10_000) / 10_000));

/** Whether `p` lies inside the polygon (even-odd rule). */
function insidePolygon(points: readonly Point[], [x, y]: Point): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function contains(m: Mask, p: Point): boolean {
  if (m.shape === 'rect') return p[0] >= m.x && p[0] <= m.x + m.w && p[1] >= m.y && p[1] <= m.y + m.h;
  return insidePolygon(m.points, p);
}

/** The topmost (last drawn) mask under `p`; -1 for none. */
export function hitMask(masks: readonly Mask[], p: Point): number {
  for (let i = masks.length - 1; i >= 0; i--) if (contains(masks[i]!, p)) return i;
  return -1;
}

/** The polygon vertex within `tolerance` of `p` (nearest first); -1 for none or a rectangle. */
export function hitVertex(m: Mask, p: Point, tolerance: number): number {
  if (m.shape !== 'polygon') return -1;
  let best = -1;
  let bestDistance = tolerance;
  m.points.forEach(([x, y], i) => {
    const d = Math.hypot(x - p[0], y - p[1]);
    if (d <= bestDistance) [best, bestDistance] = [i, d];
  });
  return best;
}

/** The mask moved by (dx, dy), stopped at the frame's edges so it keeps its size and shape. */
export function moveMask(m: Mask, dx: number, dy: number): Mask {
  const xs = m.shape === 'rect' ? [m.x, m.x + m.w] : m.points.map((p) => p[0]);
  const ys = m.shape === 'rect' ? [m.y, m.y + m.h] : m.points.map((p) => p[1]);
  const ddx = Math.min(1 - Math.max(...xs), Math.max(-Math.min(...xs), dx));
  const ddy = Math.min(1 - Math.max(...ys), Math.max(-Math.min(...ys), dy));
  if (m.shape === 'rect') return { ...m, x: round(m.x + ddx), y: round(m.y + ddy) };
  return { ...m, points: m.points.map(([x, y]) => [round(x + ddx), round(y + ddy)] as Point) };
}

/** The polygon with vertex `index` at `p` (within the frame). */
export function moveVertex(m: PolygonMask, index: number, p: Point): PolygonMask {
  return { ...m, points: m.points.map((q, i) => (i === index ? ([round(p[0]), round(p[1])] as Point) : q)) };
}

/** A rectangle with one field set (x, y, w or h), kept within the frame. */
export function resizeRect(m: RectMask, field: 'x' | 'y' | 'w' | 'h', value: number): RectMask {
  const next = { ...m, [field]: round(value) };
  next.w = round(Math.min(next.w, 1 - next.x));
  next.h = round(Math.min(next.h, 1 - next.y));
  return next;
}
