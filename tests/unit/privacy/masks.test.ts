import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GatewayError } from '../../../src/errors.js';
import { MASK_MODES, maskListSchema, polygonSelfIntersects, validateMasks, type Mask } from '../../../src/domain/index.js';

const rect = (x: number, y: number, w: number, h: number, mode = 'fill'): Record<string, unknown> => ({ shape: 'rect', x, y, w, h, mode });
const polygon = (points: unknown, mode = 'blur'): Record<string, unknown> => ({ shape: 'polygon', points, mode });

const triangle: Array<[number, number]> = [
  [0.1, 0.1],
  [0.5, 0.1],
  [0.3, 0.4],
];
const pentagon: Array<[number, number]> = [
  [0.5, 0.1],
  [0.9, 0.4],
  [0.75, 0.9],
  [0.25, 0.9],
  [0.1, 0.4],
];
const lShape: Array<[number, number]> = [
  [0.1, 0.1],
  [0.3, 0.1],
  [0.3, 0.6],
  [0.7, 0.6],
  [0.7, 0.8],
  [0.1, 0.8],
];
const uShape: Array<[number, number]> = [
  [0.5, 0.1],
  [0.9, 0.1],
  [0.9, 0.5],
  [0.8, 0.5],
  [0.8, 0.25],
  [0.6, 0.25],
  [0.6, 0.5],
  [0.5, 0.5],
];
const bowTie: Array<[number, number]> = [
  [0.1, 0.1],
  [0.9, 0.9],
  [0.9, 0.1],
  [0.1, 0.9],
];

function problemsOf(input: unknown): string[] {
  try {
    validateMasks(input);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const e = err as GatewayError;
    expect(e.code).toBe('VALIDATION_FAILED');
    const problems = (e.details as { problems: string[] }).problems;
    for (const p of problems) expect(e.message).toContain(p);
    return problems;
  }
  throw new Error('expected validateMasks to throw');
}

describe('validateMasks: accepted', () => {
  it.each<[string, unknown[]]>([
    ['no masks', []],
    ['the whole frame', [rect(0, 0, 1, 1)]],
    ['a rect flush with the right and bottom edges', [rect(0.7, 0.7, 0.3, 0.3)]],
    ['a rect ending on 1 after rounding (0.1 + 0.9)', [rect(0.1, 0.1, 0.9, 0.9)]],
    ['a convex triangle', [polygon(triangle)]],
    ['a convex pentagon', [polygon(pentagon)]],
    ['a concave L', [polygon(lShape)]],
    ['a concave U', [polygon(uShape)]],
    [
      'a polygon in the frame corners',
      [
        polygon([
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ]),
      ],
    ],
    ['every mode', MASK_MODES.map((mode) => rect(0.1, 0.1, 0.2, 0.2, mode))],
    ['32 masks', Array.from({ length: 32 }, () => rect(0, 0, 0.5, 0.5))],
    [
      '64 points',
      [polygon(Array.from({ length: 64 }, (_, i) => [0.5 + 0.4 * Math.cos((i * Math.PI) / 32), 0.5 + 0.4 * Math.sin((i * Math.PI) / 32)]))],
    ],
  ])('%s', (_name, masks) => {
    expect(validateMasks(masks)).toEqual(masks);
  });

  it('returns typed masks', () => {
    const masks: Mask[] = validateMasks([rect(0.1, 0.2, 0.3, 0.4, 'mosaic'), polygon(triangle, 'fill')]);
    expect(masks.map((m) => [m.shape, m.mode])).toEqual([
      ['rect', 'mosaic'],
      ['polygon', 'fill'],
    ]);
  });
});

