import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isRunning, LineTail, nowMs, readLines, spawnTracked, stopChild } from './children.js';
import { freePorts } from './ports.js';
import { pollUntil, sleep } from './stats.js';

/** The GStreamer RTSP test camera of the test suite (tests/fixtures/rtsp_camera.py). */
const FIXTURE = fileURLToPath(new URL('../../tests/fixtures/rtsp_camera.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const EXIT_BIND = 3;

export interface CameraOptions {
  codec: 'h264' | 'h265';
  width: number;
  height: number;
  fps: number;
  /** videotestsrc pattern: `snow` (noise) makes x264 reach its 2 Mbit/s target, as a real camera would. */
  pattern: string;
  /**
   * The fixture's `--scene-control`: `setScene` switches the picture (e.g. to black and back) while
   * it streams, a time mark that a reader sees in the decoded picture. Its filter chain (time
   * overlay, colour balance, blur) costs far more CPU than the plain camera.
   */
  sceneControl?: boolean;
  /** Plays numbered JPEG frames in a loop instead of the pattern (the fixture's `--frames`, e.g. the faces scene). */
  frames?: { pattern: string; count: number };
}

/** One camera process; `restart()` brings it back on the same port, like a rebooted camera. */
export class BenchCamera {
  private child: ChildProcess | null = null;
  private readonly stderr = new LineTail();
  private readonly sceneAcks: string[] = [];
  url = '';

  private constructor(
    readonly port: number,
    readonly options: CameraOptions,
  ) {}

  static async start(options: CameraOptions): Promise<BenchCamera> {
    const [port] = (await freePorts(1)) as [number];
    const cam = new BenchCamera(port, options);
    await cam.launch();
    return cam;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves with the wall-clock time of its READY line. */
  async launch(deadlineMs = 15_000): Promise<number> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const outcome = await this.spawnOnce(until - Date.now());
      if (typeof outcome === 'number') return outcome;
      // The old socket may linger for a moment after a kill: retry the same port.
      if (outcome !== 'bind' || Date.now() > until) {
        throw new Error(`test camera on port ${this.port} did not start:\n${this.stderr.text()}`);
      }
      await sleep(150);
    }
  }

  private spawnOnce(timeoutMs: number): Promise<number | 'bind' | 'failed'> {
    const o = this.options;
    const args = [
      FIXTURE,
      '--port',
      String(this.port),
      '--codec',
      o.codec,
      '--width',
      String(o.width),
      '--height',
      String(o.height),
      '--fps',
      String(o.fps),
      '--pattern',
      o.pattern,
      ...(o.sceneControl === true ? ['--scene-control'] : []),
      ...(o.frames ? ['--frames', o.frames.pattern, '--frames-count', String(o.frames.count)] : []),
    ];
    const child = spawnTracked(PYTHON, args, {
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
      stdio: [o.sceneControl === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    child.stdin?.on('error', () => undefined);
    this.child = child;
    readLines(child.stderr, this.stderr.push);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          child.kill('SIGKILL');
          resolve('failed');
        },
        Math.max(1000, timeoutMs),
      );
      readLines(child.stdout, (line, at) => {
        const scene = /^SCENE (\S+)$/.exec(line);
        if (scene) this.sceneAcks.push(scene[1] as string);
        const m = /^READY (\S+)$/.exec(line);
        if (!m) return;
        this.url = m[1] as string;
        clearTimeout(timer);
        resolve(at);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code === EXIT_BIND ? 'bind' : 'failed');
      });
      child.once('error', () => {
        clearTimeout(timer);
        resolve('failed');
      });
    });
  }

  /** Power loss: SIGKILL, resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !isRunning(child)) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  }

  /**
   * Switches the picture (`black`, `normal`, … as the fixture names them) while frames keep
   * flowing; once the camera has acknowledged it, resolves with the wall-clock time the command
   * was sent (no frame of the new scene can be older). Needs `sceneControl`.
   */
  async setScene(scene: string, timeoutMs = 5000): Promise<number> {
    const stdin = this.child?.stdin;
    if (this.options.sceneControl !== true || !stdin || !this.child || !isRunning(this.child))
      throw new Error(`setScene needs a running camera started with sceneControl (port ${this.port})`);
    const from = this.sceneAcks.length;
    const sentAt = nowMs();
    stdin.write(`scene ${scene}\n`);
    if ((await pollUntil(() => this.sceneAcks.slice(from).includes(scene), timeoutMs, 5)) === null)
      throw new Error(`the test camera did not apply scene ${scene} within ${timeoutMs} ms:\n${this.stderr.text()}`);
    return sentAt;
  }

  /** Freezes the camera (SIGSTOP): its sockets stay open, no frame leaves it. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGCONT');
    await stopChild(this.child, 3000);
  }
}
