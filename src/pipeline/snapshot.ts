import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { FfmpegProcess } from './ffmpegProcess.js';

/** Longest wait for one decoded frame; a live tier delivers its cached keyframe at once. */
export const SNAPSHOT_TIMEOUT_MS = 8000;

/**
 * One JPEG of what a tier carries now: ffmpeg reads the tier from the media server (GOP
 * cache: it starts at a keyframe) and writes a single frame to stdout. A tier that gives
 * no frame in time is dark: STREAM_DARK (503).
 */
export async function grabJpeg(opts: {
  ffmpegPath: string;
  url: string;
  what: string;
  logger: Logger;
  timeoutMs?: number;
}): Promise<Buffer> {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-analyzeduration', '500000', '-i', opts.url];
  args.push('-map', '0:v:0', '-frames:v', '1', '-f', 'image2', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1');
  const proc = new FfmpegProcess({ binary: opts.ffmpegPath, args, logger: opts.logger, stdout: 'capture' });
  const timer = setTimeout(() => void proc.stop(200), opts.timeoutMs ?? SNAPSHOT_TIMEOUT_MS);
  const exit = await proc.start();
  clearTimeout(timer);
  const jpeg = exit.stdoutBytes;
  if (exit.code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8) return jpeg;
  throw dark(opts.what, exit.requested ? `no frame within ${opts.timeoutMs ?? SNAPSHOT_TIMEOUT_MS} ms` : exit.stderrTail.slice(-1)[0]);
}

export function dark(what: string, why?: string): GatewayError {
  return new GatewayError('STREAM_DARK', `the ${what} is dark: no live picture${why ? ` (${why})` : ''}`, {
    hint: 'Check the camera status (GET /api/v1/cameras/:id/status); a camera with masks has a dark shared tier while its masking transcode is down.',
  });
}
