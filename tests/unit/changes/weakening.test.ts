import { describe, expect, it } from 'vitest';
import { masksWeaken, newPushTargets, profileWeakens, retentionWeakens, uncoveredMasks } from '../../../src/changes/weakening.js';
import type { Mask } from '../../../src/domain/index.js';

const rect = (x: number, y: number, w: number, h: number, mode: Mask['mode'] = 'fill'): Mask => ({ shape: 'rect', x, y, w, h, mode });
const poly = (points: Array<[number, number]>, mode: Mask['mode'] = 'fill'): Mask => ({ shape: 'polygon', points, mode });

const A = rect(0.1, 0.1, 0.3, 0.3);
const B = poly([
  [0.6, 0.1],
  [0.9, 0.1],
  [0.75, 0.5],
]);

describe('masksWeaken: a new mask set that does not hide every pixel the old one hid waits for a second admin', () => {
  const table: Array<[string, Mask[], Mask[], boolean]> = [
    ['unchanged', [A, B], [A, B], false],
    ['no masks before, some after (adding)', [], [A], false],
    ['one more mask (adding)', [A], [A, B], false],
    ['a rectangle grown', [A], [rect(0.05, 0.05, 0.4, 0.4)], false],
    ['a polygon swapped for a rectangle around it', [B], [rect(0.55, 0.05, 0.4, 0.5)], false],
    [
      'a rectangle swapped for a polygon around it',
      [rect(0.2, 0.2, 0.1, 0.1)],
      [
        poly([
          [0.1, 0.1],
          [0.5, 0.1],
          [0.3, 0.6],
        ]),
      ],
      false,
    ],
    ['blur made fill (stronger mode)', [{ ...A, mode: 'blur' }], [A], false],
    ['all masks removed', [A, B], [], true],
    ['one of two removed', [A, B], [A], true],
    ['a rectangle shrunk by a sliver', [A], [rect(0.1, 0.1, 0.3, 0.2999)], true],
    ['a rectangle moved', [A], [rect(0.2, 0.1, 0.3, 0.3)], true],
    [
      'a polygon shrunk',
      [B],
      [
        poly([
          [0.62, 0.12],
          [0.88, 0.12],
          [0.75, 0.45],
        ]),
      ],
      true,
    ],
    ['fill made blur (weaker mode)', [A], [{ ...A, mode: 'blur' }], true],
    ['fill made mosaic (weaker mode)', [A], [{ ...A, mode: 'mosaic' }], true],
    // A concave (C-shaped) polygon around the rectangle whose notch reaches into it.
    [
      'a concave polygon whose notch dips into the old mask',
      [rect(0.3, 0.3, 0.2, 0.2)],
      [
        poly([
          [0.2, 0.2],
          [0.6, 0.2],
          [0.6, 0.6],
          [0.2, 0.6],
          [0.2, 0.42],
          [0.4, 0.42],
          [0.4, 0.38],
          [0.2, 0.38],
        ]),
      ],
      true,
    ],
    // Conservative: two halves that together cover the old mask still wait (no single new mask covers it).
    ['a mask split in two halves', [A], [rect(0.1, 0.1, 0.15, 0.3), rect(0.25, 0.1, 0.15, 0.3)], true],
  ];
  for (const [name, before, after, weakens] of table) {
    it(`${name}: ${weakens ? 'weakens' : 'applies at once'}`, () => {
      expect(masksWeaken(before, after)).toBe(weakens);
    });
  }

  it('names the old masks left uncovered', () => {
    expect(uncoveredMasks([A, B], [B])).toEqual([0]);
  });
});

describe('config rules', () => {
  it.each([
    [30, 15, true],
    [30, 30, false],
    [30, 90, false],
  ])('retention %i → %i days weakens: %s', (before, after, weakens) => {
    expect(retentionWeakens(before, after)).toBe(weakens);
  });

  it.each([
    ['strict', 'strict', false],
    ['strict', 'hubei', true],
    ['guangdong', 'strict', true],
  ])('profile %s → %s weakens: %s', (before, after, weakens) => {
    expect(profileWeakens(before, after)).toBe(weakens);
  });

  it('a push target not approved before is new; dropping one is not', () => {
    expect(newPushTargets(['a', 'b'], ['a', 'c'])).toEqual(['c']);
    expect(newPushTargets(['a', 'b'], ['a'])).toEqual([]);
  });
});
