import { describe, expect, it } from 'vitest';
import { CASCADE_FACE_REGION, mergeOverlapping, toHiddenRegion, type Detection } from '../../../src/desensitize/index.js';

const box = (cascade?: Detection['cascade']): Detection => ({
  x: 100,
  y: 50,
  width: 100,
  height: 100,
  kind: 'face',
  ...(cascade ? { cascade } : {}),
});

describe('toHiddenRegion', () => {
  it('keeps a frontal box, a plate and a box of unknown cascade as found', () => {
    expect(toHiddenRegion(box('frontal'))).toEqual(box('frontal'));
    const plate: Detection = { x: 10, y: 20, width: 80, height: 20, kind: 'plate', cascade: 'plate' };
    expect(toHiddenRegion(plate)).toEqual(plate);
    expect(toHiddenRegion(box())).toEqual(box());
  });

  it("cuts a profile box to the face on the side it looks to, by the cascade's proportions", () => {
    const p = CASCADE_FACE_REGION.profile;
    const r = toHiddenRegion(box('profile'));
    expect(r).toMatchObject({ kind: 'face', cascade: 'profile' });
    expect(r.x).toBeCloseTo(100 + 100 * p.left);
    expect(r.y).toBeCloseTo(50 + 100 * p.top);
    expect(r.width).toBeCloseTo(100 * (p.right - p.left));
    expect(r.height).toBeCloseTo(100 * (p.bottom - p.top));
    // The face lies towards the right of a profile box, towards the left of a mirrored one.
    const m = toHiddenRegion(box('profileMirrored'));
    expect(r.x + r.width / 2).toBeGreaterThan(150);
    expect(m.x + m.width / 2).toBeLessThan(150);
    // Narrower than the box it came from (the cascade spans the back of the head and the hair).
    expect(r.width).toBeLessThan(70);
    expect(m.width).toBeLessThan(85);
  });

  it("still covers the face in the measured extremes of the profile cascades' boxes (>= 95 %)", () => {
    // The worst boxes measured on the faces scene: the truth's edges as shares of the box.
    const extremes: { cascade: 'profile' | 'profileMirrored'; face: [number, number, number, number] }[] = [
      { cascade: 'profile', face: [0.308, 0.839, 0.169, 0.924] },
      { cascade: 'profile', face: [0.372, 0.928, 0.227, 1.034] },
      { cascade: 'profileMirrored', face: [0.063, 0.657, 0.082, 0.828] },
      { cascade: 'profileMirrored', face: [0.212, 0.813, 0.25, 1.12] },
    ];
    for (const { cascade, face } of extremes) {
      const [l, r, t, b] = face;
      const region = toHiddenRegion({ ...box(cascade), x: 0, y: 0 });
      const ix = Math.max(0, Math.min(region.x + region.width, 100 * r) - Math.max(region.x, 100 * l));
      const iy = Math.max(0, Math.min(region.y + region.height, 100 * b) - Math.max(region.y, 100 * t));
      expect((ix * iy) / (100 * (r - l) * 100 * (b - t)), `${cascade} ${face.join(' ')}`).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('merges the cut boxes of one face into their union, which names no single cascade', () => {
    const [merged, ...rest] = mergeOverlapping([toHiddenRegion(box('profile')), toHiddenRegion(box('profileMirrored'))]);
    expect(rest).toEqual([]);
    expect(merged!.cascade).toBeUndefined();
    expect(merged!.x).toBeCloseTo(100 + 100 * CASCADE_FACE_REGION.profileMirrored.left);
    expect(merged!.x + merged!.width).toBeCloseTo(100 + 100 * CASCADE_FACE_REGION.profile.right);
  });
});
