import { spawn } from 'node:child_process';
import { inputArgs } from './media.js';

/** A decoded 8-bit grey picture. */
export interface GrayFrame {
  width: number;
  height: number;
  pixels: Buffer;
}

/** A region in 0..1 coordinates of the frame. */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface RegionStats {
  variance: number;
  /** Mean absolute difference between horizontal and vertical neighbours. */
  edge: number;
}

/**
 * Decodes frames of a stream (HTTP-FLV, RTSP…) as grey pictures: `count` frames at most,
 * each handed to `onFrame` as soon as it is complete; stops at `timeoutMs`.
 */
export function grayFrames(
  url: string,
  size: { width: number; height: number },
  opts: { count: number; timeoutMs: number; fps?: number; onFrame?: (frame: GrayFrame) => void },
): Promise<GrayFrame[]> {
  const frameBytes = size.width * size.height;
  // A viewer who arrives before a publish gets a header announcing audio; do not wait 5 s for it.
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-analyzeduration',
    '1000000',
    ...inputArgs(url),
    '-i',
    url,
    '-map',
    '0:v:0',
  ];
  if (opts.fps !== undefined) args.push('-vf', `fps=${opts.fps}`);
  args.push('-frames:v', String(opts.count), '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1');
  return new Promise((resolve) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const frames: GrayFrame[] = [];
    let pending = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= frameBytes) {
        const frame = { ...size, pixels: Buffer.from(pending.subarray(0, frameBytes)) };
        pending = pending.subarray(frameBytes);
        frames.push(frame);
        opts.onFrame?.(frame);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve(frames);
    });
  });
}

/** One frame, or throws when none arrives in time. */
export async function grayFrame(url: string, size: { width: number; height: number }, timeoutMs = 10_000): Promise<GrayFrame> {
  const [frame] = await grayFrames(url, size, { count: 1, timeoutMs });
  if (!frame) throw new Error(`no frame from ${url.replace(/token=[^&]+/, 'token=…')} within ${timeoutMs} ms`);
  return frame;
}

/** Variance and edge energy of the pixels inside a region (its border pixels excluded). */
export function regionStats(frame: GrayFrame, region: Region, marginPx = 4): RegionStats {
  const x0 = Math.ceil(region.x * frame.width) + marginPx;
  const y0 = Math.ceil(region.y * frame.height) + marginPx;
  const x1 = Math.floor((region.x + region.w) * frame.width) - marginPx;
  const y1 = Math.floor((region.y + region.h) * frame.height) - marginPx;
  const at = (x: number, y: number) => frame.pixels[y * frame.width + x] ?? 0;
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let edge = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = at(x, y);
      n++;
      sum += v;
      sumSq += v * v;
      edge += Math.abs(v - at(x + 1, y)) + Math.abs(v - at(x, y + 1));
    }
  }
  if (n === 0) throw new Error('empty region');
  const mean = sum / n;
  return { variance: sumSq / n - mean * mean, edge: edge / n };
}
