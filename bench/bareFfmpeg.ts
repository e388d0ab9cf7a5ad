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
 * H.264 transcode, same tee to the FLV muxer, same -progress) with the RTMP publish
 * URL replaced by /dev/null: no RTMP delivery, no media server, no supervisor.
 */
export const SINK = '/dev/null';

const defaults = GatewayConfigSchema.parse({}).ingest;

export function streamInfoOf(camera: CameraOptions): StreamInfo {
  return {
    video: { codec: camera.codec === 'h264' ? 'h264' : 'hevc', width: camera.width, height: camera.height, fps: camera.fps, profile: null },
    audio: null,
    format: 'rtsp',
  };
}

export function bareIngestArgs(url: string, camera: CameraOptions): string[] {
  return buildIngestArgs({
    inputUrl: url,
    rtspTransport: defaults.rtspTransport,
    socketTimeoutSeconds: defaults.socketTimeoutSeconds,
    info: streamInfoOf(camera),
    liveTargets: [SINK, SINK],
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

/** Starts one bare ingest per camera, waits for frames and `warmupSeconds`, then measures them. */
export async function measureBareIngest(cameras: readonly BenchCamera[], warmupSeconds: number, windowSeconds: number): Promise<TreeUsage> {
  const procs = cameras.map((cam) => new WatchedFfmpeg(bareIngestArgs(cam.url, cam.options)));
  try {
    const flowing = await pollUntil(() => procs.every((p) => p.frames > 0), 20_000);
    if (flowing === null) throw new Error(`bare ffmpeg produced no frames:\n${procs.map((p) => p.errors()).join('\n')}`);
    await sleep(warmupSeconds * 1000);
    const usage = await measureTree(
      procs.map((p) => p.child.pid as number),
      windowSeconds,
    );
    const died = procs.filter((p) => !p.running);
    if (died.length > 0) throw new Error(`bare ffmpeg exited during the measurement:\n${died.map((p) => p.errors()).join('\n')}`);
    return usage;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
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
