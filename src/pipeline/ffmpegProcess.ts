import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { childEnv } from '../childEnv.js';
import { SafeEmitter } from '../events.js';
import type { Logger } from '../log.js';
import { redactSecretsInText } from '../log.js';
import { ProgressParser, type ProgressSample } from './progress.js';

/**
 * One ffmpeg (or ffprobe) child: argv array, own process group, parent-death signal,
 * a minimal environment (childEnv: no PSVGW_* secret reaches a stream parser),
 * `-progress` parsed from stdout, stderr kept as a short tail for diagnosis.
 *
 * Long-lived media processes are spawned here rather than through fluent-ffmpeg: it
 * gives no way to set spawn options (process group, environment), hides the child
 * until it has started, and reads progress from stderr statistics lines that stop
 * printing exactly when a stall needs detecting (see docs/architecture.md).
 */
export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we asked it to stop (SIGTERM/SIGKILL from `stop()`). */
  requested: boolean;
  stderrTail: string[];
  ranMs: number;
  /** Whole stdout, when the process was started with `stdout: 'capture'` (ffprobe's JSON). */
  stdout: string;
  /** The same bytes unconverted (binary output such as a JPEG); empty unless captured. */
  stdoutBytes: Buffer;
}

export interface FfmpegProcessOptions {
  binary: string;
  args: string[];
  logger: Logger;
  /** Lines of stderr kept for the exit report. */
  tailLines?: number;
  /** Grace between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** 'progress' (default): stdout is `-progress pipe:1`; 'capture': kept whole for the exit report. */
  stdout?: 'progress' | 'capture';
  /** Receives what ffmpeg writes to `pipe:3` (e.g. raw frames), leaving stdout to `-progress`. */
  onPipe3?: (chunk: Buffer) => void;
}

type Events = {
  [event: string]: unknown[];
  progress: [ProgressSample];
  stderr: [string];
  exit: [FfmpegExit];
};

/** setpriv's --pdeathsig makes the kernel kill the child if the gateway dies without cleaning up. */
const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = existsSync(SETPRIV);

export class FfmpegProcess {
  private child: ChildProcess | null = null;
  private readonly tail: string[] = [];
  private readonly progress = new ProgressParser();
  private stopRequested = false;
  private startedAt = 0;
  private exited: Promise<FfmpegExit> | null = null;
  private stderrPartial = '';
  /** A listener's exception is logged, never allowed to break the process bookkeeping. */
  readonly #events: SafeEmitter<Events>;

  constructor(private readonly opts: FfmpegProcessOptions) {
    this.#events = new SafeEmitter<Events>(opts.logger);
  }

  /** Adds a listener; the returned function removes it. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => unknown): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => unknown): void {
    this.#events.off(event, listener);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the process; the returned promise settles when it exits (never rejects). */
  start(): Promise<FfmpegExit> {
    if (this.exited) return this.exited;
    const [command, argv] = hasSetpriv
      ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', this.opts.binary, ...this.opts.args]]
      : [this.opts.binary, this.opts.args];
    this.startedAt = Date.now();
    this.exited = new Promise<FfmpegExit>((resolve) => {
      const pipe3 = this.opts.onPipe3;
      const stdio: Array<'ignore' | 'pipe'> = pipe3 ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'];
      const child = spawn(command, argv, { stdio, detached: true, env: childEnv() });
      this.child = child;
      if (pipe3) (child.stdio[3] as NodeJS.ReadableStream | null)?.on('data', (chunk: Buffer) => pipe3(chunk));
      const captured: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => {
        if (this.opts.stdout === 'capture') captured.push(chunk);
        else for (const sample of this.progress.push(chunk)) this.#events.emit('progress', sample);
      });
      child.stderr?.on('data', (chunk: Buffer) => this.onStderr(chunk));
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (settled) return;
        settled = true;
        if (this.stderrPartial) this.pushTail(this.stderrPartial);
        if (spawnError) this.pushTail(`spawn failed: ${spawnError.message}`);
        const exit: FfmpegExit = {
          code,
          signal,
          requested: this.stopRequested,
          stderrTail: [...this.tail],
          ranMs: Date.now() - this.startedAt,
          stdout: '',
          stdoutBytes: Buffer.concat(captured),
        };
        exit.stdout = exit.stdoutBytes.toString();
        this.#events.emit('exit', exit);
        resolve(exit);
      };
      child.on('error', (err) => finish(null, null, err));
      child.on('close', (code, signal) => finish(code, signal));
    });
    return this.exited;
  }

  /**
   * SIGTERM the process group, SIGKILL after the grace period (default `killGraceMs`).
   * A stalled ffmpeg sits in a blocking read and ignores SIGTERM, so callers that know
   * it is stuck pass a short grace. Idempotent.
   */
  async stop(graceMs?: number): Promise<FfmpegExit | undefined> {
    if (!this.exited || !this.child) return undefined;
    if (!this.stopRequested) {
      this.stopRequested = true;
      this.signalGroup('SIGTERM');
      const grace = graceMs ?? this.opts.killGraceMs ?? 3000;
      const timer = setTimeout(() => this.signalGroup('SIGKILL'), grace);
      timer.unref();
      void this.exited.then(() => clearTimeout(timer));
    }
    return this.exited;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  }

  private onStderr(chunk: Buffer): void {
    const text = this.stderrPartial + chunk.toString();
    const lines = text.split(/\r?\n|\r/);
    this.stderrPartial = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.trim();
      if (!line) continue;
      this.pushTail(line);
      this.#events.emit('stderr', redactSecretsInText(line));
    }
  }

  private pushTail(line: string): void {
    this.tail.push(redactSecretsInText(line));
    const max = this.opts.tailLines ?? 30;
    while (this.tail.length > max) this.tail.shift();
  }
}
