import { describe, expect, it } from 'vitest';
import { StallJudge } from '../../../src/pipeline/stallJudge.js';

/** Advances every `everyMs` from `from` to `to` (monotonic ms); returns the last advance. */
function feed(judge: StallJudge, from: number, to: number, everyMs: number): number {
  let t = from;
  for (; t <= to; t += everyMs) judge.advance(t);
  return t - everyMs;
}

describe('StallJudge', () => {
  it('judges a steady 25 fps stream (an advance per 250 ms progress report) stalled after the 2 s floor, not the 3 s cap', () => {
    const judge = new StallJudge({ capMs: 3000 });
    const last = feed(judge, 0, 10_000, 250);
    expect(judge.thresholdMs(last)).toBe(2000);
    expect(judge.stalled(last + 1900)).toBe(false);
    expect(judge.stalled(last + 2100)).toBe(true);
  });

  it('waits the full cap for a 1 fps stream and for one that sends in bursts with long pauses', () => {
    const slow = new StallJudge({ capMs: 3000 });
    const last = feed(slow, 0, 20_000, 1000);
    expect(slow.thresholdMs(last)).toBe(3000);
    expect(slow.stalled(last + 2900)).toBe(false);

    const bursty = new StallJudge({ capMs: 3000 });
    let t = 0;
    for (let cycle = 0; cycle < 10; cycle++) {
      t = feed(bursty, t, t + 600, 250) + 1600;
    }
    expect(bursty.thresholdMs(t)).toBe(3000);
  });

  it('applies the cap while the interval is still being learnt, and after a reset', () => {
    const judge = new StallJudge({ capMs: 3000 });
    const last = feed(judge, 0, 4000, 250);
    expect(judge.thresholdMs(last)).toBe(3000);
    feed(judge, 4250, 8000, 250);
    expect(judge.thresholdMs(8000)).toBe(2000);
    judge.reset();
    expect(judge.stalled(100_000)).toBe(false);
    judge.advance(100_000);
    expect(judge.thresholdMs(100_500)).toBe(3000);
  });

  it('forgets a long wait once it is older than the window, keeping little state however long it runs', () => {
    const judge = new StallJudge({ capMs: 3000, windowMs: 10_000 });
    feed(judge, 0, 5000, 250);
    judge.advance(5700); // one 700 ms wait → 4 × 700 = 2800 ms
    feed(judge, 5950, 12_000, 250);
    expect(judge.thresholdMs(12_000)).toBe(2800);
    const last = feed(judge, 12_250, 3_600_000, 250);
    expect(judge.thresholdMs(last)).toBe(2000);
    expect((judge as unknown as { gaps: unknown[] }).gaps.length).toBeLessThanOrEqual(2);
  });

  it('never judges sooner than a cap below the floor (stallSeconds 1)', () => {
    const judge = new StallJudge({ capMs: 1000 });
    const last = feed(judge, 0, 10_000, 250);
    expect(judge.thresholdMs(last)).toBe(1000);
  });
});
