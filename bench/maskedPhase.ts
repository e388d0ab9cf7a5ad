import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayConfigSchema } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { buildMaskingArgs, chooseH264Encoder, readFfmpegCapabilities, type SharedEncoderSettings } from '../src/pipeline/index.js';
import { planMasks } from '../src/privacy/index.js';
import type { Mask } from '../src/domain/index.js';
import { SINK, WatchedFfmpeg } from './bareFfmpeg.js';
import { BenchCamera, type CameraOptions } from './camera.js';
import { isRunning, LineTail, nowMs, readLines, removeOnExit, spawnTracked, stopChild } from './children.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { attempt, elapsedSeconds, progress } from './progress.js';
import { pollUntil, round, sleep } from './stats.js';

/**
 * One camera with privacy masks: the masking transcode's CPU through the gateway (net of
 * the same camera in copy mode) next to bare ffmpeg running the same argv
 * (buildMaskingArgs with planMasks' filter graph and mask images, the default shared
 * encoder) on the camera's RTSP stream, and how many such cameras one core sustains.
 */

/** A blurred rectangle and a mosaicked polygon: two layers, two mask images. */
export const BENCH_MASKS: Mask[] = [
  { shape: 'rect', x: 0.05, y: 0.05, w: 0.3, h: 0.2, mode: 'blur' },
  {
    shape: 'polygon',
    points: [
      [0.55, 0.5],
      [0.9, 0.55],
      [0.85, 0.9],
      [0.6, 0.85],
    ],
    mode: 'mosaic',
  },
];

const config = GatewayConfigSchema.parse({});
const encoderDefaults = config.privacy.sharedEncoder;
const ingest = config.ingest;

export interface SweepStep {
  /** Parallel transcodes pinned to the same core. */
  k: number;
  /** Output frame rate over the window / source frame rate, per process. */
  speeds: number[];
  minSpeed: number | null;
  /** CPU of the K processes together, % of one core. */
  cpuPct: number | null;
  sustained: boolean;
}

export interface SweepResult {
  core: number;
  input: { file: string; seconds: number; bitrateKbps: number | null; made: string };
  windowSeconds: number;
  threshold: number;
  steps: SweepStep[];
  /** Largest K whose every process kept the threshold; 0 if even one did not. */
  sustainedCameras: number;
  stoppedBecause: string;
}

export interface MaskedResults {
  errors: string[];
  camera: CameraOptions;
  cameraBitrateKbps: number | null;
  masks: Mask[];
  filterComplex: string;
  /** The encoder settings, with `auto` resolved as the gateway resolves it on this machine. */
  encoder: SharedEncoderSettings;
  /** The bare baseline's argv, with the temporary mask paths. */
  bareArgs: string[];
  bare?: TreeUsage & { outputFps: number | null };
  /** The gateway with the camera in copy mode (no masks). */
  copy?: TreeUsage;
  /** The same camera after PATCHing the masks on: ingest + masking transcode. */
  masked?: TreeUsage & { patchToMaskingUpMs: number | null; outputFps: number | null };
  sweep?: SweepResult;
}

/** The masking transcode's argv for `inputArgs` (replacing its `-analyzeduration … -i URL`), writing to /dev/null. */
function maskingArgv(
  encoder: SharedEncoderSettings,
  imageFiles: string[],
  filterComplex: string,
  cam: CameraOptions,
  inputArgs: string[],
): string[] {
  const args = buildMaskingArgs({
    sourceUrl: 'INPUT',
    imageFiles,
    filterComplex,
    fps: cam.fps,
    frameHeight: cam.height,
    hasAudio: false,
    targetUrl: SINK,
    encoder,
  });
  const at = args.indexOf('-analyzeduration');
  const input = args.indexOf('INPUT');
  if (at < 0 || input !== at + 3) throw new Error(`unexpected masking argv: ${args.join(' ')}`);
  // -y: /dev/null exists (the gateway publishes to an RTMP URL instead).
  return ['-y', ...args.slice(0, at), ...inputArgs, ...args.slice(input + 1)];
}

