import { describe, expect, it } from 'vitest';
import { FrameRateWindow } from '../../../src/pipeline/supervisor.js';

describe('FrameRateWindow', () => {
  it('measures the current rate over the window, not the average since start', () => {
    const w = new FrameRateWindow(2000);
    let frame = 0;
    let rate = 0;
    for (let t = 0; t <= 10_000; t += 500) {
      frame += t <= 5000 ? 12.5 : 5; // 25 fps, then 10 fps
      rate = w.add(t, frame);
    }
    expect(rate).toBeCloseTo(10, 0);
  });

  it('reports 0 with a single sample and after a reset', () => {
    const w = new FrameRateWindow(2000);
    expect(w.add(0, 100)).toBe(0);
    w.add(500, 112);
    w.reset();
    expect(w.add(1000, 120)).toBe(0);
  });
});
