import type { Cascade, Detection } from './types.js';

/**
 * Where the region to hide lies inside a cascade's box, as shares of the box: x from `left` to
 * `right` of its width, y from `top` to `bottom` of its height (below 0 or above 1 grows it).
 *
 * Measured on the composed faces scene (bench/facesScene.ts: the astronaut frontal, the
 * cameraman in profile, 600 frames, detections on every 5th 480×270 frame, each box compared with
 * the ground-truth face it holds at least half of; docs/desensitization.md, "Cascade boxes"):
 * the truth's edges as shares of the box, min / median / max over the boxes, then the factor
 * taken a little outside the extreme so that a face stays ≥ 95 % covered before the tracker's
 * own margin is added:
 *
 *   frontal (120 boxes)          left −0.005 / 0.04 / 0.12, right 0.89 / 0.94 / 0.99,
 *                                top 0.005 / 0.06 / 0.12, bottom 0.93 / 1.00 / 1.04
 *                                → already the face: kept as it is.
 *   profile (40)                 left 0.31 / 0.33 / 0.37, right 0.84 / 0.89 / 0.93,
 *                                top 0.17 / 0.21 / 0.23, bottom 0.92 / 0.99 / 1.03
 *   profileMirrored (121)        left 0.06 / 0.16 / 0.21, right 0.66 / 0.71 / 0.81,
 *                                top 0.08 / 0.20 / 0.25, bottom 0.83 / 0.97 / 1.12
 *
 * The profile cascade's box spans the back of the head and the hair: the face is about 55 % of
 * its width, on the side the face looks to. One photograph per cascade: these are this scene's
 * proportions, kept on the safe side, not a general law. Plates: kept as found.
 */
export interface BoxShares {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const CASCADE_FACE_REGION: Readonly<Record<Cascade, Readonly<BoxShares>>> = {
  frontal: { left: 0, right: 1, top: 0, bottom: 1 },
  profile: { left: 0.3, right: 0.93, top: 0.17, bottom: 1.03 },
  profileMirrored: { left: 0.06, right: 0.82, top: 0.09, bottom: 1.08 },
  plate: { left: 0, right: 1, top: 0, bottom: 1 },
};

/**
 * The region a detection stands for: its box cut to the face by the proportions of the cascade
 * that fired. A box whose cascade is not known (merged, or from elsewhere) is kept whole.
 */
export function toHiddenRegion(d: Detection, shares: Readonly<Record<Cascade, Readonly<BoxShares>>> = CASCADE_FACE_REGION): Detection {
  const s = d.cascade ? shares[d.cascade] : undefined;
  if (!s) return d;
  return {
    ...d,
    x: d.x + s.left * d.width,
    y: d.y + s.top * d.height,
    width: (s.right - s.left) * d.width,
    height: (s.bottom - s.top) * d.height,
  };
}
