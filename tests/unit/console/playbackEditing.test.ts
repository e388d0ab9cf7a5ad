import { describe, expect, it } from 'vitest';
import { hitMask, hitVertex, moveMask, moveVertex, resizeRect, type Mask } from '../../../web/src/maskGeometry.js';
import { correction, frameSeconds, localInputValue, parseLocalInput, SEEK_DRIFT_S } from '../../../web/src/playbackSync.js';

describe('synchronised playback', () => {
  const follower = { baseMs: 10_000, currentTime: 5, durationS: 20 };

  it('compares wall-clock times: a follower whose playlist starts elsewhere is in step at another currentTime', () => {
    // The clock shows 15 s past the epoch; the follower's playlist starts at 10 s, so 5 s into it.
    expect(correction(follower, 15_000, 1)).toEqual({ kind: 'rate', playbackRate: 1 });
  });

  it('nudges a small drift by rate, seeks a large one, and stands apart outside its recording', () => {
    const behind = correction(follower, 15_200, 2);
    expect(behind.kind).toBe('rate');
    expect(behind.kind === 'rate' && behind.playbackRate).toBeGreaterThan(2);
    expect(behind.kind === 'rate' && behind.playbackRate).toBeLessThanOrEqual(2.2);
    const ahead = correction(follower, 14_800, 1);
    expect(ahead.kind === 'rate' && ahead.playbackRate).toBeLessThan(1);
    expect(correction(follower, 15_000 + SEEK_DRIFT_S * 1000 + 100, 1)).toEqual({ kind: 'seek', currentTime: 5.5 });
    expect(correction(follower, 9_000, 1)).toEqual({ kind: 'outside' });
    expect(correction(follower, 31_000, 1)).toEqual({ kind: 'outside' });
    // Paused (a frame step): a drift of a frame is sought exactly.
    expect(correction(follower, 15_080, 1, true)).toEqual({ kind: 'seek', currentTime: 5.08 });
  });

  it('measures the frame length from presented media times (25 fps until three steps are seen)', () => {
    expect(frameSeconds([])).toBe(0.04);
    expect(frameSeconds([1, 1.0333, 1.0667, 1.1, 1.1333])).toBeCloseTo(1 / 30, 3);
    // A skipped frame or a seek does not count as the frame length.
    expect(frameSeconds([1, 1.04, 1.08, 1.16, 1.2, 3])).toBeCloseTo(0.04, 3);
  });

  it('reads and writes datetime-local values in local time, to the second', () => {
    const ms = new Date(2026, 11, 6, 10, 15, 30).getTime();
    expect(localInputValue(ms)).toBe('2026-12-06T10:15:30');
    expect(parseLocalInput('2026-12-06T10:15:30')).toBe(ms);
    expect(parseLocalInput('2026-12-06T10:15')).toBe(ms - 30_000);
    expect(parseLocalInput('')).toBeNull();
    expect(parseLocalInput('yesterday')).toBeNull();
  });
});

describe('mask shapes edited', () => {
  const rect: Mask = { shape: 'rect', x: 0.1, y: 0.1, w: 0.2, h: 0.2, mode: 'fill' };
  const triangle: Mask = {
    shape: 'polygon',
    points: [
      [0.6, 0.1],
      [0.9, 0.1],
      [0.75, 0.5],
    ],
    mode: 'blur',
  };

  it('finds the topmost shape under a point and a polygon vertex within reach', () => {
    expect(hitMask([rect, triangle], [0.2, 0.2])).toBe(0);
    expect(hitMask([rect, triangle], [0.75, 0.2])).toBe(1);
    expect(hitMask([rect, triangle], [0.6, 0.45])).toBe(-1);
    expect(hitMask([rect, { ...rect, mode: 'blur' }], [0.2, 0.2])).toBe(1);
    expect(hitVertex(triangle, [0.61, 0.11], 0.03)).toBe(0);
    expect(hitVertex(triangle, [0.7, 0.3], 0.03)).toBe(-1);
    expect(hitVertex(rect, [0.1, 0.1], 0.03)).toBe(-1);
  });

  it('moves a shape whole, stopping at the frame edge with its size kept', () => {
    expect(moveMask(rect, 0.2, 0.1)).toEqual({ ...rect, x: 0.3, y: 0.2 });
    expect(moveMask(rect, 0.95, -0.5)).toEqual({ ...rect, x: 0.8, y: 0 });
    expect(moveMask(triangle, 0.2, 0)).toEqual({
      ...triangle,
      points: [
        [0.7, 0.1],
        [1, 0.1],
        [0.85, 0.5],
      ],
    });
  });

  it('moves one vertex and resizes a rectangle within the frame', () => {
    expect(triangle.shape === 'polygon' && moveVertex(triangle, 0, [0.55, 1.2]).points[0]).toEqual([0.55, 1]);
    expect(rect.shape === 'rect' && resizeRect(rect, 'w', 0.95)).toEqual({ ...rect, w: 0.9 });
    expect(rect.shape === 'rect' && resizeRect(rect, 'x', 0.5)).toEqual({ ...rect, x: 0.5 });
  });
});
