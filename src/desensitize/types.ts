import type { DesensitizerStart, LiveHealth, LiveRegion, LiveRegionSnapshot, LiveRegionSource } from '../pipeline/index.js';

/*
 * The pipeline defines what it needs of a desensitizer (it cannot import this module); the
 * names here are the same types, as this module speaks of them.
 */
export type RegionKind = LiveRegion['kind'];
/** A region to hide in the camera's full-resolution coordinates (pixels), already expanded by the safety margin. */
export type HiddenRegion = LiveRegion;
/** What the desensitizer knows at one moment. `freshAt` is performance.now() of the newest detection folded in. */
export type RegionSnapshot = LiveRegionSnapshot;
export type DesensitizerHealth = LiveHealth;
/** regionsAt(at): regions predicted for the frame at `at` (performance.now() ms); the masking side fails closed on any health but 'ok'. */
export type Desensitizer = LiveRegionSource;

export type DesensitizerOptions = DesensitizerStart;

/**
 * The cascade that found a box: the frontal face one, the profile one on the frame (faces
 * looking to the image's left... as OpenCV trained it) or on its mirror image, or the plate one.
 */
export type Cascade = 'frontal' | 'profile' | 'profileMirrored' | 'plate';

/** One box found by the detector, in the camera's full-resolution pixels, unexpanded. */
export interface Detection {
  x: number;
  y: number;
  width: number;
  height: number;
  kind: RegionKind;
  /** Which cascade fired (absent for boxes merged from several, or not from the detector). */
  cascade?: Cascade;
}
