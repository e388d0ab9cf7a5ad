import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineBuffer } from './launcher.js';
import { freePorts } from './ports.js';

/**
 * Many cheap RTSP cameras for scale tests: one GStreamer RTSP server process
 * (tests/fixtures/rtsp_fleet.py) serving `/cam1 … /camN` from one pre-encoded H.264
 * loop, so that no camera encodes anything. Shared by the test suite
 * (tests/helpers/cameraFleet.ts) and the benchmark's scale and soak phases.
 */

/** The fixture, from bench/ (tests import this file) or from dist/bench/ (the built benchmark). */
export const FLEET_FIXTURE = ['../tests/fixtures/rtsp_fleet.py', '../../tests/fixtures/rtsp_fleet.py']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path)) as string;
const PYTHON = '/usr/bin/python3';
const EXIT_BIND = 3;
const STDERR_KEEP = 16 * 1024;
export const FLEET_INSTALL_HINT =
  'apt-get install -y ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad';

export interface CameraFleetOptions {
  /** Number of mounts, `/cam1` … `/camN`. */
  count: number;
  /** Default 640x360. */
  width?: number;
  height?: number;
  /** Default 25; also the keyframe interval, so one GOP per second. */
  fps?: number;
  /** Target video bitrate of the loop; default 500. */
  bitrateKbps?: number;
  /** Length of the loop file; default 4 s. */
  loopSeconds?: number;
  /** Where encoded loops are kept between runs; default `<tmpdir>/psvgw-camera-fleet`. */
  cacheDir?: string;
  /** How long to wait for the server to listen; default 30 s (a few hundred mounts take a moment). */
  readyTimeoutMs?: number;
}

export interface CameraFleet {
  /** `urls[i]` is mount `/cam{i+1}`. */
  readonly urls: readonly string[];
  readonly port: number;
  readonly pid: number | undefined;
  /** The MPEG-TS loop every mount replays. */
  readonly loopFile: string;
  /** RTSP clients playing the mount now (`/cam3`, `cam3` or the mount's 1-based number). */
  clientCount(mount: string | number): number;
  /** Resolves once `clientCount(mount)` satisfies `check`; rejects after `timeoutMs`. */
  waitForClients(mount: string | number, check: (count: number) => boolean, timeoutMs: number): Promise<number>;
  /** What the server wrote on stderr (last 16 KiB). */
  readonly stderr: string;
  readonly running: boolean;
  /** SIGTERM, SIGKILL after 3 s; resolves once the process has exited. Safe to call repeatedly. */
  stop(): Promise<void>;
}

function mountName(mount: string | number): string {
  if (typeof mount === 'number') return `/cam${mount}`;
  return mount.startsWith('/') ? mount : `/${mount}`;
}

/**
 * The loop file for these settings, encoded once with ffmpeg (x264, baseline, no
 * B-frames, a keyframe every `fps` frames, constant bitrate) and kept in `cacheDir`.
 */
export function ensureLoopFile(o: Required<Omit<CameraFleetOptions, 'count' | 'readyTimeoutMs'>>): string {
  mkdirSync(o.cacheDir, { recursive: true });
  const file = join(o.cacheDir, `loop-${o.width}x${o.height}-${o.fps}fps-${o.bitrateKbps}k-${o.loopSeconds}s.ts`);
  if (existsSync(file)) return file;
  // Written under a private name and renamed, so concurrent fleets never read half a file.
  const partial = `${file}.${process.pid}.${Date.now()}.part`;
  const rate = `${o.bitrateKbps}k`;
  const r = spawnSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`, '-t', String(o.loopSeconds)],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-bf', '0'],
      ...['-g', String(o.fps), '-keyint_min', String(o.fps), '-sc_threshold', '0'],
      ...['-b:v', rate, '-maxrate', rate, '-bufsize', rate, '-f', 'mpegts', partial],
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.error || r.status !== 0) {
    rmSync(partial, { force: true });
    const why = r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join('\n');
    throw new Error(`cannot encode the camera fleet's loop with ffmpeg (${why}); install it with: ${FLEET_INSTALL_HINT}`);
  }
  renameSync(partial, file);
  return file;
}

