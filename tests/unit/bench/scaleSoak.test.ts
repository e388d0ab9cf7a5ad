import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../../bench/options.js';
import { summarizeLag } from '../../../bench/scaleLoad.js';
import { between, stepDown } from '../../../bench/scalePhase.js';
import { slope } from '../../../bench/soakPhase.js';

describe('bench scale and soak options', () => {
  it('leaves scale and soak out of the default run', () => {
    const o = parseOptions([], {});
    expect(o.phases.has('scale')).toBe(false);
    expect(o.phases.has('soak')).toBe(false);
    expect(o.phases.has('live')).toBe(true);
    expect(o.scale.cameras).toBe(200);
    expect(o.soak).toEqual({ cameras: 20, minutes: 60, sampleSeconds: 10 });
  });

  it('takes --only scale with --scale-cameras, and --only soak with --minutes', () => {
    const scale = parseOptions(['--only', 'scale', '--scale-cameras', '50'], {});
    expect([...scale.phases]).toEqual(['scale']);
    expect(scale.scale.cameras).toBe(50);
    const soak = parseOptions(['--only=soak', '--minutes=3', '--soak-cameras', '8'], {});
    expect([...soak.phases]).toEqual(['soak']);
    expect(soak.soak).toMatchObject({ cameras: 8, minutes: 3 });
  });

  it('names the option that is wrong', () => {
    expect(() => parseOptions(['--scale-cameras', 'many'], {})).toThrow(/--scale-cameras must be an integer/);
    expect(() => parseOptions(['--minutes', '0'], {})).toThrow(/--minutes must be a number/);
  });
});

describe('bench scale and soak figures', () => {
  it('fits a least-squares slope', () => {
    expect(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 5 },
      ]),
    ).toBeCloseTo(2);
    expect(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
      ]),
    ).toBeNull();
  });

  it('summarizes lag scrapes by the median p50 and the worst p99', () => {
    const s = summarizeLag([
      { p50Ms: 1, p99Ms: 5, maxMs: 9 },
      { p50Ms: 2, p99Ms: 12, maxMs: 30 },
      { p50Ms: 3, p99Ms: 4, maxMs: 6 },
    ]);
    expect(s).toEqual({ scrapes: 3, p50Ms: 2, p99Ms: 12, maxMs: 30 });
  });
});

describe('bench scale steps', () => {
  it('steps down by 30 % in tens until 10', () => {
    const counts = [200];
    for (let n = stepDown(200); n !== null; n = stepDown(n)) counts.push(n);
    expect(counts).toEqual([200, 140, 90, 60, 40, 20, 10]);
  });

  it('refines halfway between a count that fits and one that does not', () => {
    expect(between(90, 140)).toBe(120);
    expect(between(20, 40)).toBe(30);
    expect(between(30, 40)).toBe(35);
    expect(between(35, 40)).toBeNull();
  });
});
