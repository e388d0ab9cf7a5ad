import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const FFMPEG_INSTALL_HINT = 'apt-get install -y ffmpeg';

/** A failed or timed-out run of an external tool; `stderr` carries the tool's own words. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly tool: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Resolves `name` on PATH (or as a path) or throws with how to install it. */
export function requireTool(name: string, installHint: string): string {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here; try the next PATH entry
    }
  }
  throw new Error(`${name} is required but was not found on PATH. Install it with: ${installHint}`);
}

// Children still running when the test process exits are killed, so a crashed
// or interrupted test never leaves ffmpeg behind.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

const STDERR_KEEP = 16 * 1024;

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; kills it and rejects once `timeoutMs` passes. */
function runTool(tool: string, args: string[], timeoutMs: number, onStdout?: (text: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      onStdout?.(s);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_KEEP);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ` (install with: ${FFMPEG_INSTALL_HINT})` : '';
      reject(new ToolError(`${tool} could not start: ${err.message}${hint}`, tool, args, null, null, '', false));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) return resolve({ stdout, stderr });
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${code ?? signal}`;
      const msg = `${tool} ${why}: ${stderr.trim().split('\n').slice(-5).join('\n')}`;
      reject(new ToolError(msg, tool, args, code, signal, stderr, timedOut));
    });
  });
}

/** Input options suited to the URL's scheme. */
export function inputArgs(url: string): string[] {
  // TCP interleaving avoids UDP port setup and loss on loopback.
  return /^rtsps?:/i.exec(url) !== null ? ['-rtsp_transport', 'tcp'] : [];
}

export interface ProbeStream {
  index: number;
  codec_type: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  /** e.g. "25/1"; see {@link frameRate}. */
  r_frame_rate?: string;
  avg_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  [key: string]: unknown;
}

export interface ProbeOptions {
  timeoutMs?: number;
}

/** `ffprobe -show_streams` of a file or URL (rtsp, http-flv, ...). */
export async function ffprobeStreams(url: string, opts: ProbeOptions = {}): Promise<ProbeStream[]> {
  const args = ['-v', 'error', ...inputArgs(url), '-show_streams', '-of', 'json', url];
  const { stdout } = await runTool('ffprobe', args, opts.timeoutMs ?? 10_000);
  const parsed = JSON.parse(stdout) as { streams?: ProbeStream[] };
  return parsed.streams ?? [];
}

/** First stream of a kind, or throws listing what was there. */
export function streamOf(streams: readonly ProbeStream[], kind: 'video' | 'audio'): ProbeStream {
  const s = streams.find((x) => x.codec_type === kind);
  if (!s) throw new Error(`no ${kind} stream among: ${streams.map((x) => `${x.codec_type}/${x.codec_name}`).join(', ')}`);
  return s;
}

/** "25/1" → 25; "0/0" or missing → NaN. */
export function frameRate(stream: ProbeStream): number {
  const [num, den] = (stream.r_frame_rate ?? '').split('/').map(Number);
  return num !== undefined && den ? num / den : NaN;
}

export interface FrameProgress {
  /** Video frames passed through so far (`frame=`). */
  frames: number;
  /**
   * frames / outTimeSec: the stream's frame rate as delivered. ffmpeg's own
   * `fps=` is not used: it is 0 for stream copy and, for live inputs, inflated
   * by the frames buffered while probing.
   */
  fps: number;
  /** Media time written so far, in seconds (`out_time_us=`). */
  outTimeSec: number;
}

/** Parses `-progress` key=value blocks as they arrive; calls back at each block end. */
class ProgressParser {
  private partial = '';
  private block = new Map<string, string>();
  constructor(private readonly onBlock: (p: FrameProgress) => void) {}

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      this.block.set(key, value);
      if (key !== 'progress') continue;
      const num = (k: string): number => Number.parseFloat(this.block.get(k) ?? '') || 0;
      // out_time_us is the microsecond field; out_time_ms is a misnamed duplicate.
      const frames = num('frame');
      const outTimeSec = num('out_time_us') / 1e6;
      this.onBlock({ frames, fps: outTimeSec > 0 ? frames / outTimeSec : 0, outTimeSec });
      this.block.clear();
    }
  }
}

function frameArgs(url: string, seconds?: number): string[] {
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    ...inputArgs(url),
    '-i',
    url,
    ...(seconds !== undefined ? ['-t', String(seconds)] : []),
    // Copy, not decode: counts what the source sends at negligible CPU.
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-f',
    'null',
    '-progress',
    'pipe:1',
    '-stats_period',
    '0.2',
    '-',
  ];
}

export interface CountOptions {
  /** Whole-run limit; default `seconds` + 15 s for connecting. */
  timeoutMs?: number;
}

/** Reads `seconds` of video from `url` and reports how many frames came, and at what rate. */
export async function countFrames(url: string, seconds: number, opts: CountOptions = {}): Promise<FrameProgress> {
  let last: FrameProgress = { frames: 0, fps: 0, outTimeSec: 0 };
  const parser = new ProgressParser((p) => (last = p));
  await runTool('ffmpeg', frameArgs(url, seconds), opts.timeoutMs ?? seconds * 1000 + 15_000, (s) => parser.push(s));
  return last;
}

/** A running ffmpeg reader whose frame count can be watched while it runs. */
export interface FrameWatcher {
  /** Latest progress reported (updated about every 200 ms while frames flow). */
  readonly progress: FrameProgress;
  /** Resolves once `frames` reaches `n`; rejects on timeout or if ffmpeg exits. */
  waitForFrames(n: number, timeoutMs?: number): Promise<FrameProgress>;
  /** ffmpeg's stderr so far (for failure messages). */
  readonly stderr: string;
  /** Stops ffmpeg (SIGTERM, then SIGKILL after 2 s); resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts reading video from `url` indefinitely; call `stop()` when done. */
export function watchFrames(url: string): FrameWatcher {
  const child = spawn('ffmpeg', frameArgs(url), { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let progress: FrameProgress = { frames: 0, fps: 0, outTimeSec: 0 };
  let stderr = '';
  let exited = false;
  const waiters = new Set<() => void>();
  const notify = (): void => waiters.forEach((w) => w());
  const parser = new ProgressParser((p) => {
    progress = p;
    notify();
  });
  child.stdout.setEncoding('utf8').on('data', (s: string) => parser.push(s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-STDERR_KEEP)));
  const exit = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      stderr += `\nspawn failed: ${err.message}`;
      exited = true;
      notify();
      resolve();
    });
    child.once('exit', () => {
      exited = true;
      notify();
      resolve();
    });
  });

  return {
    get progress() {
      return progress;
    },
    get stderr() {
      return stderr;
    },
    waitForFrames(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (progress.frames >= n) done(() => resolve(progress));
          else if (exited) done(() => reject(new Error(`ffmpeg exited at ${progress.frames} frames: ${stderr}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`only ${progress.frames}/${n} frames after ${timeoutMs} ms: ${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (exited) return;
      // A reader blocked on a frozen source may ignore SIGTERM's graceful path.
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exit;
      clearTimeout(kill);
    },
  };
}