const running = new Set<ChildProcess>();
// Last resort when the process dies without stop(): no fleet outlives it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

class BindError extends Error {}

/** Starts the fleet and resolves once its server listens. */
export async function startCameraFleet(options: CameraFleetOptions): Promise<CameraFleet> {
  const { count } = options;
  if (!Number.isInteger(count) || count <= 0) {
    throw new Error(`startCameraFleet: count must be a positive integer, got ${count}`);
  }
  const o = {
    width: options.width ?? 640,
    height: options.height ?? 360,
    fps: options.fps ?? 25,
    bitrateKbps: options.bitrateKbps ?? 500,
    loopSeconds: options.loopSeconds ?? 4,
    cacheDir: options.cacheDir ?? join(tmpdir(), 'psvgw-camera-fleet'),
  };
  const loopFile = ensureLoopFile(o);
  for (let attempt = 1; ; attempt++) {
    const [port] = (await freePorts(1)) as [number];
    try {
      return await spawnFleet(count, port, loopFile, options.readyTimeoutMs ?? 30_000);
    } catch (err) {
      // Another process took the port between the kernel's answer and the bind.
      if (!(err instanceof BindError) || attempt >= 5) throw err;
    }
  }
}

function spawnFleet(count: number, port: number, loopFile: string, readyTimeoutMs: number): Promise<CameraFleet> {
  const child = spawn(PYTHON, [FLEET_FIXTURE, '--port', String(port), '--count', String(count), '--file', loopFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  running.add(child);
  const counts = new Map<string, number>();
  let stderrText = '';
  let baseUrl = '';
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  }).then(() => {
    running.delete(child);
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderrText = (stderrText + s).slice(-STDERR_KEEP);
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  let stopping: Promise<void> | null = null;

  const fleet: CameraFleet = {
    get urls() {
      return Array.from({ length: count }, (_, i) => `${baseUrl}/cam${i + 1}`);
    },
    port,
    pid: child.pid,
    loopFile,
    clientCount: (mount) => counts.get(mountName(mount)) ?? 0,
    async waitForClients(mount, check, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const n = fleet.clientCount(mount);
        if (check(n)) return n;
        if (Date.now() > deadline) {
          throw new Error(`camera fleet mount ${mountName(mount)}: client count still ${n} after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    get stderr() {
      return stderrText;
    },
    get running() {
      return isRunning();
    },
    stop() {
      if (!isRunning()) return exited;
      stopping ??= (async () => {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(kill);
      })();
      return stopping;
    },
  };

  return new Promise<CameraFleet>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`camera fleet (${count} mounts) not ready after ${readyTimeoutMs} ms; stderr:\n${stderrText}`));
    }, readyTimeoutMs);
    const lines = new LineBuffer(64 * 1024);
    // stdout is drained for the whole run so the server never blocks on a full pipe.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) {
        const m = /^CLIENTS (\S+) (\d+)$/.exec(line);
        if (m) counts.set(m[1] as string, Number(m[2]));
        const ready = /^READY (\S+)$/.exec(line);
        if (ready && !baseUrl) {
          baseUrl = ready[1] as string;
          clearTimeout(timer);
          resolve(fleet);
        }
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${PYTHON} for the camera fleet: ${err.message}; install it with: ${FLEET_INSTALL_HINT}`));
    });
    child.once('exit', (code, sig) => {
      if (baseUrl) return;
      clearTimeout(timer);
      // 'exit' may come before the last stderr chunk; 'close' waits for the pipes.
      child.once('close', () => {
        const msg = `camera fleet exited with ${code ?? sig} before READY; stderr:\n${stderrText}`;
        reject(code === EXIT_BIND ? new BindError(msg) : new Error(`${msg}\nInstall what is missing with: ${FLEET_INSTALL_HINT}`));
      });
    });
  });
}
