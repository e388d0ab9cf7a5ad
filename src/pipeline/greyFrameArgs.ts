import { supervisedArgs } from './ingestArgs.js';

/** Frames of a given size and rate. */
export interface GreyFrameSize {
  fps: number;
  width: number;
  height: number;
}

/**
 * ffmpeg reading a camera's raw tier from the embedded media server (never the camera: the
 * one pull stays the only one), decoding on one thread, and writing downscaled grayscale
 * frames at `size.fps` to pipe 3; stdout carries `-progress` for the supervisor. Used by the
 * diagnostics sampler and the desensitizer's frame grabber; `lowDelay` skips the demuxer's
 * buffering, for a reader whose frames must be as fresh as can be.
 */
export function greyFrameArgs(sourceUrl: string, size: GreyFrameSize, opts: { lowDelay?: boolean } = {}): string[] {
  return [
    ...supervisedArgs(),
    '-threads',
    '1',
    ...(opts.lowDelay ? ['-fflags', 'nobuffer'] : []),
    '-analyzeduration',
    '500000',
    '-i',
    sourceUrl,
    '-map',
    '0:v:0',
    '-an',
    '-vf',
    `fps=${size.fps},scale=${size.width}:${size.height}:flags=area,format=gray`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    'pipe:3',
  ];
}
