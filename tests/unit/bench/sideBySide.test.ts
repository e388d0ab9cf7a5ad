import { describe, expect, it } from 'vitest';
import type { TreeUsage } from '../../../bench/procstat.js';
import { sideBySide } from '../../../bench/report.js';

/** A tree's usage with `main` (the gateway's own process) and its ffmpegs. */
function usage(main: number, ffmpeg = 0): TreeUsage {
  const cpuPctBy: Record<string, number> = { main, ...(ffmpeg > 0 ? { ffmpeg } : {}) };
  return { seconds: 15, cpuPct: main + ffmpeg, rssMiB: 0, ussMiB: 0, pssMiB: 0, cpuPctBy, rssMiBBy: {}, ussMiBBy: {}, countBy: {} };
}

describe('the large copy-mode case measured side by side with bare ffmpeg', () => {
  it('judges the median of the windows’ net ratios, each net of the idle gateway', () => {
    const idle = usage(2);
    const windows = [
      { gateway: usage(2.5, 8), bare: usage(8) }, // net 8.5 / 8 = 1.06
      { gateway: usage(3, 10), bare: usage(8) }, // net 11 / 8 = 1.38
      { gateway: usage(2.6, 9), bare: usage(8) }, // net 9.6 / 8 = 1.2
    ];
    const judged = sideBySide(windows, idle)!;
    expect(judged.windows.map((w) => w.ratioNet)).toEqual([1.06, 1.38, 1.2]);
    expect(judged.windows[1]).toMatchObject({ nodeNetCpuPct: 1, gatewayFfmpegCpuPct: 10, bareFfmpegCpuPct: 8 });
    expect(judged.ratioNetMedian).toBe(1.2);
    expect(judged.verdict).toBe('pass');
    expect(sideBySide([windows[1]!, windows[1]!, windows[0]!], idle)?.verdict).toBe('fail');
  });

  it('is absent when no window was measured', () => {
    expect(sideBySide(undefined, usage(2))).toBeNull();
    expect(sideBySide([], usage(2))).toBeNull();
  });
});