describe('validateMasks: refused, naming index and field', () => {
  it.each<[string, unknown, string]>([
    [
      'a self-intersecting bow-tie',
      [polygon(bowTie)],
      'masks[0].points: must not intersect itself: edge 0 (points[0]→points[1]) and edge 2 (points[2]→points[3]) cross',
    ],
    [
      'a point right of the frame',
      [
        polygon([
          [0, 0],
          [1.2, 0],
          [0.5, 0.5],
        ]),
      ],
      'masks[0].points[1][0]: must be between 0 and 1 (got 1.2)',
    ],
    [
      'a point above the frame',
      [
        polygon([
          [0, 0],
          [1, -0.01],
          [0.5, 0.5],
        ]),
      ],
      'masks[0].points[1][1]: must be between 0 and 1 (got -0.01)',
    ],
    [
      'a polygon of 2 points',
      [
        polygon([
          [0, 0],
          [1, 1],
        ]),
      ],
      'masks[0].points: must have at least 3 points (got 2)',
    ],
    [
      'a point with 3 coordinates',
      [
        polygon([
          [0, 0],
          [1, 1, 0],
          [1, 0],
        ]),
      ],
      'masks[0].points[1]: ',
    ],
    ['a point that is no pair', [polygon([[0, 0], 'a', [1, 0]])], 'masks[0].points[1]: must be a point [x, y] (got "a")'],
    [
      'more than 64 points',
      [polygon(Array.from({ length: 65 }, (_, i) => [i / 64, (i % 2) / 2]))],
      'masks[0].points: must have at most 64 points',
    ],
    [
      'collinear points',
      [
        polygon([
          [0.1, 0.1],
          [0.5, 0.5],
          [0.9, 0.9],
        ]),
      ],
      'masks[0].points: must enclose an area: all points lie on one line',
    ],
    [
      'the first point repeated at the end',
      [polygon([...triangle, triangle[0]!])],
      'masks[0].points: must not repeat a point: points[3] repeats points[0] (the outline closes by itself',
    ],
    [
      'a vertex on a far edge',
      [
        polygon([
          [0.1, 0.1],
          [0.9, 0.1],
          [0.9, 0.9],
          [0.5, 0.1],
        ]),
      ],
      'masks[0].points: must not intersect itself: edge 0',
    ],
    ['a rect past the right edge', [rect(0.8, 0, 0.3, 0.5)], 'masks[0].w: must not reach past the right edge: x + w is 1.1, more than 1'],
    ['a rect past the bottom edge', [rect(0, 0.6, 0.5, 0.5)], 'masks[0].h: must not reach past the bottom edge: y + h is 1.1, more than 1'],
    ['a rect of zero width', [rect(0.1, 0.1, 0, 0.5)], 'masks[0].w: must be greater than 0'],
    ['a rect of zero height', [rect(0.1, 0.1, 0.5, 0)], 'masks[0].h: must be greater than 0'],
    ['a negative width', [rect(0.1, 0.1, -0.1, 0.5)], 'masks[0].w: must be between 0 and 1 (got -0.1)'],
    ['x outside the frame', [rect(-0.1, 0, 0.5, 0.5)], 'masks[0].x: must be between 0 and 1 (got -0.1)'],
    ['y outside the frame', [rect(0, 1.5, 0.5, 0.5)], 'masks[0].y: must be between 0 and 1 (got 1.5)'],
    ['a coordinate given as text', [{ ...rect(0, 0, 0.5, 0.5), w: '0.5' }], 'masks[0].w: must be a number from 0 to 1 (got "0.5")'],
    [
      'a missing coordinate',
      [{ shape: 'rect', x: 0, y: 0, w: 0.5, mode: 'fill' }],
      'masks[0].h: must be a number from 0 to 1 (got nothing)',
    ],
    ['an unknown mode', [rect(0, 0, 0.5, 0.5, 'pixelate')], 'masks[0].mode: must be one of fill, blur, mosaic (got "pixelate")'],
    ['a missing mode', [{ shape: 'rect', x: 0, y: 0, w: 0.5, h: 0.5 }], 'masks[0].mode: must be one of fill, blur, mosaic (got nothing)'],
    [
      'an unknown shape',
      [{ shape: 'circle', x: 0.5, y: 0.5, r: 0.1, mode: 'fill' }],
      'masks[0].shape: must be "rect" or "polygon" (got "circle")',
    ],
    ['a missing shape', [{ x: 0, y: 0, w: 0.5, h: 0.5, mode: 'fill' }], 'masks[0].shape: must be "rect" or "polygon" (got nothing)'],
    ['an extra key', [{ ...rect(0, 0, 0.5, 0.5), color: 'red' }], 'masks[0].color: unknown field'],
    ['a polygon with rect fields', [{ ...polygon(triangle), w: 0.1 }], 'masks[0].w: unknown field'],
    ['a mask that is no object', [42], 'masks[0]: must be a mask object (got 42)'],
    ['a list that is no list', { shape: 'rect' }, 'masks: must be a list of masks'],
    ['33 masks', Array.from({ length: 33 }, () => rect(0, 0, 0.5, 0.5)), 'masks: must list at most 32 masks'],
  ])('%s', (_name, input, expected) => {
    expect(problemsOf(input).join('\n')).toContain(expected);
  });

  it('names the index of the mask at fault', () => {
    expect(problemsOf([rect(0, 0, 0.5, 0.5), polygon(triangle), rect(0.9, 0, 0.2, 0.1)])).toEqual([
      'masks[2].w: must not reach past the right edge: x + w is 1.1, more than 1',
    ]);
  });

  it.each<[string, unknown, string[]]>([
    ['points given as text', [polygon('0,0 1,1')], ['masks[0].points: must be a list of points [x, y] (got "0,0 1,1")']],
    [
      'two points, one outside the frame',
      [
        polygon([
          [0, 0],
          [2, 0],
        ]),
      ],
      ['masks[0].points[1][0]: must be between 0 and 1 (got 2)', 'masks[0].points: must have at least 3 points (got 2)'],
    ],
    [
      'masks given as text',
      'rect 0 0 1 1 fill, and more words to make it long enough',
      ['masks: must be a list of masks (got "rect 0 0 1 1 fill, and more words to make it long enough")'],
    ],
  ])('reports %s once, in full', (_name, input, expected) => {
    expect(problemsOf(input)).toEqual(expected);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf([
      rect(0.8, 0.8, 0.3, 0.3),
      polygon(bowTie),
      rect(0, 0, 0.5, 0.5, 'smudge'),
      { ...rect(0, 0, 1, 1), note: 1 },
    ]);
    expect(problems).toEqual([
      'masks[0].w: must not reach past the right edge: x + w is 1.1, more than 1',
      'masks[0].h: must not reach past the bottom edge: y + h is 1.1, more than 1',
      'masks[1].points: must not intersect itself: edge 0 (points[0]→points[1]) and edge 2 (points[2]→points[3]) cross',
      'masks[2].mode: must be one of fill, blur, mosaic (got "smudge")',
      'masks[3].note: unknown field',
    ]);
  });

  it('carries a hint on how to write a mask', () => {
    try {
      validateMasks([rect(0, 0, 2, 2)]);
      expect.unreachable();
    } catch (err) {
      expect((err as GatewayError).hint).toContain('shape:"polygon"');
      expect((err as GatewayError).httpStatus).toBe(400);
    }
  });
});

