import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Mask } from '../src/domain/index.js';
import { startDesensitizer } from '../src/desensitize/index.js';
import { BenchCamera } from './camera.js';
import { composeFacesScene } from './facesScene.js';
import { BenchGateway } from './gateway.js';
import { freePorts } from './ports.js';
import { measureTree, processTree } from './procstat.js';
import { progress } from './progress.js';
import { pollUntil, round, sleep, summarize, type Summary } from './stats.js';

/**
 * The detection side of dynamic desensitization for one camera: the composed faces scene played
 * live (an ffmpeg copying it in real time to a loopback UDP MPEG-TS stream, standing in for the
 * raw tier), a desensitizer on it (grabber ffmpeg decoding and downscaling at the detection rate,
 * the OpenCV detector worker, the tracker), its detector latency (frame grabbed → result folded
 * in) and the CPU of the grabber and the worker. The masking side's cost is measured apart.
 */
export interface DetectorFigures {
  width: number;
  height: number;
  detectFps: number;
  /** The detection frame's size. */
  detectWidth: number;
  latencyMs: Summary;
  /** CPU the worker spent per detected frame. */
  detectorCpuMsPerFrame: Summary;
  /** % of one core: the grabber ffmpeg, the detector worker, both. */
  grabberCpuPct: number;
  detectorCpuPct: number;
  cpuPct: number;
  /** Frames the grabber delivered while the worker was still busy (dropped, not queued). */
  droppedShare: number;
  /** Cameras one core could run at this rate (detection side only). */
  camerasPerCore: number | null;
}

export interface DetectorOptions {
  sizes?: readonly (readonly [number, number])[];
  detectFps?: number;
  detectWidth?: number;
  /** CPU window per size, after a settling time. */
  seconds?: number;
  warmupSeconds?: number;
}

