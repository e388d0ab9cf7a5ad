import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

/** The system interpreter: it is the one Debian's python3-gi is built for. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const FIXTURE_PATH = fileURLToPath(new URL('../fixtures/rtsp_camera.py', import.meta.url));
export const GST_RTSP_INSTALL_HINT =
  'apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x';

export type TestCameraCodec = 'h264' | 'h265';
export type TestCameraAudio = 'none' | 'aac' | 'pcma' | 'pcmu';
/** Pictures a camera started with `sceneControl` can switch to while streaming (see the fixture's doc). */
export type TestCameraScene = 'normal' | 'black' | 'frozen' | 'blurred' | 'covered' | 'dark' | 'other';

export interface TestCameraOptions {
  /** Default: a free port picked at start. */
  port?: number;
  /** Default `/stream`. */
  path?: string;
  /** Default `h264`. */
  codec?: TestCameraCodec;
  /** Default 640x360. */
  width?: number;
  height?: number;
  /** Default 25; also the keyframe interval, so one GOP per second. */
  fps?: number;
  /** `irregular`: bursts of frames at `fps` separated by pauses of 0.2 to 1.6 s (see the fixture's doc). Default `steady`. */
  pacing?: 'steady' | 'irregular';
  /** videotestsrc pattern nick; default `ball` so consecutive frames differ (`circular` with `sceneControl`). */
  pattern?: string;
  /** Lets `setScene` switch the picture at run time (a still pattern with a running counter by default). */
  sceneControl?: boolean;
  /**
   * Plays numbered JPEG frames (a multifilesrc pattern such as `dir/%05d.jpg`, numbered from 1) in a
   * loop instead of a test pattern, e.g. the faces scene of `composeFacesScene({ jpegFrames: true })`.
   */
  frames?: { pattern: string; count: number };
  /** Default `none`. */
  audio?: TestCameraAudio;
  /** When both are given the camera demands RTSP Basic auth. */
  user?: string;
  password?: string;
  /** Default 127.0.0.1. */
  bind?: string;
  /** How long to wait for the server to listen; default 15 s. */
  readyTimeoutMs?: number;
}

/** Fixture exit code meaning "could not bind the port". */
const EXIT_BIND = 3;
const STOP_GRACE_MS = 3000;
const BIND_RETRY_MS = 5000;
const STDERR_KEEP = 16 * 1024;

let gstChecked = false;

/** Throws with the apt-get line to run unless /usr/bin/python3 can load GstRtspServer. */
export function assertGstRtspAvailable(): void {
  if (gstChecked) return;
  const probe = spawnSync(
    SYSTEM_PYTHON,
    [
      '-c',
      'import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0"); ' +
        'from gi.repository import Gst, GstRtspServer',
    ],
    { encoding: 'utf8', timeout: 15_000 },
  );
  if (probe.error || probe.status !== 0) {
    const detail = probe.error?.message ?? probe.stderr.trim().split('\n').slice(-1)[0] ?? `exit ${probe.status}`;
    throw new Error(
      `The RTSP test camera needs ${SYSTEM_PYTHON} with GObject introspection and GstRtspServer (${detail}). ` +
        `Install them with: ${GST_RTSP_INSTALL_HINT}`,
    );
  }
  gstChecked = true;
}

const cameras = new Set<TestCamera>();

// Last resort when a test run dies without afterAll: no camera outlives it.
process.once('exit', () => {
  for (const cam of cameras) cam.killNow();
});

class BindError extends Error {}

/** A real RTSP camera (GStreamer RTSP server in a child process) for tests. */
export class TestCamera {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private stderrText = '';
  private readyUrl = '';
  private isFrozen = false;
  private chosenPort: number | undefined;
  private stdoutLine = '';
  /** Scene names the fixture acknowledged, in order. */
  private sceneAcks: string[] = [];
  private currentScene: TestCameraScene = 'normal';

  private constructor(readonly options: Readonly<TestCameraOptions>) {
    this.chosenPort = options.port;
  }

  /** Spawns a camera and resolves once it listens. */
  static async start(options: TestCameraOptions = {}): Promise<TestCamera> {
    const cam = new TestCamera({ ...options });
    await cam.launch(options.port === undefined ? 'new-port' : 'same-port');
    return cam;
  }

  get port(): number {
    if (this.chosenPort === undefined) throw new Error('TestCamera has not started');
    return this.chosenPort;
  }

  /** RTSP URL without user info. */
  get baseUrl(): string {
    if (!this.readyUrl) throw new Error('TestCamera has not started');
    return this.readyUrl;
  }

  /** RTSP URL, with the camera's own credentials inserted when it has some. */
  get url(): string {
    return this.urlWithCredentials();
  }

