/**
 * Privacy masks: regions of a camera's picture hidden before it is shared. Coordinates
 * are fractions of the frame (0..1 from the top-left corner), so a mask keeps covering
 * the same place when the camera's resolution changes. No I/O here.
 */
import { z } from 'zod';
import { GatewayError } from '../errors.js';

export type MaskMode = 'fill' | 'blur' | 'mosaic';

export type Mask =
  | { shape: 'rect'; x: number; y: number; w: number; h: number; mode: MaskMode }
  | { shape: 'polygon'; points: Array<[number, number]>; mode: MaskMode };

export const MASK_MODES: readonly MaskMode[] = ['fill', 'blur', 'mosaic'];

export const MAX_MASKS = 32;
export const MAX_POLYGON_POINTS = 64;

// Sums of fractions such as 0.7 + 0.3 may land a rounding error past 1.
const EDGE_TOLERANCE = 1e-9;
// Twice the area, in frame fractions; below this a polygon covers nothing.
const MIN_DOUBLE_AREA = 1e-12;

const got = (input: unknown): string => (input === undefined ? 'nothing' : (JSON.stringify(input) ?? String(input)));

const outside = (iss: { input?: unknown }) => `must be between 0 and 1 (got ${got(iss.input)})`;
const fraction = z
  .number({ error: (iss) => `must be a number from 0 to 1 (got ${got(iss.input)})` })
  .min(0, { error: outside })
  .max(1, { error: outside });

const mode = z.enum(['fill', 'blur', 'mosaic'], {
  error: (iss) => `must be one of ${MASK_MODES.join(', ')} (got ${got(iss.input)})`,
});

// Length rules run even when an element is wrong, so every problem is reported at once.
const isList = (payload: { value: unknown }): boolean => Array.isArray(payload.value);

const shapeOf = (input: unknown): unknown => (typeof input === 'object' && input !== null ? (input as { shape?: unknown }).shape : input);

const unknownKeys = (iss: { code?: string }): string | undefined => (iss.code === 'unrecognized_keys' ? 'unknown field' : undefined);

const rectSchema = z
  .strictObject({ shape: z.literal('rect'), x: fraction, y: fraction, w: fraction, h: fraction, mode }, { error: unknownKeys })
  .superRefine((r, ctx) => {
    if (r.w <= 0) ctx.addIssue({ code: 'custom', path: ['w'], message: 'must be greater than 0' });
    else if (r.x + r.w > 1 + EDGE_TOLERANCE)
      ctx.addIssue({
        code: 'custom',
        path: ['w'],
        message: `must not reach past the right edge: x + w is ${round(r.x + r.w)}, more than 1`,
      });
    if (r.h <= 0) ctx.addIssue({ code: 'custom', path: ['h'], message: 'must be greater than 0' });
    else if (r.y + r.h > 1 + EDGE_TOLERANCE)
      ctx.addIssue({
        code: 'custom',
        path: ['h'],
        message: `must not reach past the bottom edge: y + h is ${round(r.y + r.h)}, more than 1`,
      });
  });

const pointSchema = z.tuple([fraction, fraction], { error: (iss) => `must be a point [x, y] (got ${got(iss.input)})` });

const polygonSchema = z
  .strictObject(
    {
      shape: z.literal('polygon'),
      points: z
        .array(pointSchema, { error: (iss) => `must be a list of points [x, y] (got ${got(iss.input)})` })
        .refine((points) => points.length >= 3, {
          when: isList,
          error: (iss) => `must have at least 3 points (got ${Array.isArray(iss.input) ? iss.input.length : 0})`,
        })
        .refine((points) => points.length <= MAX_POLYGON_POINTS, { when: isList, error: `must have at most ${MAX_POLYGON_POINTS} points` }),
      mode,
    },
    { error: unknownKeys },
  )
  .superRefine((p, ctx) => {
    const problem = polygonProblem(p.points);
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['points'], message: problem });
  });

const maskSchema = z.discriminatedUnion('shape', [rectSchema, polygonSchema], {
  error: (iss) =>
    iss.code === 'invalid_union'
      ? `must be "rect" or "polygon" (got ${got(shapeOf(iss.input))})`
      : `must be a mask object (got ${got(iss.input)})`,
});

