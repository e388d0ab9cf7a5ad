/**
 * Which changes weaken protection, one pure rule per kind (table-tested). A weakening
 * change waits for a second admin; a strengthening one applies at once and must never wait.
 */
import type { Mask, MaskMode } from '../domain/index.js';

type Point = readonly [number, number];

/** How much of the picture a mode hides: a blur keeps shapes a fill removes. */
const MODE_STRENGTH: Readonly<Record<MaskMode, number>> = { blur: 1, mosaic: 2, fill: 3 };

// Mask coordinates are validated fractions; sums may land a rounding error off.
const EPS = 1e-9;
/** Points sampled along each edge of a covering polygon to see it does not dip into the old mask. */
const EDGE_SAMPLES = 16;

/**
 * True when the new mask set does not hide everything the old one hid: some old mask is
 * not inside one new mask of at least its strength (fill > mosaic > blur). Conservative:
 * an old mask covered only by several new masks together also counts as weakening (a
 * second admin looks at it), so nothing that uncovers a pixel can ever apply at once.
 */
export function masksWeaken(before: readonly Mask[], after: readonly Mask[]): boolean {
  return uncoveredMasks(before, after).length > 0;
}

/** The indexes of old masks that no single new mask covers at least as strongly. */
export function uncoveredMasks(before: readonly Mask[], after: readonly Mask[]): number[] {
  return before.flatMap((old, i) =>
    after.some((m) => MODE_STRENGTH[m.mode] >= MODE_STRENGTH[old.mode] && contains(outline(m), outline(old))) ? [] : [i],
  );
}

/** A lower retention (days) weakens; a longer or equal one does not. */
export function retentionWeakens(approvedDays: number, proposedDays: number): boolean {
  return proposedDays < approvedDays;
}

/** Any other jurisdiction profile weakens: profiles differ in many rules, none of them simply stronger. */
export function profileWeakens(approved: string, proposed: string): boolean {
  return approved !== proposed;
}

/** A push target not approved before sends footage somewhere new: those that do (by digest). */
export function newPushTargets(approvedDigests: readonly string[], proposedDigests: readonly string[]): string[] {
  return proposedDigests.filter((d) => !approvedDigests.includes(d));
}

function outline(m: Mask): Point[] {
  if (m.shape === 'polygon') return m.points;
  return [
    [m.x, m.y],
    [m.x + m.w, m.y],
    [m.x + m.w, m.y + m.h],
    [m.x, m.y + m.h],
  ];
}

/**
 * `inner` lies inside `outer` (both simple polygons): every vertex of `inner` is inside
 * or on `outer`, no edge of `outer` crosses an edge of `inner`, and no point of `outer`'s
 * outline (its vertices and samples along its edges) lies strictly inside `inner`.
 */
function contains(outer: readonly Point[], inner: readonly Point[]): boolean {
  if (!inner.every((p) => where(p, outer) !== 'out')) return false;
  const edgesOf = (poly: readonly Point[]) => poly.map((p, i) => [p, poly[(i + 1) % poly.length]!] as const);
  for (const [a, b] of edgesOf(outer)) {
    if (edgesOf(inner).some(([c, d]) => properlyCross(a, b, c, d))) return false;
    for (let k = 0; k < EDGE_SAMPLES; k++) {
      const t = k / EDGE_SAMPLES;
      if (where([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])], inner) === 'in') return false;
    }
  }
  return true;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** The open segments ab and cd cross at one point inside both. */
function properlyCross(a: Point, b: Point, c: Point, d: Point): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  return ((d1 > EPS && d2 < -EPS) || (d1 < -EPS && d2 > EPS)) && ((d3 > EPS && d4 < -EPS) || (d3 < -EPS && d4 > EPS));
}

function onSegment(p: Point, a: Point, b: Point): boolean {
  if (Math.abs(cross(a, b, p)) > EPS) return false;
  return (
    p[0] >= Math.min(a[0], b[0]) - EPS &&
    p[0] <= Math.max(a[0], b[0]) + EPS &&
    p[1] >= Math.min(a[1], b[1]) - EPS &&
    p[1] <= Math.max(a[1], b[1]) + EPS
  );
}

/** Where a point lies against a simple polygon: strictly inside, on its outline, or outside (ray casting). */
function where(p: Point, poly: readonly Point[]): 'in' | 'on' | 'out' {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!;
    const b = poly[j]!;
    if (onSegment(p, a, b)) return 'on';
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside ? 'in' : 'out';
}