/** Measures each size in turn; one that fails throws (the caller records it). */
export async function measureDetector(opts: DetectorOptions = {}): Promise<DetectorFigures[]> {
  const sizes = opts.sizes ?? [
    [640, 360],
    [1280, 720],
  ];
  const detectFps = opts.detectFps ?? 5;
  const detectWidth = opts.detectWidth ?? 480;
  const seconds = opts.seconds ?? 20;
  const out: DetectorFigures[] = [];
  for (const [width, height] of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'psvgw-bench-faces-'));
    try {
      progress(`desensitize: composing the faces scene at ${width}x${height}`);
      const scene = await composeFacesScene({ dir, width, height });
      const [port] = (await freePorts(1)) as [number];
      const feeder = spawn(
        'ffmpeg',
        [
          '-v',
          'error',
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          scene.videoPath,
          '-c',
          'copy',
          '-f',
          'mpegts',
          `udp://127.0.0.1:${port}?pkt_size=1316`,
        ],
        { stdio: 'ignore' },
      );
      const des = startDesensitizer({
        cameraId: `bench-${width}x${height}`,
        sourceUrl: `udp://127.0.0.1:${port}?overrun_nonfatal=1&fifo_size=1000000`,
        width,
        height,
        faces: true,
        plates: false,
        detectFps,
        log: pino({ level: 'silent' }),
        tuning: { detectWidth },
      });
      try {
        if ((await pollUntil(() => des.health() === 'ok', 60_000, 100)) === null)
          throw new Error(`no detection within 60 s at ${width}x${height}`);
        await sleep((opts.warmupSeconds ?? 3) * 1000);
        const before = { ...des.stats };
        const feederPid = feeder.pid ?? -1;
        progress(`desensitize: ${width}x${height}, detection at ${detectFps}/s on ${detectWidth} px wide frames, ${seconds} s CPU window`);
        const [all, feed] = await Promise.all([measureTree([process.pid], seconds), measureTree([feederPid], seconds)]);
        const framesIn = des.stats.framesIn - before.framesIn;
        const dropped = des.stats.framesDropped - before.framesDropped;
        const grabberCpuPct = Math.max(0, (all.cpuPctBy.ffmpeg ?? 0) - (feed.cpuPctBy.main ?? 0));
        const detectorCpuPct = all.cpuPctBy.python3 ?? 0;
        const cpuPct = grabberCpuPct + detectorCpuPct;
        out.push({
          width,
          height,
          detectFps,
          detectWidth,
          latencyMs: summarize(des.stats.latencyMs),
          detectorCpuMsPerFrame: summarize(des.stats.cpuMs),
          grabberCpuPct: round(grabberCpuPct, 1) as number,
          detectorCpuPct: round(detectorCpuPct, 1) as number,
          cpuPct: round(cpuPct, 1) as number,
          droppedShare: round(framesIn > 0 ? dropped / framesIn : 0, 3) as number,
          camerasPerCore: cpuPct > 0 ? (round(100 / cpuPct, 1) as number) : null,
        });
      } finally {
        await des.close();
        feeder.kill('SIGTERM');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

/**
 * The whole cost of a desensitized camera in the gateway, against the static-mask transcode of
 * the same camera in the same run: the RTSP test camera plays the composed faces scene (numbered
 * JPEGs, `rtsp_camera.py --frames`), a gateway ingests it in copy mode, then with the static
 * bench masks (masking transcode), then with the same masks and `desensitize: {faces: true}`
 * (masking transcode with the live mask stream, the desensitizer's grabber ffmpeg, its OpenCV
 * worker, Node writing the masks). Each step's gateway tree CPU is measured over the same window;
 * the processes are told apart by their argv.
 */
export interface DesensitizedCameraFigures {
  width: number;
  height: number;
  fps: number;
  detectFps: number;
  /** % of one core, the gateway's whole tree, per step. */
  copyCpuPct: number;
  staticMaskCpuPct: number;
  desensitizedCpuPct: number;
  /** The desensitized step split: Node, ingest ffmpeg, masking ffmpeg, grabber ffmpeg, detector worker. */
  desensitizedBy: { node: number; ingest: number; masking: number; grabber: number; detector: number };
  /** The static step split the same way (no grabber, no detector). */
  staticBy: { node: number; ingest: number; masking: number };
  /** What desensitization adds over the static-mask transcode of the same camera (whole tree). */
  addedOverStaticCpuPct: number;
  /** Cameras one core sustains, each counted whole (ingest, transcode, and for desensitized the grabber, detector and Node's share). */
  staticCamerasPerCore: number | null;
  desensitizedCamerasPerCore: number | null;
  /**
   * On a loaded machine the worker is starved and drops frames, so its measured CPU is below what
   * the detection rate needs: the whole tree with the worker's share replaced by its CPU per frame
   * (measureDetector's p50 at this size) times the rate, and the cameras one core sustains so.
   */
  desensitizedCpuPctAtRate: number | null;
  desensitizedCamerasPerCoreAtRate: number | null;
  /** psvgw_desensitize_up at the end of the window: false when the detector fell behind and the shared tier failed closed. */
  upAtEnd: boolean;
}

export interface DesensitizedCameraOptions {
  sizes?: readonly (readonly [number, number])[];
  detectFps?: number;
  seconds: number;
  warmupSeconds: number;
  /** Static masks of the comparison (bench/maskedPhase.ts' BENCH_MASKS). */
  masks: readonly Mask[];
  /** The detector's CPU per frame by camera size (`WxH`), from measureDetector, for the figures at the nominal rate. */
  detectorCpuMsPerFrame?: Record<string, number | null>;
}

type Role = 'node' | 'ingest' | 'masking' | 'grabber' | 'detector' | 'other';

/** Which part of a desensitized camera a gateway descendant is, by its argv. */
function roleOf(pid: number, rootPid: number): Role {
  if (pid === rootPid) return 'node';
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
  } catch {
    return 'other';
  }
  if (argv[0] === '/usr/bin/python3' && argv.includes('-c')) return 'detector';
  if (!/ffmpeg$/.test(argv[0] ?? '')) return 'other';
  if (argv.includes('-filter_complex')) return 'masking';
  if (argv[argv.length - 1] === 'pipe:3') return 'grabber';
  return 'ingest';
}

/** CPU of the gateway's tree over `seconds`, split by role (% of one core). */
async function measureRoles(rootPid: number, seconds: number): Promise<{ total: number; by: Record<Role, number> }> {
  const roles = new Map<number, Role>();
  const pids = processTree([rootPid]).map((p) => p.pid);
  for (const pid of pids) roles.set(pid, roleOf(pid, rootPid));
  const usages = await Promise.all(pids.map((pid) => measureTree([pid], seconds).then((u) => ({ pid, pct: u.cpuPctBy.main ?? 0 }))));
  const by: Record<Role, number> = { node: 0, ingest: 0, masking: 0, grabber: 0, detector: 0, other: 0 };
  for (const { pid, pct } of usages) by[roles.get(pid) ?? 'other'] += pct;
  const total = Object.values(by).reduce((s, v) => s + v, 0);
  return { total, by };
}

export async function measureDesensitizedCameras(opts: DesensitizedCameraOptions): Promise<DesensitizedCameraFigures[]> {
  const sizes = opts.sizes ?? [
    [640, 360],
    [1280, 720],
  ];
  const detectFps = opts.detectFps ?? 5;
  const out: DesensitizedCameraFigures[] = [];
  for (const [width, height] of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'psvgw-bench-desens-'));
    try {
      progress(`desensitize: composing the faces scene at ${width}x${height} as camera frames`);
      const scene = await composeFacesScene({ dir, width, height, jpegFrames: true });
      const camera = await BenchCamera.start({
        codec: 'h264',
        width,
        height,
        fps: scene.fps,
        pattern: 'ball',
        frames: { pattern: scene.framesPattern!, count: scene.truth.length },
      });
      try {
        const gw = await BenchGateway.start();
        try {
          const id = await gw.addCamera(`bench-desens-${height}p`, camera.url);
          if ((await gw.waitUp(id, 1, 30_000, 100)) === null) throw new Error(`camera not up within 30 s:\n${gw.logTail()}`);
          const W = opts.seconds;
          await sleep(opts.warmupSeconds * 1000);
          progress(`desensitize: ${width}x${height} in copy mode, ${W} s`);
          const copy = await measureRoles(gw.pid, W);
          await gw.api('PATCH', `/api/v1/cameras/${id}`, { masks: opts.masks });
          if ((await pollUntil(async () => (await gw.metric('psvgw_masking_up', id)) === 1, 30_000, 100)) === null)
            throw new Error(`masking transcode not live within 30 s:\n${gw.logTail()}`);
          await sleep(opts.warmupSeconds * 1000);
          progress(`desensitize: ${width}x${height} with static masks, ${W} s`);
          const masked = await measureRoles(gw.pid, W);
          await gw.api('PATCH', `/api/v1/cameras/${id}`, { desensitize: { faces: true, plates: false, detectFps, failMode: 'dark' } });
          if ((await pollUntil(async () => (await gw.metric('psvgw_desensitize_up', id)) === 1, 90_000, 250)) === null) {
            const status = await gw.api<unknown>('GET', `/api/v1/cameras/${id}/status`).catch((err: unknown) => String(err));
            throw new Error(`desensitization not up within 90 s: ${JSON.stringify(status).slice(0, 800)}\n${gw.logTail()}`);
          }
          await sleep(opts.warmupSeconds * 1000);
          progress(`desensitize: ${width}x${height} desensitized (faces at ${detectFps}/s) with the same masks, ${W} s`);
          const des = await measureRoles(gw.pid, W);
          // On a loaded machine the detector may fall behind and the shared tier fail closed: said, not hidden.
          const upAtEnd = (await gw.metric('psvgw_desensitize_up', id)) === 1;
          const r1 = (v: number) => round(v, 1) as number;
          const perFrame = opts.detectorCpuMsPerFrame?.[`${width}x${height}`] ?? null;
          const atRate = perFrame === null ? null : des.total - des.by.detector + (perFrame * detectFps) / 10;
          out.push({
            width,
            height,
            fps: scene.fps,
            detectFps,
            copyCpuPct: r1(copy.total),
            staticMaskCpuPct: r1(masked.total),
            desensitizedCpuPct: r1(des.total),
            desensitizedBy: {
              node: r1(des.by.node),
              ingest: r1(des.by.ingest),
              masking: r1(des.by.masking),
              grabber: r1(des.by.grabber),
              detector: r1(des.by.detector),
            },
            staticBy: { node: r1(masked.by.node), ingest: r1(masked.by.ingest), masking: r1(masked.by.masking) },
            addedOverStaticCpuPct: r1(des.total - masked.total),
            staticCamerasPerCore: masked.total > 0 ? r1(100 / masked.total) : null,
            desensitizedCamerasPerCore: des.total > 0 ? r1(100 / des.total) : null,
            desensitizedCpuPctAtRate: atRate === null ? null : r1(atRate),
            desensitizedCamerasPerCoreAtRate: atRate !== null && atRate > 0 ? r1(100 / atRate) : null,
            upAtEnd,
          });
          await gw.removeCamera(id);
        } finally {
          await gw.stop();
        }
      } finally {
        await camera.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