/** The RTSP input of the gateway's ingest, with the masking transcode's own analyzeduration. */
function rtspInput(url: string): string[] {
  return [
    '-rtsp_transport',
    ingest.rtspTransport,
    '-timeout',
    String(ingest.socketTimeoutSeconds * 1_000_000),
    '-analyzeduration',
    '500000',
    '-i',
    url,
  ];
}

/** The encoder the gateway would pick here: `auto` is resolved the same way, by a test encode. */
async function gatewayEncoder(): Promise<SharedEncoderSettings> {
  if (encoderDefaults.encoder !== 'auto') return encoderDefaults;
  const logger = createLogger({ level: 'error' });
  const ffmpegPath = process.env.PSVGW_FFMPEG ?? 'ffmpeg';
  const { videoEncoders } = await readFfmpegCapabilities(ffmpegPath, logger);
  return { ...encoderDefaults, encoder: await chooseH264Encoder(ffmpegPath, videoEncoders, logger) };
}

export async function maskedPhase(o: BenchOptions): Promise<MaskedResults> {
  const cam = o.maskedCamera;
  const encoder = await gatewayEncoder();
  const dir = mkdtempSync(join(tmpdir(), 'psvgw-bench-masks-'));
  removeOnExit(dir);
  const plan = planMasks(BENCH_MASKS, { width: cam.width, height: cam.height });
  const imageFiles = plan.images.map((image, i) => {
    const file = join(dir, `${image.mode}-${i}.pgm`);
    writeFileSync(file, image.pgm);
    return file;
  });
  const results: MaskedResults = {
    errors: [],
    camera: cam,
    cameraBitrateKbps: null,
    masks: BENCH_MASKS,
    filterComplex: plan.filterComplex,
    encoder,
    bareArgs: [],
  };
  const W = o.cpuWindowSeconds;
  progress(`masked: starting a ${cam.width}x${cam.height} ${cam.fps} fps camera (pattern ${cam.pattern})`);
  const camera = await BenchCamera.start(cam);
  try {
    results.bareArgs = maskingArgv(encoder, imageFiles, plan.filterComplex, cam, rtspInput(camera.url));
    await attempt(results.errors, 'masked baseline', async () => {
      progress(`masked baseline: bare ffmpeg, same masking argv on the camera's RTSP, ${W} s`);
      const bare = new WatchedFfmpeg(results.bareArgs);
      try {
        if ((await pollUntil(() => bare.frames > 0 || !bare.running, 20_000)) === null || !bare.running)
          throw new Error(`bare masking ffmpeg produced no frames:\n${bare.errors()}`);
        await sleep(o.warmupSeconds * 1000);
        const [frames, at] = [bare.frames, nowMs()];
        const usage = await measureTree([bare.child.pid as number], W);
        results.bare = { ...usage, outputFps: round(((bare.frames - frames) * 1000) / (nowMs() - at), 1) };
        if (!bare.running) throw new Error(`bare masking ffmpeg exited during the window:\n${bare.errors()}`);
      } finally {
        await bare.stop();
      }
    });
    results.cameraBitrateKbps = cameraBitrate(camera.url, o.quick ? 2 : 4);
    await attempt(results.errors, 'masked gateway', async () => {
      const gw = await BenchGateway.start();
      try {
        const id = await gw.addCamera('bench-masked', camera.url);
        if ((await gw.waitUp(id, 1, 30_000, 100)) === null) throw new Error(`720p camera not up within 30 s:\n${gw.logTail()}`);
        progress(`masked: gateway, the ${cam.height}p camera in copy mode (no masks), ${W} s`);
        await sleep(o.warmupSeconds * 1000);
        results.copy = await measureTree([gw.pid], W);
        const patchedAt = nowMs();
        await gw.api('PATCH', `/api/v1/cameras/${id}`, { masks: BENCH_MASKS });
        const up = await gw
          .waitUp(id, 1, 30_000, 100)
          .then(() => pollUntil(async () => (await gw.metric('psvgw_masking_up', id)) === 1, 30_000, 100));
        if (up === null) throw new Error(`masking transcode not live within 30 s:\n${gw.logTail()}`);
        const patchToMaskingUpMs = round(nowMs() - patchedAt, 0);
        progress(`masked: gateway, the same camera with ${BENCH_MASKS.length} masks (masking transcode), ${W} s`);
        await sleep(o.warmupSeconds * 1000);
        const usage = await measureTree([gw.pid], W);
        const status = await gw.api<unknown>('GET', `/api/v1/cameras/${id}/status`);
        results.masked = { ...usage, patchToMaskingUpMs, outputFps: maskingFps(status) };
        if ((await gw.metric('psvgw_masking_up', id)) !== 1) throw new Error('masking transcode not live at the end of the window');
        await gw.removeCamera(id);
      } finally {
        await gw.stop();
      }
    });
  } finally {
    await camera.stop();
  }
  await attempt(results.errors, 'masked sweep', async () => {
    results.sweep = await sweep(dir, encoder, imageFiles, plan.filterComplex, o);
  });
  return results;
}

