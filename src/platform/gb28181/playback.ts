/**
 * Recorded footage for GB/T 28181 RecordInfo, Playback and Download. Recordings hold the
 * original picture, so every reading is masked on the way out: the segments of the range
 * are joined with the concat demuxer (as an export cuts them), run through the camera's
 * current mask filter graph (the one the shared tier uses) and encoded to H.264 like the
 * shared tier, then muxed to PS by the LiveSender. Times in MANSCDP are local wall-clock
 * times without a zone (2026-12-05T08:00:00); SDP t= carries seconds since 1970 (some
 * platforms send NTP seconds, since 1900).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withEncoderOverride, type ChainEntry, type Mask, type SharedEncoderOverride } from '../../domain/index.js';
import { concatList, cutRange, segmentsCovering, sourceInputArgs, type CutRange } from '../../exports/index.js';
import { h264EncoderArgs, type SharedEncoderSettings } from '../../pipeline/index.js';
import { planMasks } from '../../privacy/index.js';

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
/** Segments closer than this belong to one recording run (as the HLS playlist counts them). */
const RUN_TOLERANCE_MS = 1500;

/** One uninterrupted stretch of recording: consecutive segments without a hole or a cut-short one. */
export interface RecordedRun {
  startMs: number;
  endMs: number;
}

