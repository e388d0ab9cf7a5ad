import { describe, expect, it } from 'vitest';
import { parseBitrate, ProgressParser } from '../../../src/pipeline/progress.js';

const BLOCK = [
  'frame=125',
  'fps=25.01',
  'bitrate= 812.4kbits/s',
  'total_size=N/A',
  'out_time_us=5000000',
  'drop_frames=1',
  'dup_frames=0',
  'speed=1.01x',
  'progress=continue',
  '',
].join('\n');

describe('ProgressParser', () => {
  it('turns one -progress block into one sample', () => {
    const [sample, ...rest] = new ProgressParser().push(BLOCK);
    expect(rest).toHaveLength(0);
    expect(sample).toEqual({
      frame: 125,
      fps: 25.01,
      bitrateBps: 812400,
      totalSizeBytes: null,
      outTimeUs: 5_000_000,
      speed: 1.01,
      dropFrames: 1,
      dupFrames: 0,
      end: false,
    });
  });

  it('reassembles blocks split at every byte boundary', () => {
    for (let cut = 1; cut < BLOCK.length; cut++) {
      const parser = new ProgressParser();
      const samples = [...parser.push(BLOCK.slice(0, cut)), ...parser.push(BLOCK.slice(cut))];
      expect(samples.map((s) => s.frame)).toEqual([125]);
    }
  });

  it('marks the final block and keeps fields of one block from leaking into the next', () => {
    const parser = new ProgressParser();
    const samples = parser.push('frame=10\nprogress=continue\nfps=3\nprogress=end\n');
    expect(samples.map((s) => [s.frame, s.fps, s.end])).toEqual([
      [10, 0, false],
      [0, 3, true],
    ]);
  });

  it('ignores lines that are not key=value', () => {
    expect(new ProgressParser().push('garbage\n=x\nframe=2\nprogress=continue\n')[0]?.frame).toBe(2);
  });
});

describe('parseBitrate', () => {
  it.each([
    ['1024.0kbits/s', 1_024_000],
    ['N/A', null],
    [undefined, null],
    ['12kbits/s', 12_000],
  ])('%s → %s', (raw, expected) => {
    expect(parseBitrate(raw)).toBe(expected);
  });
});
