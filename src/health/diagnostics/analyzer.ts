import {
  Debouncer,
  fitForBaseline,
  IMAGE_CHECKS,
  judge,
  sharpnessOf,
  type Baseline,
  type ImageCheck,
  type ImageThresholds,
  type Verdicts,
} from './checks.js';
import { measureFrame, meanGrid, median, sceneSimilarity, type GrayFrame } from './features.js';

/** How the analysis of one camera counts time: in samples. */
export interface AnalyzerSettings {
  thresholds: ImageThresholds;
  /** Consecutive samples showing a condition before it fires, per check. */
  fireAfter: Record<ImageCheck, number>;
  /** Consecutive samples without it before it clears. */
  clearAfter: number;
  /** Healthy samples that make the baseline (sharpness, reference view). */
  learnSamples: number;
}

/** The measurements of the last sample, as the API and the metrics show them. */
export interface SampleFigures {
  mean: number;
  stddev: number;
  sharpness: number;
  /** Sharpness relative to the baseline; null while learning. */
  sharpnessRatio: number | null;
  motion: number | null;
  /** Similarity of the view to the reference; null while learning. */
  similarity: number | null;
}

export interface SampleResult {
  figures: SampleFigures;
  verdicts: Verdicts;
  /** The debounced state of every check. */
  active: Record<ImageCheck, boolean>;
  /** Healthy samples still needed before the baseline is known (0 once learned). */
  learningLeft: number;
  /** Set on the sample that completed learning: the new baseline, for persisting. */
  learned?: Baseline;
}

/**
 * The image diagnostics of one camera, sample by sample (pure, no I/O): measures, judges
 * against the camera's own baseline, and debounces. Runs in the analysis worker.
 */
export class CameraAnalyzer {
  #baseline: Baseline | null;
  #previous: GrayFrame | null = null;
  #learning: { sharpness: number[]; grids: number[][] } = { sharpness: [], grids: [] };
  #debouncers = {} as Record<ImageCheck, Debouncer>;

  constructor(
    private settings: AnalyzerSettings,
    baseline: Baseline | null = null,
  ) {
    this.#baseline = baseline;
    this.#resetDebouncers(IMAGE_CHECKS);
  }

  get baseline(): Baseline | null {
    return this.#baseline;
  }

  /** The sampler restarted: the next frame has no predecessor to compare motion with. */
  gap(): void {
    this.#previous = null;
  }

  /** Forget the baseline and reference view; the next healthy samples teach new ones. */
  relearn(): void {
    this.#baseline = null;
    this.#learning = { sharpness: [], grids: [] };
    this.#resetDebouncers(['image_blurred', 'image_covered', 'scene_changed']);
  }

  configure(settings: AnalyzerSettings): void {
    this.settings = settings;
    this.#resetDebouncers(IMAGE_CHECKS, true);
  }

  push(frame: GrayFrame): SampleResult {
    const f = measureFrame(frame, this.#previous);
    this.#previous = frame;
    const t = this.settings.thresholds;
    let learned: Baseline | undefined;
    if (this.#baseline === null && fitForBaseline(f, t)) {
      this.#learning.sharpness.push(sharpnessOf(f));
      this.#learning.grids.push(f.grid);
      if (this.#learning.sharpness.length >= this.settings.learnSamples) {
        learned = { sharpness: median(this.#learning.sharpness), grid: meanGrid(this.#learning.grids) };
        this.#baseline = learned;
        this.#learning = { sharpness: [], grids: [] };
      }
    }
    const baseline = this.#baseline;
    const verdicts = judge(f, baseline, t);
    const active = Object.fromEntries(IMAGE_CHECKS.map((c) => [c, this.#debouncers[c].push(verdicts[c])])) as Record<ImageCheck, boolean>;
    const sharpness = sharpnessOf(f);
    return {
      figures: {
        mean: f.mean,
        stddev: f.stddev,
        sharpness,
        sharpnessRatio: baseline && baseline.sharpness > 0 ? sharpness / baseline.sharpness : null,
        motion: f.motion,
        similarity: baseline ? sceneSimilarity(baseline.grid, f.grid) : null,
      },
      verdicts,
      active,
      learningLeft: baseline ? 0 : this.settings.learnSamples - this.#learning.sharpness.length,
      ...(learned ? { learned } : {}),
    };
  }

  #resetDebouncers(checks: readonly ImageCheck[], keepState = false): void {
    const next = { ...this.#debouncers } as Record<ImageCheck, Debouncer>;
    for (const c of checks) {
      // A condition firing under the old settings keeps firing and clears by the new rules.
      const wasActive = keepState && (this.#debouncers[c]?.active ?? false);
      next[c] = new Debouncer(this.settings.fireAfter[c], this.settings.clearAfter, wasActive);
    }
    this.#debouncers = next;
  }
}
