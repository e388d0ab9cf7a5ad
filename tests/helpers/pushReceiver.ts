import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from './ports.js';

const STDERR_KEEP = 16 * 1024;
const receivers = new Set<PushReceiver>();

// A test run that dies without its afterAll leaves no listener behind.
process.once('exit', () => {
  for (const r of receivers) r.killNow();
});

/** True once something listens on 127.0.0.1:`port` (read from /proc/net/tcp, without connecting). */
function isListening(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const table = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1);
  // local_address is "0100007F:PORT" for 127.0.0.1; state 0A is LISTEN.
  return table.some((line) => {
    const [, local, , state] = line.trim().split(/\s+/);
    return local === `0100007F:${hexPort}` && state === '0A';
  });
}

/**
 * Stand-in for the sharing platform: an ffmpeg listening for one RTMP or RTSP publish,
 * copying what arrives to nowhere and reporting the frames it received.
 */
export class PushReceiver {
  private frameCount = 0;
  private outTimeSec = 0;
  private stderrText = '';
  private readonly exited: Promise<void>;

  private constructor(
    readonly url: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const [key, value] = line.split('=');
        if (key === 'frame') this.frameCount = Number(value) || 0;
        if (key === 'out_time_us') this.outTimeSec = (Number(value) || 0) / 1e6;
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.stderrText = (this.stderrText + s).slice(-STDERR_KEEP);
    });
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    void this.exited.then(() => receivers.delete(this));
  }

  /** Listens at rtmp://127.0.0.1:PORT/`app`/`key`. */
  static rtmp(app: string, key: string): Promise<PushReceiver> {
    return PushReceiver.start((port) => `rtmp://127.0.0.1:${port}/${app}/${key}`, ['-listen', '1']);
  }

  /** Listens at rtsp://127.0.0.1:PORT/`path` for an RTSP ANNOUNCE/RECORD (TCP). */
  static rtsp(path: string): Promise<PushReceiver> {
    return PushReceiver.start((port) => `rtsp://127.0.0.1:${port}/${path}`, ['-rtsp_flags', 'listen']);
  }

  private static async start(urlFor: (port: number) => string, listenArgs: string[]): Promise<PushReceiver> {
    const port = await freePort();
    const url = urlFor(port);
    const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', ...listenArgs, '-analyzeduration', '500000', '-i', url];
    args.push('-map', '0:v:0', '-c', 'copy', '-f', 'null', '-progress', 'pipe:1', '-stats_period', '0.5', '-');
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const receiver = new PushReceiver(url, port, child);
    receivers.add(receiver);
    const deadline = Date.now() + 10_000;
    while (!isListening(port)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        receiver.killNow();
        throw new Error(`ffmpeg did not listen at ${url}: ${receiver.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return receiver;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Video frames received so far. */
  get frames(): number {
    return this.frameCount;
  }

  /** Frames per second of media time received so far. */
  get fps(): number {
    return this.outTimeSec > 0 ? this.frameCount / this.outTimeSec : 0;
  }

  /** Codec of the video stream received, from ffmpeg's description of its input. */
  get videoCodec(): string | undefined {
    return /Stream #0:\d+.*?: Video: (\w+)/.exec(this.stderrText)?.[1];
  }

  get stderr(): string {
    return this.stderrText;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `n` frames have arrived; rejects on timeout or when ffmpeg exits first. */
  async waitForFrames(n: number, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (this.frameCount < n) {
      if (!this.running) throw new Error(`receiver at ${this.url} exited after ${this.frameCount} frames: ${this.stderr}`);
      if (Date.now() - started > timeoutMs)
        throw new Error(`receiver at ${this.url}: ${this.frameCount}/${n} frames after ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Date.now() - started;
  }

  /** SIGTERM, SIGKILL after 2 s; resolves once ffmpeg has exited. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(kill);
    }
    await this.exited;
  }

  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** Stops every receiver still running; call from afterAll. */
export async function stopAllPushReceivers(): Promise<void> {
  await Promise.all([...receivers].map((r) => r.stop()));
}
