import type { FrameFeatures } from './features.js';
import { sceneSimilarity } from './features.js';

/** The image checks, each an incident kind and a metric label. */
export const IMAGE_CHECKS = ['image_black', 'image_frozen', 'image_blurred', 'image_covered', 'scene_changed', 'image_too_dark'] as const;
export type ImageCheck = (typeof IMAGE_CHECKS)[number];

/** Limits of the checks; config `diagnostics.thresholds`, overridable per camera. */
export interface ImageThresholds {
  /** Black or blank: luma spread below this (a uniform picture of any brightness). */
  blackMaxStddev: number;
  /** Frozen: at most this share of pixels changes between samples. */
  frozenMaxMotion: number;
  /** Blurred: sharpness (detail per unit of contrast) below this share of the camera's baseline. */
  blurMaxSharpnessRatio: number;
  /** Covered: sharpness below this share of the baseline, with little contrast and light. */
  coveredMaxSharpnessRatio: number;
  coveredMaxStddev: number;
  coveredMaxMean: number;
  /** Scene changed: the layout's similarity to the reference below this (1 = same view). */
  sceneMinSimilarity: number;
  /** Too dark: mean luma below this while the picture still has detail. */
  tooDarkMaxMean: number;
}

export const DEFAULT_THRESHOLDS: ImageThresholds = {
  blackMaxStddev: 2,
  frozenMaxMotion: 0.0005,
  blurMaxSharpnessRatio: 0.4,
  coveredMaxSharpnessRatio: 0.3,
  coveredMaxStddev: 20,
  coveredMaxMean: 80,
  sceneMinSimilarity: 0.5,
  tooDarkMaxMean: 35,
};

/** What the camera looks like when healthy: learned over its first samples, or reset by the user. */
export interface Baseline {
  /** Median sharpness (edge / stddev) of the learning samples. */
  sharpness: number;
  /** Mean block grid of the learning samples: the reference view. */
  grid: number[];
}

/** Detail per unit of contrast: a darker or flatter exposure keeps it, defocus lowers it. */
export function sharpnessOf(f: FrameFeatures): number {
  return f.edge / Math.max(1, f.stddev);
}

/** Whether a sample may teach the baseline: a picture with content, neither blank nor dark. */
export function fitForBaseline(f: FrameFeatures, t: ImageThresholds): boolean {
  return f.stddev >= 4 * t.blackMaxStddev && f.mean >= t.tooDarkMaxMean;
}

/** Per check: true (condition seen), false (not seen), null (cannot be judged from this sample). */
export type Verdicts = Record<ImageCheck, boolean | null>;

/**
 * Judges one sample. A black or covered picture hides everything else, so the checks that
 * need a visible scene (blur, scene, frozen, dark) abstain then; without a baseline blur,
 * covered-by-detail and scene change abstain too, and blur abstains on a changed scene
 * (the baseline's sharpness belongs to the old view).
 */
export function judge(f: FrameFeatures, baseline: Baseline | null, t: ImageThresholds): Verdicts {
  const black = f.stddev < t.blackMaxStddev;
  const ratio = baseline && baseline.sharpness > 0 ? sharpnessOf(f) / baseline.sharpness : null;
  const covered =
    black || ratio === null
      ? black
        ? false
        : null
      : ratio < t.coveredMaxSharpnessRatio && f.stddev < t.coveredMaxStddev && f.mean < t.coveredMaxMean;
  const hidden = black || covered === true;
  const sceneChanged = hidden || baseline === null ? null : sceneSimilarity(baseline.grid, f.grid) < t.sceneMinSimilarity;
  return {
    image_black: black,
    image_covered: covered,
    image_frozen: hidden || f.motion === null ? null : f.motion <= t.frozenMaxMotion,
    image_blurred: hidden || ratio === null || sceneChanged === true ? null : ratio < t.blurMaxSharpnessRatio,
    scene_changed: sceneChanged,
    image_too_dark: hidden ? false : f.mean < t.tooDarkMaxMean,
  };
}

/**
 * Debounce with hysteresis: a condition fires after `fireAfter` consecutive samples that
 * show it and clears after `clearAfter` consecutive samples that do not. Samples that
 * cannot judge (null) neither count nor break a run.
 */
export class Debouncer {
  #active: boolean;
  #run = 0;

  constructor(
    private readonly fireAfter: number,
    private readonly clearAfter: number,
    active = false,
  ) {
    this.#active = active;
  }

  get active(): boolean {
    return this.#active;
  }

  /** Feeds one verdict; returns the new state. */
  push(seen: boolean | null): boolean {
    if (seen === null) return this.#active;
    if (seen === this.#active) {
      this.#run = 0;
      return this.#active;
    }
    this.#run += 1;
    if (this.#run >= (this.#active ? this.clearAfter : this.fireAfter)) {
      this.#active = seen;
      this.#run = 0;
    }
    return this.#active;
  }
}