/** A camera's masks: at most MAX_MASKS, each strict (unknown keys refused) and geometrically sound. */
export const maskListSchema: z.ZodType<Mask[]> = z
  .array(maskSchema, { error: (iss) => `must be a list of masks (got ${got(iss.input)})` })
  .refine((masks) => masks.length <= MAX_MASKS, { when: isList, error: `must list at most ${MAX_MASKS} masks` });

/**
 * Parses a masks list or throws VALIDATION_FAILED whose message names every problem as
 * `masks[i].field: what is wrong`; `details.problems` holds them one by one.
 */
export function validateMasks(input: unknown): Mask[] {
  const result = maskListSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap(describeIssue);
  throw new GatewayError('VALIDATION_FAILED', `invalid masks: ${problems.join('; ')}`, {
    hint: 'Give each mask as {shape:"rect",x,y,w,h,mode} or {shape:"polygon",points:[[x,y],…],mode}, coordinates from 0 to 1 of the frame, mode fill, blur or mosaic.',
    details: { problems },
  });
}

/**
 * Two edges of the closed polygon that cross or touch although they are not
 * neighbours, as [i, j] with i < j (edge i runs from points[i] to points[i+1], the last
 * edge back to points[0]); null when the outline is simple.
 */
export function polygonSelfIntersects(points: ReadonlyArray<readonly [number, number]>): [number, number] | null {
  const n = points.length;
  if (n < 4) return null; // three edges are all neighbours
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // the closing edge neighbours the first
      if (segmentsMeet(points[i]!, points[(i + 1) % n]!, points[j]!, points[(j + 1) % n]!)) return [i, j];
    }
  }
  return null;
}

/** Twice the signed area (shoelace formula). */
function polygonDoubleArea(points: ReadonlyArray<readonly [number, number]>): number {
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i]!;
    const [x1, y1] = points[(i + 1) % points.length]!;
    sum += x0 * y1 - x1 * y0;
  }
  return sum;
}

function polygonProblem(points: ReadonlyArray<readonly [number, number]>): string | null {
  if (points.length < 3) return null; // reported by the length rule
  for (let j = 1; j < points.length; j++) {
    for (let i = 0; i < j; i++) {
      if (points[i]![0] === points[j]![0] && points[i]![1] === points[j]![1]) {
        const closing = i === 0 && j === points.length - 1 ? ' (the outline closes by itself: leave the first point out at the end)' : '';
        return `must not repeat a point: points[${j}] repeats points[${i}]${closing}`;
      }
    }
  }
  if (allOnOneLine(points)) return 'must enclose an area: all points lie on one line';
  const crossing = polygonSelfIntersects(points);
  if (crossing !== null) {
    const [i, j] = crossing;
    const n = points.length;
    return (
      `must not intersect itself: edge ${i} (points[${i}]→points[${(i + 1) % n}]) and ` +
      `edge ${j} (points[${j}]→points[${(j + 1) % n}]) cross`
    );
  }
  if (Math.abs(polygonDoubleArea(points)) < MIN_DOUBLE_AREA) return 'must enclose an area: the polygon has zero area';
  return null;
}

function allOnOneLine(points: ReadonlyArray<readonly [number, number]>): boolean {
  const [a, b] = points as [readonly [number, number], readonly [number, number]];
  return points.every((p) => cross(a, b, p) === 0);
}

/** z-component of (b - a) × (c - a): > 0 when c lies left of a→b. */
function cross(a: readonly [number, number], b: readonly [number, number], c: readonly [number, number]): number {
  return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
}

/** Whether closed segments ab and cd share a point (crossing, touching or overlapping). */
function segmentsMeet(
  a: readonly [number, number],
  b: readonly [number, number],
  c: readonly [number, number],
  d: readonly [number, number],
): boolean {
  const d1 = Math.sign(cross(c, d, a));
  const d2 = Math.sign(cross(c, d, b));
  const d3 = Math.sign(cross(a, b, c));
  const d4 = Math.sign(cross(a, b, d));
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  return (
    (d1 === 0 && onSegment(c, d, a)) ||
    (d2 === 0 && onSegment(c, d, b)) ||
    (d3 === 0 && onSegment(a, b, c)) ||
    (d4 === 0 && onSegment(a, b, d))
  );
}

/** For p collinear with ab: whether p lies within ab's bounding box. */
function onSegment(a: readonly [number, number], b: readonly [number, number], p: readonly [number, number]): boolean {
  return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${where}.${k}: unknown field`);
  return [`${where}: ${issue.message}`];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), 'masks');
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