/** The runs of `segments` (chain order): a hole or a partial segment ends a run, so gaps show as separate items. */
export function recordedRuns(segments: readonly Pick<ChainEntry, 'startMs' | 'endMs' | 'partial'>[]): RecordedRun[] {
  const runs: RecordedRun[] = [];
  let prev: Pick<ChainEntry, 'endMs' | 'partial'> | undefined;
  for (const s of segments) {
    const last = runs[runs.length - 1];
    if (last !== undefined && prev !== undefined && !prev.partial && Math.abs(s.startMs - prev.endMs) <= RUN_TOLERANCE_MS)
      last.endMs = Math.max(last.endMs, s.endMs);
    else runs.push({ startMs: s.startMs, endMs: s.endMs });
    prev = s;
  }
  return runs;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2026-12-05T08:00:00` in the gateway's local time, as MANSCDP writes times. */
export function gbLocalTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A MANSCDP time (local, `T` or a space between date and time); throws on anything else. */
export function parseGbLocalTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
  if (m === null) throw new RangeError(`time "${text}" is not YYYY-MM-DDTHH:MM:SS`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = new Date(y, mo - 1, d, h, mi, s).getTime();
  if (!Number.isFinite(ms) || new Date(ms).getDate() !== d) throw new RangeError(`time "${text}" is not a calendar date`);
  return ms;
}

/** The footage range of a Playback/Download offer's t= line, in ms; throws when it is empty or missing. */
export function offerRange(time: { start: number; stop: number }): { fromMs: number; toMs: number } {
  // Unix seconds stay below the NTP offset until 2040; NTP seconds of any recent date are above it.
  const unix = (s: number): number => (s >= NTP_UNIX_OFFSET_S ? s - NTP_UNIX_OFFSET_S : s);
  const fromMs = unix(time.start) * 1000;
  const toMs = unix(time.stop) * 1000;
  if (!(time.start > 0 && toMs > fromMs)) throw new RangeError(`t=${time.start} ${time.stop}: a playback needs a start before its end`);
  return { fromMs, toMs };
}

export interface PlaybackReaderPlan {
  listFile: string;
  cut: Pick<CutRange, 'offsetSeconds' | 'durationSeconds'>;
  /** Mask coverage images, in the filter graph's input order [1:v], [2:v]… */
  imageFiles: string[];
  /** From planMasks: video [0:v], images [1:v]…, output [masked]. */
  filterComplex: string;
  fps: number;
  encoder: SharedEncoderSettings;
}

/**
 * The reader of a playback from `offsetSeconds` into the range: the joined segments,
 * masked, encoded as the shared tier is, as a raw H.264 (Annex-B) stream on stdout at
 * the recording's frame rate, as fast as ffmpeg can (the sender paces it).
 */
export function playbackReaderArgs(plan: PlaybackReaderPlan, offsetSeconds = 0): string[] {
  const fps = Math.max(1, Math.round(plan.fps));
  const cut = {
    offsetSeconds: plan.cut.offsetSeconds + offsetSeconds,
    durationSeconds: Math.max(0, plan.cut.durationSeconds - offsetSeconds),
  };
  const images = plan.imageFiles.flatMap((file) => ['-loop', '1', '-framerate', String(fps), '-i', file]);
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...sourceInputArgs(plan.listFile, cut),
    ...images,
    ...['-filter_complex', plan.filterComplex, '-map', '[masked]'],
    // One frame per frame time: the sender counts frames for the PS time stamps.
    ...['-r', String(fps)],
    ...h264EncoderArgs(plan.encoder, fps),
    ...['-f', 'h264', 'pipe:1'],
  ];
}

/** A prepared, masked reading of one camera's recorded range. */
export interface PlaybackReading {
  /** What of the asked range is recorded (ms). */
  coveredFromMs: number;
  coveredToMs: number;
  /** Media seconds the reading holds (the holes in the recording take none). */
  durationSeconds: number;
  fps: number;
  width: number;
  height: number;
  args(offsetSeconds: number): string[];
  /** Removes the reading's work files. */
  close(): Promise<void>;
}

/** What a reading needs of the camera, as of now. */
export interface PlaybackCamera {
  masks: Mask[];
  /** The recording's picture: the masks are planned on it. */
  width: number;
  height: number;
  fps: number;
  /** The camera's own encoder settings over the gateway's (as its shared tier has them). */
  encoder?: SharedEncoderOverride;
}

export interface RecordedFootageDeps {
  /** Chain entries of a camera overlapping [fromMs, toMs] (the store's recordings index). */
  entries(cameraId: string, fromMs: number, toMs: number): Promise<ChainEntry[]>;
  recordingsDir: string;
  /** The camera's current masks and the recording's picture; `firstSegment` lets it probe the file when the camera is not live. */
  camera(cameraId: string, firstSegment: string): Promise<PlaybackCamera>;
  encoder: SharedEncoderSettings;
  /** Where readings keep their concat list and mask images; default the system temp directory. */
  workDir?: string;
}

/** What GB/T 28181 reads of the recordings: the index for RecordInfo and masked readings for playback. */
export interface RecordedFootage {
  /** Live segments overlapping the range, in chain order. */
  segments(cameraId: string, fromMs: number, toMs: number): Promise<ChainEntry[]>;
  /** A masked reading of the range; null when nothing of it is recorded. */
  open(cameraId: string, fromMs: number, toMs: number): Promise<PlaybackReading | null>;
}

export function recordedFootage(deps: RecordedFootageDeps): RecordedFootage {
  const segments = async (cameraId: string, fromMs: number, toMs: number): Promise<ChainEntry[]> =>
    segmentsCovering(await deps.entries(cameraId, fromMs, toMs), fromMs, toMs);
  return {
    segments,
    async open(cameraId, fromMs, toMs) {
      const found = await segments(cameraId, fromMs, toMs);
      if (found.length === 0) return null;
      const cut = cutRange(found, fromMs, toMs);
      if (cut.durationSeconds <= 0) return null;
      const files = found.map((s) => join(deps.recordingsDir, s.path));
      const camera = await deps.camera(cameraId, files[0]!);
      const plan = planMasks(camera.masks, { width: camera.width, height: camera.height });
      const dir = await mkdtemp(join(deps.workDir ?? tmpdir(), 'psvgw-playback-'));
      try {
        const listFile = join(dir, 'segments.txt');
        await writeFile(listFile, concatList(files), { mode: 0o600 });
        const imageFiles = await Promise.all(
          plan.images.map(async (image, i) => {
            const file = join(dir, `mask-${i}.pgm`);
            await writeFile(file, image.pgm, { mode: 0o600 });
            return file;
          }),
        );
        const readerPlan: PlaybackReaderPlan = {
          listFile,
          cut,
          imageFiles,
          filterComplex: plan.filterComplex,
          fps: camera.fps,
          encoder: withEncoderOverride(deps.encoder, camera.encoder ?? {}),
        };
        return {
          coveredFromMs: cut.coveredFromMs,
          coveredToMs: cut.coveredToMs,
          durationSeconds: cut.durationSeconds,
          fps: Math.max(1, Math.round(camera.fps)),
          width: camera.width,
          height: camera.height,
          args: (offsetSeconds) => playbackReaderArgs(readerPlan, Math.min(offsetSeconds, cut.durationSeconds)),
          close: () => rm(dir, { recursive: true, force: true }),
        };
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    },
  };
}
