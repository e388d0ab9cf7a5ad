import { afterEach, describe, expect, it, vi } from 'vitest';
import { Ticker } from '../../../src/pipeline/ticker.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('Ticker', () => {
  it('runs any number of checks on one timer, which stops once the last check is removed', () => {
    vi.useFakeTimers();
    const setSpy = vi.spyOn(globalThis, 'setInterval');
    const clearSpy = vi.spyOn(globalThis, 'clearInterval');
    const ticker = new Ticker(100);
    const counts = [0, 0, 0];
    const removers = counts.map((_, i) => ticker.add(() => (counts[i] = (counts[i] ?? 0) + 1)));
    vi.advanceTimersByTime(350);
    expect(counts).toEqual([3, 3, 3]);
    expect(setSpy).toHaveBeenCalledTimes(1);
    removers[0]?.();
    vi.advanceTimersByTime(100);
    expect(counts).toEqual([3, 4, 4]);
    removers[1]?.();
    removers[2]?.();
    expect(clearSpy).toHaveBeenCalledTimes(1);
    expect(ticker.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    ticker.add(() => undefined);
    expect(setSpy).toHaveBeenCalledTimes(2);
  });

  it('lets a check remove itself during a tick without skipping the others', () => {
    vi.useFakeTimers();
    const ticker = new Ticker(100);
    const seen: string[] = [];
    const removeA = ticker.add(() => {
      seen.push('a');
      removeA();
    });
    ticker.add(() => seen.push('b'));
    vi.advanceTimersByTime(200);
    expect(seen).toEqual(['a', 'b', 'b']);
  });
});