/** The masking transcode's fps (from its -progress) in the camera's status, wherever the status nests it. */
function maskingFps(status: unknown): number | null {
  if (status === null || typeof status !== 'object') return null;
  for (const [key, value] of Object.entries(status as Record<string, unknown>)) {
    if (key === 'masking' && value !== null && typeof value === 'object' && typeof (value as { fps?: unknown }).fps === 'number')
      return round((value as { fps: number }).fps, 1);
    const found = maskingFps(value);
    if (found !== null) return found;
  }
  return null;
}

/** Bitrate of the camera's stream over `seconds`, kbit/s (what the decoder side of the transcode eats). */
function cameraBitrate(url: string, seconds: number): number | null {
  const r = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-rtsp_transport',
      'tcp',
      '-read_intervals',
      `%+${seconds}`,
      '-select_streams',
      'v:0',
      '-show_entries',
      'packet=size',
      '-of',
      'csv=p=0',
      url,
    ],
    { encoding: 'utf8', timeout: (seconds + 10) * 1000 },
  );
  const sizes = (r.stdout ?? '')
    .split('\n')
    .map(Number)
    .filter((n) => Number.isFinite(n) && n > 0);
  return sizes.length === 0 ? null : round((sizes.reduce((s, v) => s + v, 0) * 8) / 1000 / seconds, 0);
}

