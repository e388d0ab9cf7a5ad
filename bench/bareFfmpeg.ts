import type { ChildProcess } from 'node:child_process';
import { GatewayConfigSchema } from '../src/config/index.js';
import { buildIngestArgs, type StreamInfo } from '../src/pipeline/index.js';
import type { BenchCamera, CameraOptions } from './camera.js';
import { isRunning, LineTail, readLines, spawnTracked, stopChild } from './children.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { pollUntil, sleep } from './stats.js';

/**
 * The baselines: bare ffmpeg doing the gateway's ingest work without the gateway. The
 * argv is the gateway's own (buildIngestArgs: same RTSP input options, same `-c copy` or
 * H.264 transcode, same tee to the FLV muxer, same -progress) with the live output
 * (the fan-out's pipe) replaced by /dev/null: no delivery, no media server, no supervisor.
 * The argv's `flush_packets=1` makes the baseline write each packet as the gateway's live
 * output does (ffmpeg's default for a file target is 256 KiB writes).
 */
export const SINK = '/dev/null';
/** Between the starts of the baseline's pulls. */
const STAGGER_MS = 250;

const defaults = GatewayConfigSchema.parse({}).ingest;

export function streamInfoOf(camera: Pick<CameraOptions, 'codec' | 'width' | 'height' | 'fps'>): StreamInfo {
  return {
    video: { codec: camera.codec === 'h264' ? 'h264' : 'hevc', width: camera.width, height: camera.height, fps: camera.fps, profile: null },
    audio: null,
    format: 'rtsp',
  };
}

export function bareIngestArgs(url: string, camera: Pick<CameraOptions, 'codec' | 'width' | 'height' | 'fps'>): string[] {
  return buildIngestArgs({
    inputUrl: url,
    rtspTransport: defaults.rtspTransport,
    socketTimeoutSeconds: defaults.socketTimeoutSeconds,
    info: streamInfoOf(camera),
    // One live output, as the gateway's ingest has (the shared tier of a camera without masks is the raw one).
    liveTargets: [SINK],
    liveTranscode: defaults.h265Live,
  });
}

/** A bare ffmpeg whose `-progress` frame counter is followed. */
export class WatchedFfmpeg {
  frames = 0;
  firstFrameAt: number | null = null;
  private readonly stderr = new LineTail();
  readonly child: ChildProcess;

  constructor(args: string[]) {
    this.child = spawnTracked('ffmpeg', args);
    readLines(this.child.stderr, this.stderr.push);
    readLines(this.child.stdout, (line, at) => {
      const m = /^frame=(\d+)/.exec(line);
      if (!m) return;
      this.frames = Number(m[1]);
      if (this.frames > 0 && this.firstFrameAt === null) this.firstFrameAt = at;
    });
  }

  get running(): boolean {
    return isRunning(this.child);
  }

  errors(): string {
    return this.stderr.text(5);
  }

  stop(): Promise<void> {
    return stopChild(this.child, 2000);
  }
}

/** Bare ingests running: their PIDs, and a check that none has exited. */
export interface BareIngests {
  readonly pids: number[];
  /** Throws naming the ffmpegs that exited, with their last error lines. */
  checkRunning(): void;
  stop(): Promise<void>;
}

/** Starts one bare ingest per camera (one at a time) and resolves once each has frames. */
export async function startBareIngest(cameras: readonly BenchCamera[]): Promise<BareIngests> {
  // One pull at a time, as the gateway adds cameras: 16 RTSP sessions opened at once on the four
  // GStreamer test cameras left some without frames, and the cameras refusing the gateway's probes after.
  const procs: WatchedFfmpeg[] = [];
  const stop = () => Promise.all(procs.map((p) => p.stop())).then(() => undefined);
  try {
    for (const cam of cameras) {
      procs.push(new WatchedFfmpeg(bareIngestArgs(cam.url, cam.options)));
      if (cameras.length > 1) await sleep(STAGGER_MS);
    }
    const flowing = await pollUntil(() => procs.every((p) => p.frames > 0), 20_000);
    if (flowing === null) throw new Error(`bare ffmpeg produced no frames:\n${procs.map((p) => p.errors()).join('\n')}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pids: procs.map((p) => p.child.pid as number),
    checkRunning: () => {
      const died = procs.filter((p) => !p.running);
      if (died.length > 0) throw new Error(`bare ffmpeg exited during the measurement:\n${died.map((p) => p.errors()).join('\n')}`);
    },
    stop,
  };
}

/** Starts one bare ingest per camera, waits for frames and `warmupSeconds`, then measures them. */
export async function measureBareIngest(cameras: readonly BenchCamera[], warmupSeconds: number, windowSeconds: number): Promise<TreeUsage> {
  const bare = await startBareIngest(cameras);
  try {
    await sleep(warmupSeconds * 1000);
    const usage = await measureTree(bare.pids, windowSeconds);
    bare.checkRunning();
    return usage;
  } finally {
    await bare.stop();
  }
}

/** `n` pulls spread over the test cameras (their RTSP media is shared: a pull more costs the camera no encoder). */
export function roundRobin<T>(items: readonly T[], n: number): T[] {
  return Array.from({ length: n }, (_, i) => items[i % items.length] as T);
}

/**
 * The floor of recovery: the camera is killed, kept off, started again on the same port,
 * and a bare ffmpeg reader started at the camera's READY line counts its first frame.
 * That is as fast as any ffmpeg-based ingest can see frames again.
 */
export async function bareRecovery(camera: BenchCamera, offMs: number): Promise<number | null> {
  await camera.kill();
  await sleep(offMs);
  const readyAt = await camera.launch();
  const reader = new WatchedFfmpeg([
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-progress',
    'pipe:1',
    '-nostats',
    '-stats_period',
    '0.1',
    ...bareInput(camera.url),
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-f',
    'null',
    '-',
  ]);
  try {
    await pollUntil(() => reader.firstFrameAt !== null || !reader.running, 20_000, 20);
    return reader.firstFrameAt === null ? null : reader.firstFrameAt - readyAt;
  } finally {
    await reader.stop();
  }
}

function bareInput(url: string): string[] {
  return ['-rtsp_transport', defaults.rtspTransport, '-analyzeduration', '2000000', '-i', url];
}
