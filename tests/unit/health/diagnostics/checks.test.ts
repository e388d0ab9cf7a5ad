import { describe, expect, it } from 'vitest';
import { CameraAnalyzer, type AnalyzerSettings } from '../../../../src/health/diagnostics/analyzer.js';
import {
  DEFAULT_THRESHOLDS,
  Debouncer,
  IMAGE_CHECKS,
  judge,
  sharpnessOf,
  type Baseline,
  type ImageCheck,
} from '../../../../src/health/diagnostics/checks.js';
import { measureFrame, type GrayFrame } from '../../../../src/health/diagnostics/features.js';
import { blurred, exposed, otherScene, scene, uniform } from './syntheticFrames.js';

const baseline: Baseline = { sharpness: sharpnessOf(measureFrame(scene())), grid: measureFrame(scene()).grid };

/** The checks a frame (after `previous`) is judged to show. */
function shown(frame: GrayFrame, previous: GrayFrame | null = scene(99)): ImageCheck[] {
  const v = judge(measureFrame(frame, previous), baseline, DEFAULT_THRESHOLDS);
  return IMAGE_CHECKS.filter((c) => v[c] === true);
}

describe('judge (one sample against the baseline)', () => {
  it.each<[string, () => GrayFrame, GrayFrame | null, ImageCheck[]]>([
    ['a normal moving scene', () => scene(1), scene(0), []],
    ['black', () => uniform(0), scene(0), ['image_black']],
    ['a blank grey picture', () => uniform(128), scene(0), ['image_black']],
    ['a frozen picture', () => scene(4), scene(4), ['image_frozen']],
    ['a blurred picture', () => blurred(scene(1)), blurred(scene(0)), ['image_blurred']],
    ['a covered lens', () => exposed(blurred(scene(1), 8, 3), 0.15, 5), null, ['image_covered']],
    ['a dark but detailed picture', () => exposed(scene(1), 0.15), scene(0), ['image_too_dark']],
    ['another view', () => otherScene(1), otherScene(0), ['scene_changed']],
  ])('%s', (_what, frame, previous, expected) => {
    expect(shown(frame(), previous)).toEqual(expected);
  });

  it('abstains where a sample cannot tell', () => {
    const f = measureFrame(uniform(0));
    expect(judge(f, baseline, DEFAULT_THRESHOLDS)).toMatchObject({ image_frozen: null, image_blurred: null, scene_changed: null });
    const noBaseline = judge(measureFrame(scene(1)), null, DEFAULT_THRESHOLDS);
    expect(noBaseline).toMatchObject({
      image_black: false,
      image_frozen: null,
      image_blurred: null,
      image_covered: null,
      scene_changed: null,
    });
    // Blur is not judged on another view: the baseline's sharpness belongs to the old one.
    expect(judge(measureFrame(otherScene(1), otherScene(0)), baseline, DEFAULT_THRESHOLDS).image_blurred).toBeNull();
  });
});

describe('Debouncer', () => {
  it('fires after N samples in a row, clears after M, and ignores abstentions', () => {
    const d = new Debouncer(3, 2);
    expect([true, true, false, true, true, null, true].map((s) => d.push(s))).toEqual([false, false, false, false, false, false, true]);
    expect([false, true, false, null, false].map((s) => d.push(s))).toEqual([true, true, true, true, false]);
    expect(new Debouncer(3, 2, true).active).toBe(true);
  });
});

describe('CameraAnalyzer', () => {
  const settings: AnalyzerSettings = {
    thresholds: DEFAULT_THRESHOLDS,
    fireAfter: { ...(Object.fromEntries(IMAGE_CHECKS.map((c) => [c, 3])) as Record<ImageCheck, number>), image_frozen: 5 },
    clearAfter: 2,
    learnSamples: 4,
  };

  it('learns from healthy samples only, then debounces each condition', () => {
    const a = new CameraAnalyzer(settings);
    // Black samples teach nothing.
    expect(a.push(uniform(0)).learningLeft).toBe(4);
    let t = 0;
    const results = [1, 2, 3, 4].map(() => a.push(scene(t++)));
    expect(results.map((r) => r.learningLeft)).toEqual([3, 2, 1, 0]);
    expect(results[3]?.learned?.sharpness).toBeCloseTo(baseline.sharpness, 2);
    expect(a.baseline).not.toBeNull();
    // Another view: fires on the third sample, not before.
    const turned = [0, 1, 2].map((i) => a.push(otherScene(i)).active.scene_changed);
    expect(turned).toEqual([false, false, true]);
    // Back: clears on the second normal sample.
    expect([a.push(scene(t++)).active.scene_changed, a.push(scene(t++)).active.scene_changed]).toEqual([true, false]);
  });

  it('needs longer for a frozen picture, and a gap breaks the comparison', () => {
    const a = new CameraAnalyzer(settings, baseline);
    // The first sample has nothing to compare with; three still ones follow.
    const frozen = [0, 1, 2, 3].map(() => a.push(scene(7)).active.image_frozen);
    expect(frozen).toEqual([false, false, false, false]);
    a.gap();
    // After a gap the first frame abstains too: the run of still samples goes on from there.
    expect(a.push(scene(7)).figures.motion).toBeNull();
    expect(a.push(scene(7)).active.image_frozen).toBe(false);
    expect(a.push(scene(7)).active.image_frozen).toBe(true);
  });

  it('relearns on request and keeps firing states across a reconfiguration', () => {
    const a = new CameraAnalyzer(settings, baseline);
    for (let i = 0; i < 3; i++) a.push(blurred(scene(i)));
    expect(a.push(blurred(scene(4))).active.image_blurred).toBe(true);
    a.configure({ ...settings, clearAfter: 5 });
    expect(a.push(blurred(scene(5))).active.image_blurred).toBe(true);
    a.relearn();
    expect(a.baseline).toBeNull();
    const r = a.push(blurred(scene(6)));
    expect(r.active.image_blurred).toBe(false);
    expect(r.learningLeft).toBe(3);
  });
});