describe('maskListSchema', () => {
  it('nests in a strict request schema', () => {
    const body = z.strictObject({ masks: maskListSchema });
    expect(body.parse({ masks: [rect(0, 0, 1, 1)] }).masks).toHaveLength(1);
    const bad = body.safeParse({ masks: [polygon(bowTie)] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['masks', 0, 'points']);
  });
});

describe('polygonSelfIntersects', () => {
  it.each<[string, Array<[number, number]>, [number, number] | null]>([
    ['a triangle', triangle, null],
    ['a convex pentagon', pentagon, null],
    ['a concave L', lShape, null],
    ['a concave U', uShape, null],
    ['a bow-tie', bowTie, [0, 2]],
    [
      'a pentagram',
      [
        [0.5, 0],
        [0.8, 1],
        [0, 0.35],
        [1, 0.35],
        [0.2, 1],
      ],
      [0, 2],
    ],
    [
      'an outline folding back over itself',
      [
        [0.1, 0.1],
        [0.9, 0.1],
        [0.9, 0.9],
        [0.9, 0.5],
        [0.1, 0.9],
      ],
      [1, 3],
    ],
    [
      'a vertex touching a far edge',
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [0.5, 0],
      ],
      [0, 2],
    ],
  ])('%s', (_name, points, expected) => {
    expect(polygonSelfIntersects(points)).toEqual(expected);
  });
});
