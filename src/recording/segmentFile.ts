import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Logger } from '../log.js';
import { FfmpegProcess } from '../pipeline/index.js';

const PROBE_TIMEOUT_MS = 15_000;

export interface SegmentProbe {
  /** Seconds of media in the file. */
  durationS: number;
  /** First timestamp, in seconds. */
  startS: number;
}

/** Reads a segment's duration with ffprobe; null when it does not parse as media. */
export async function probeSegment(ffprobePath: string, file: string, logger: Logger): Promise<SegmentProbe | null> {
  const proc = new FfmpegProcess({
    binary: ffprobePath,
    args: ['-hide_banner', '-v', 'error', '-show_entries', 'format=duration,start_time', '-of', 'json', file],
    logger,
    stdout: 'capture',
  });
  const exiting = proc.start();
  const timer = setTimeout(() => void proc.stop(), PROBE_TIMEOUT_MS);
  const exit = await exiting.finally(() => clearTimeout(timer));
  if (exit.code !== 0) return null;
  try {
    const format = (JSON.parse(exit.stdout) as { format?: { duration?: string; start_time?: string } }).format;
    const durationS = Number(format?.duration);
    const startS = Number(format?.start_time ?? 0);
    return Number.isFinite(durationS) && durationS > 0 ? { durationS, startS: Number.isFinite(startS) ? startS : 0 } : null;
  } catch {
    return null;
  }
}

/** Hex SHA-256 of a file, streamed; `onBytes` sees each chunk's length (progress). */
export function sha256File(file: string, onBytes?: (n: number) => void): Promise<string> {
  return sha256Stream(createReadStream(file, { highWaterMark: 1 << 20 }), onBytes);
}

/** Hex SHA-256 of what a stream gives (a file, another node's copy of a segment); `onBytes` sees each chunk's length. */
export async function sha256Stream(stream: AsyncIterable<Buffer>, onBytes?: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) {
    hash.update(chunk);
    onBytes?.(chunk.length);
  }
  return hash.digest('hex');
}

/** Flushes a file (or directory) to the disk. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
