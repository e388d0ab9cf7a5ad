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

describe('ProgressParser on a whole ffmpeg report', () => {
  const REPORT = [
    'frame=50',
    'fps=25.00',
    'stream_0_0_q=-1.0',
    'bitrate=N/A',
    'total_size=N/A',
    'out_time_us=2000000',
    'out_time_ms=2000000',
    'out_time=00:00:02.000000',
    'dup_frames=0',
    'drop_frames=0',
    'speed=   1x',
    'progress=continue',
    '',
  ].join('\r\n');

  it('reads the keys it reports and passes over the others, CRLF or not', () => {
    expect(new ProgressParser().push(REPORT)).toEqual([
      {
        frame: 50,
        fps: 25,
        bitrateBps: null,
        totalSizeBytes: null,
        outTimeUs: 2_000_000,
        speed: 1,
        dropFrames: 0,
        dupFrames: 0,
        end: false,
      },
    ]);
  });

  it('gives null for numbers it cannot read instead of a wrong one', () => {
    const [sample] = new ProgressParser().push(
      'frame=1e3\nout_time_us=-9223372036854775807\nspeed=N/A\nbitrate=1.2.3kbits/s\nprogress=end\n',
    );
    expect(sample).toMatchObject({ frame: 0, outTimeUs: null, speed: null, bitrateBps: null, end: true });
  });

  it('keeps nothing of a block once it is reported, however many are pushed', () => {
    const parser = new ProgressParser();
    for (let i = 1; i <= 1000; i++) expect(parser.push(`frame=${i}\nprogress=continue\n`)[0]?.frame).toBe(i);
    expect(parser.push('progress=continue\n')[0]).toMatchObject({ frame: 0, outTimeUs: null });
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