  /** The URL with the given (default: the camera's own) credentials as user info, percent-encoded. */
  urlWithCredentials(user = this.options.user, password = this.options.password): string {
    if (user === undefined) return this.baseUrl;
    const u = new URL(this.baseUrl);
    // Set via the URL object so reserved characters are escaped the way RTSP clients decode them.
    u.username = user;
    if (password !== undefined) u.password = password;
    return u.toString();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /** What the camera process wrote on stderr (last 16 KiB). */
  get stderr(): string {
    return this.stderrText;
  }

  get scene(): TestCameraScene {
    return this.currentScene;
  }

  /**
   * Switches the picture while the stream goes on (frames keep flowing, also when
   * 'frozen'); resolves once the camera has applied it. Needs `sceneControl`.
   */
  async setScene(scene: TestCameraScene, timeoutMs = 5000): Promise<void> {
    if (!this.options.sceneControl) throw new Error('setScene needs a TestCamera started with sceneControl: true');
    if (!this.running || !this.child?.stdin) throw new Error(`TestCamera on port ${this.chosenPort} is not running`);
    const from = this.sceneAcks.length;
    this.child.stdin.write(`scene ${scene}\n`);
    const deadline = Date.now() + timeoutMs;
    while (!this.sceneAcks.slice(from).includes(scene)) {
      if (Date.now() > deadline)
        throw new Error(`TestCamera did not apply scene ${scene} within ${timeoutMs} ms; stderr:\n${this.stderrText}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    this.currentScene = scene;
  }

  /** Suspends the whole process: sockets stay open, no more frames are sent. */
  freeze(): void {
    this.signal('SIGSTOP');
    this.isFrozen = true;
  }

  /** Lets a frozen camera go on. */
  resume(): void {
    this.signal('SIGCONT');
    this.isFrozen = false;
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. Safe to call repeatedly. */
  stop(): Promise<void> {
    if (!this.running) return this.exited;
    if (this.stopping) return this.stopping;
    const child = this.child as ChildProcess;
    this.stopping = (async () => {
      child.kill('SIGTERM');
      // A stopped process only acts on SIGTERM once continued.
      if (this.isFrozen) child.kill('SIGCONT');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(kill);
    })();
    return this.stopping;
  }

  /** Stops the camera and starts it again on the same port (the old socket may take a moment to free). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch('same-port');
  }

  /** Synchronous kill for process exit; not for normal use. */
  killNow(): void {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.running) throw new Error(`TestCamera on port ${this.chosenPort} is not running`);
    this.child?.kill(sig);
  }

  private noteSceneAcks(chunk: string): void {
    const lines = (this.stdoutLine + chunk).split('\n');
    this.stdoutLine = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^SCENE (\w+)$/.exec(line.trim());
      if (m) this.sceneAcks.push(m[1] as string);
    }
  }

  /** Starts the process; on a taken port either retries the same port or picks another. */
  private async launch(onBindFailure: 'new-port' | 'same-port'): Promise<void> {
    assertGstRtspAvailable();
    const deadline = Date.now() + BIND_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      if (this.chosenPort === undefined || (onBindFailure === 'new-port' && attempt > 1)) {
        this.chosenPort = await freePort();
      }
      try {
        await this.spawnOnce(this.chosenPort);
        return;
      } catch (err) {
        const retry = err instanceof BindError && (onBindFailure === 'new-port' ? attempt < 5 : Date.now() < deadline);
        if (!retry) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private spawnOnce(port: number): Promise<void> {
    const o = this.options;
    const args = [FIXTURE_PATH, '--port', String(port)];
    const opt = (flag: string, value: string | number | undefined): void => {
      if (value !== undefined) args.push(flag, String(value));
    };
    opt('--path', o.path);
    opt('--codec', o.codec);
    opt('--width', o.width);
    opt('--height', o.height);
    opt('--fps', o.fps);
    opt('--pattern', o.pattern);
    opt('--pacing', o.pacing);
    opt('--audio', o.audio);
    opt('--user', o.user);
    opt('--password', o.password);
    opt('--bind', o.bind);
    if (o.frames) args.push('--frames', o.frames.pattern, '--frames-count', String(o.frames.count));
    if (o.sceneControl) args.push('--scene-control');

    const child = spawn(SYSTEM_PYTHON, args, {
      // stdin carries scene commands when the picture is switchable.
      stdio: [o.sceneControl ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    this.child = child;
    this.stdoutLine = '';
    this.sceneAcks = [];
    this.currentScene = 'normal';
    child.stdin?.on('error', () => undefined);
    this.stopping = null;
    this.isFrozen = false;
    this.stderrText = '';
    this.readyUrl = '';
    cameras.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        cameras.delete(this);
        resolve();
      });
      child.once('error', () => {
        cameras.delete(this);
        resolve();
      });
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.stderrText = (this.stderrText + s).slice(-STDERR_KEEP);
    });

    const timeoutMs = o.readyTimeoutMs ?? 15_000;
    return new Promise<void>((resolve, reject) => {
      let out = '';
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`TestCamera on port ${port} not ready after ${timeoutMs} ms; stderr:\n${this.stderrText}`));
      }, timeoutMs);
      // stdout keeps being drained after READY so the fixture never blocks on a full pipe.
      child.stdout?.setEncoding('utf8').on('data', (s: string) => {
        this.noteSceneAcks(s);
        if (this.readyUrl) return;
        out += s;
        const m = /^READY (\S+)$/m.exec(out);
        if (!m) return;
        this.readyUrl = m[1] as string;
        clearTimeout(timer);
        resolve();
      });
      child.once('error', (err) => fail(new Error(`cannot run ${SYSTEM_PYTHON}: ${err.message}`)));
      child.once('exit', (code, sig) => {
        if (this.readyUrl) return;
        // 'exit' may fire before the last stderr chunk is read; 'close' waits for the pipes.
        child.once('close', () => {
          const msg = `TestCamera exited with ${code ?? sig} before READY; stderr:\n${this.stderrText}`;
          fail(code === EXIT_BIND ? new BindError(msg) : new Error(msg));
        });
      });
    });
  }
}

/** Convenience for `TestCamera.start`. */
export function startTestCamera(options: TestCameraOptions = {}): Promise<TestCamera> {
  return TestCamera.start(options);
}

/** Stops every camera still running; call from afterAll. */
export async function stopAllTestCameras(): Promise<void> {
  await Promise.all([...cameras].map((c) => c.stop()));
}
