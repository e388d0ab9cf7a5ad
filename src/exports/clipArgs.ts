/**
 * The ffmpeg command of an export, as pure functions: the recorded segments joined with
 * the concat demuxer, cut to the approved range, watermarked and re-encoded to H.264 MP4
 * (faststart). The benchmark and the tests build the same input and filter from here.
 */
import type { ChainEntry } from '../domain/index.js';

/** The concat demuxer's list of the segment files, in order (quotes escaped as it wants). */
export function concatList(files: readonly string[]): string {
  return files.map((f) => `file '${f.replace(/'/g, "'\\''")}'\n`).join('');
}

export interface CutRange {
  /** Seconds into the joined segments where the clip starts. */
  offsetSeconds: number;
  durationSeconds: number;
  /** What of the asked range the segments actually cover (ms). */
  coveredFromMs: number;
  coveredToMs: number;
}

/**
 * Where in the joined segments the asked range lies. The concat demuxer starts the first
 * file at 0 and lays the files end to end, so a gap in the recording takes no time there:
 * the offset is from the first segment's start, and the duration is the sum of what each
 * segment holds of the range (the wall-clock span would read past the range's end).
 */
export function cutRange(segments: readonly Pick<ChainEntry, 'startMs' | 'endMs'>[], fromMs: number, toMs: number): CutRange {
  const first = segments[0];
  const last = segments[segments.length - 1];
  if (first === undefined || last === undefined) throw new Error('cutRange needs at least one segment');
  const coveredFromMs = Math.max(fromMs, first.startMs);
  const coveredToMs = Math.min(toMs, last.endMs);
  const heldMs = segments.reduce((sum, s) => sum + Math.max(0, Math.min(toMs, s.endMs) - Math.max(fromMs, s.startMs)), 0);
  return {
    offsetSeconds: (coveredFromMs - first.startMs) / 1000,
    durationSeconds: heldMs / 1000,
    coveredFromMs,
    coveredToMs,
  };
}

/** The segments a range needs: live (not swept) segments overlapping it, in chain order. */
export function segmentsCovering(entries: readonly ChainEntry[], fromMs: number, toMs: number): ChainEntry[] {
  return entries
    .filter((e) => e.kind === 'segment' && e.deletedAt === null && e.endMs > fromMs && e.startMs < toMs)
    .sort((a, b) => a.seq - b.seq);
}

/** The input side: the concat list, seeked and limited to the range (seeking before -i keeps it fast and, re-encoding, frame-exact). */
export function sourceInputArgs(listFile: string, cut: Pick<CutRange, 'offsetSeconds' | 'durationSeconds'>): string[] {
  return ['-ss', cut.offsetSeconds.toFixed(3), '-t', cut.durationSeconds.toFixed(3), '-f', 'concat', '-safe', '0', '-i', listFile];
}

/** Encoder settings of a clip: H.264 in yuv420p that every player opens, timestamps kept (no duplicated frames). */
export const CLIP_ENCODE_ARGS = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-fps_mode', 'vfr'];

export interface ClipCommand {
  listFile: string;
  cut: Pick<CutRange, 'offsetSeconds' | 'durationSeconds'>;
  /** The drawtext filter (watermark.ts). */
  filter: string;
  output: string;
}

/** The whole export command; progress blocks go to stdout (`-progress pipe:1`). */
export function clipArgs(c: ClipCommand): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-nostats',
    '-progress',
    'pipe:1',
    ...sourceInputArgs(c.listFile, c.cut),
    '-map',
    '0:v:0',
    '-map',
    '0:a:0?',
    '-vf',
    c.filter,
    ...CLIP_ENCODE_ARGS,
    '-c:a',
    'aac',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    '-y',
    c.output,
  ];
}
