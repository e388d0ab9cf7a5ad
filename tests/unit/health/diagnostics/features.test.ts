import { describe, expect, it } from 'vitest';
import { measureFrame, meanGrid, median, sceneSimilarity, GRID_COLS, GRID_ROWS } from '../../../../src/health/diagnostics/features.js';
import { blurred, exposed, otherScene, scene, uniform, W, H } from './syntheticFrames.js';

describe('measureFrame', () => {
  it('measures brightness, contrast and detail', () => {
    const flat = measureFrame(uniform(70));
    expect(flat.mean).toBe(70);
    expect(flat.stddev).toBe(0);
    expect(flat.edge).toBe(0);
    expect(flat.grid).toHaveLength(GRID_COLS * GRID_ROWS);
    expect(new Set(flat.grid)).toEqual(new Set([70]));
    const sharp = measureFrame(scene());
    expect(sharp.stddev).toBeGreaterThan(30);
    expect(sharp.edge).toBeGreaterThan(5 * measureFrame(blurred(scene())).edge);
  });

  it('counts changed pixels only against a previous frame of the same size', () => {
    expect(measureFrame(scene(0)).motion).toBeNull();
    expect(measureFrame(scene(0), scene(0)).motion).toBe(0);
    // The square moved 7 px: its old and new columns changed, 10 rows high.
    expect(measureFrame(scene(1), scene(0)).motion).toBeCloseTo((2 * 7 * 10) / (W * H), 3);
    expect(measureFrame(scene(0), { width: 80, height: 45, pixels: new Uint8Array(80 * 45) }).motion).toBeNull();
  });

  it('refuses a buffer that does not match its size', () => {
    expect(() => measureFrame({ width: W, height: H, pixels: new Uint8Array(10) })).toThrow(/needs 14400 bytes, got 10/);
  });
});

describe('sceneSimilarity', () => {
  it('is 1 for the same view whatever the exposure, low for another view, 0 for a flat one', () => {
    const ref = measureFrame(scene()).grid;
    expect(sceneSimilarity(ref, measureFrame(scene(3)).grid)).toBeGreaterThan(0.95);
    expect(sceneSimilarity(ref, measureFrame(exposed(scene(), 0.3, 5)).grid)).toBeGreaterThan(0.95);
    expect(sceneSimilarity(ref, measureFrame(blurred(scene())).grid)).toBeGreaterThan(0.9);
    expect(sceneSimilarity(ref, measureFrame(otherScene()).grid)).toBeLessThan(0.5);
    expect(sceneSimilarity(ref, measureFrame(uniform(40)).grid)).toBe(0);
    expect(sceneSimilarity(ref, [1, 2, 3])).toBe(0);
  });
});

describe('meanGrid and median', () => {
  it('average grids element-wise and take the middle value', () => {
    expect(
      meanGrid([
        [0, 10],
        [10, 30],
      ]),
    ).toEqual([5, 20]);
    expect(meanGrid([])).toEqual([]);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});
