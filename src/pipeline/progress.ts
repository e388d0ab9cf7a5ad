/**
 * Parser for ffmpeg's `-progress pipe:1` output: blocks of `key=value` lines, each
 * block closed by `progress=continue` or `progress=end`. Pure: bytes in, samples out.
 */
export interface ProgressSample {
  /** Frames written so far (the liveness signal: a stalled input stops this counter). */
  frame: number;
  fps: number;
  /** Output bitrate in bits per second, or null when ffmpeg prints N/A. */
  bitrateBps: number | null;
  totalSizeBytes: number | null;
  outTimeUs: number | null;
  speed: number | null;
  dropFrames: number;
  dupFrames: number;
  end: boolean;
}

export class ProgressParser {
  private buffered = '';
  private fields = new Map<string, string>();

  push(chunk: Buffer | string): ProgressSample[] {
    this.buffered += chunk.toString();
    const samples: ProgressSample[] = [];
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline).trim();
      this.buffered = this.buffered.slice(newline + 1);
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1).trim();
      if (key === 'progress') {
        samples.push(toSample(this.fields, value === 'end'));
        this.fields = new Map();
      } else {
        this.fields.set(key, value);
      }
    }
    return samples;
  }
}

function toSample(fields: Map<string, string>, end: boolean): ProgressSample {
  return {
    frame: intOr(fields.get('frame'), 0),
    fps: floatOr(fields.get('fps'), 0),
    bitrateBps: parseBitrate(fields.get('bitrate')),
    totalSizeBytes: intOrNull(fields.get('total_size')),
    outTimeUs: intOrNull(fields.get('out_time_us') ?? fields.get('out_time_ms')),
    speed: floatOrNull(fields.get('speed')?.replace(/x$/, '')),
    dropFrames: intOr(fields.get('drop_frames'), 0),
    dupFrames: intOr(fields.get('dup_frames'), 0),
    end,
  };
}

/** ffmpeg prints e.g. `bitrate=1024.3kbits/s` or `bitrate=N/A`. */
export function parseBitrate(raw: string | undefined): number | null {
  const kbits = Number(raw?.match(/^([\d.]+)\s*kbits\/s$/)?.[1]);
  return Number.isFinite(kbits) ? Math.round(kbits * 1000) : null;
}

function intOrNull(raw: string | undefined): number | null {
  if (raw === undefined || !/^-?\d+$/.test(raw)) return null;
  // ffmpeg prints INT64_MIN for a time it does not know yet (out_time_us=-9223372036854775807).
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

function intOr(raw: string | undefined, fallback: number): number {
  return intOrNull(raw) ?? fallback;
}

function floatOrNull(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

function floatOr(raw: string | undefined, fallback: number): number {
  return floatOrNull(raw) ?? fallback;
}