/** A looped 720p25 H.264 file like the camera's stream: noisy test pattern, x264 ultrafast zerolatency at ~2 Mbit/s, 1 s GOP. */
function makeLoopFile(dir: string, cam: CameraOptions, seconds: number): SweepResult['input'] {
  const file = join(dir, 'loop.mkv');
  const made = `ffmpeg lavfi testsrc2=size=${cam.width}x${cam.height}:rate=${cam.fps} + noise=alls=40:allf=t, libx264 ultrafast zerolatency 2 Mbit/s, GOP ${cam.fps}, no B-frames, ${seconds} s`;
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${cam.width}x${cam.height}:rate=${cam.fps},noise=alls=40:allf=t`,
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-b:v',
      '2M',
      '-maxrate',
      '2M',
      '-bufsize',
      '4M',
      '-g',
      String(cam.fps),
      '-bf',
      '0',
      '-pix_fmt',
      'yuv420p',
      file,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0 || !existsSync(file)) throw new Error(`could not make the looped input: ${r.stderr ?? r.error?.message ?? ''}`);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=bit_rate', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  const bps = Number((probe.stdout ?? '').trim());
  return { file, seconds, bitrateKbps: Number.isFinite(bps) && bps > 0 ? round(bps / 1000, 0) : null, made };
}

/** A transcode whose `-progress` frame counter is followed with the arrival time of each line. */
class PinnedTranscode {
  frame = 0;
  at = 0;
  private readonly stderr = new LineTail();
  readonly child: ChildProcess;

  constructor(core: number, args: string[]) {
    this.child = spawnTracked('taskset', ['-c', String(core), 'ffmpeg', ...args]);
    readLines(this.child.stderr, this.stderr.push);
    readLines(this.child.stdout, (line, at) => {
      const m = /^frame=(\d+)/.exec(line);
      if (!m) return;
      this.frame = Number(m[1]);
      this.at = at;
    });
  }

  get running(): boolean {
    return isRunning(this.child);
  }

  errors(): string {
    return this.stderr.text(5);
  }
}

/**
 * K bare masking transcodes of a looped 720p25 file read in real time (-re), all pinned
 * to one core, for K = 1, 2, … until one of them falls below `threshold` of real time.
 */
async function sweep(
  dir: string,
  encoder: SharedEncoderSettings,
  imageFiles: string[],
  filterComplex: string,
  o: BenchOptions,
): Promise<SweepResult> {
  const cam = o.maskedCamera;
  const cpus = Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim()) || 1;
  const core = cpus > 1 ? 1 : 0;
  progress(`masked sweep: making a ${o.sweep.fileSeconds} s ${cam.height}p${cam.fps} H.264 file`);
  const input = makeLoopFile(dir, cam, o.sweep.fileSeconds);
  const args = maskingArgv(encoder, imageFiles, filterComplex, cam, ['-re', '-stream_loop', '-1', '-i', input.file]);
  const started = elapsedSeconds();
  const steps: SweepStep[] = [];
  let stoppedBecause = `reached K = ${o.sweep.maxK}`;
  for (let k = 1; k <= o.sweep.maxK; k++) {
    if (elapsedSeconds() - started + o.sweep.windowSeconds + o.sweep.warmupSeconds > o.sweep.budgetSeconds) {
      stoppedBecause = `time budget of ${o.sweep.budgetSeconds} s`;
      break;
    }
    progress(`masked sweep: ${k} transcode(s) pinned to core ${core}, ${o.sweep.windowSeconds} s`);
    const procs = Array.from({ length: k }, () => new PinnedTranscode(core, args));
    try {
      if ((await pollUntil(() => procs.every((p) => p.frame > 0) || procs.some((p) => !p.running), 15_000)) === null)
        throw new Error(`sweep transcodes produced no frames:\n${procs.map((p) => p.errors()).join('\n')}`);
      const dead = procs.find((p) => !p.running);
      if (dead) throw new Error(`sweep transcode exited:\n${dead.errors()}`);
      await sleep(o.sweep.warmupSeconds * 1000);
      const before = procs.map((p) => ({ frame: p.frame, at: p.at }));
      const usage = await measureTree(
        procs.map((p) => p.child.pid as number),
        o.sweep.windowSeconds,
      );
      const speeds = procs.map((p, i) => {
        const b = before[i] as { frame: number; at: number };
        const seconds = (p.at - b.at) / 1000;
        return seconds > 0 ? (p.frame - b.frame) / seconds / cam.fps : 0;
      });
      const minSpeed = Math.min(...speeds);
      const sustained = procs.every((p) => p.running) && minSpeed >= o.sweep.threshold;
      steps.push({ k, speeds: speeds.map((s) => round(s, 3) as number), minSpeed: round(minSpeed, 3), cpuPct: usage.cpuPct, sustained });
      if (!sustained) {
        stoppedBecause = `K = ${k} fell below ${o.sweep.threshold}× real time`;
        break;
      }
    } finally {
      await Promise.all(procs.map((p) => stopChild(p.child, 2000)));
    }
  }
  let sustainedCameras = 0;
  for (const s of steps) {
    if (!s.sustained) break;
    sustainedCameras = s.k;
  }
  return {
    core,
    input,
    windowSeconds: o.sweep.windowSeconds,
    threshold: o.sweep.threshold,
    steps,
    sustainedCameras,
    stoppedBecause,
  };
}
