import { describe, expect, it } from 'vitest';
import { buildSamplerArgs, FrameCutter } from '../../../../src/health/diagnostics/sampler.js';

describe('buildSamplerArgs', () => {
  it('reads the raw tier from the media server and writes small grey frames to pipe 3, progress to stdout', () => {
    const url = 'rtmp://127.0.0.1:1935/raw/cam1?token=t&psvgw=x';
    const args = buildSamplerArgs(url, { fps: 2, width: 160, height: 90 });
    expect(args[args.indexOf('-i') + 1]).toBe(url);
    expect(args.join(' ')).toContain('-progress pipe:1');
    expect(args[args.indexOf('-vf') + 1]).toBe('fps=2,scale=160:90:flags=area,format=gray');
    expect(args.slice(-5)).toEqual(['-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:3']);
    expect(args[args.indexOf('-threads') + 1]).toBe('1');
    expect(args.some((a) => a.startsWith('rtsp'))).toBe(false);
  });
});

describe('FrameCutter', () => {
  it('cuts frames across and within chunks, each in a buffer of its own', () => {
    const frames: number[][] = [];
    const cutter = new FrameCutter(4, (f) => frames.push([...f]));
    cutter.push(Uint8Array.from([1, 2, 3]));
    cutter.push(Uint8Array.from([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]));
    expect(frames).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    // A restart drops the partial frame.
    cutter.reset();
    cutter.push(Uint8Array.from([21, 22, 23, 24]));
    expect(frames.at(-1)).toEqual([21, 22, 23, 24]);
  });
});
