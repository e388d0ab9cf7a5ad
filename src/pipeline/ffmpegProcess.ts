import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { close, constants as fsConstants, existsSync, open, readSync, rm } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
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
  /**
   * Like `onPipe3`, but each chunk is a view of one read buffer that the next read reuses: valid
   * only during the call (a live feed's FLV, whose fan-out copies what it keeps). `pipe:3` is then
   * a FIFO read into that buffer, so a read allocates no memory of its own; not with `onPipe3`.
   */
  onPipe3View?: (view: Buffer) => void;
  /**
   * With `onPipe3View`: whether its reader needs each write as it comes (someone watches the live
   * feed). While false, the FIFO is read every LAZY_READ_MS, several packets a read, instead of
   * on each write: no wakeup of the gateway (nor of ffmpeg's write) per packet. Asked on each
   * such tick; absent: always prompt.
   */
  pipe3Prompt?: () => boolean;
  /** Handed the writable end of ffmpeg's `pipe:3` once spawned (a live mask stream); not with `onPipe3`. */
  pipe3Input?: (stream: Writable) => void;
}

type Events = {
  [event: string]: unknown[];
  progress: [ProgressSample];
  stderr: [string];
  exit: [FfmpegExit];
};

/** Bytes of one `onPipe3View` read: more than ffmpeg writes at once (its FLV comes a packet at a time). */
const VIEW_READ_BYTES = 64 << 10;
/** Bytes of one `-progress` read: a report is a few hundred bytes. */
const PROGRESS_READ_BYTES = 4 << 10;

const openFd = promisify(open);
const closeFd = (fd: number) => close(fd, () => undefined);

interface FifoEnds {
  read: number;
  write: number;
}

/**
 * `count` FIFOs' two ends, made by one `mkfifo`, opened and unlinked (Node has no pipe(2) or
 * socketpair(2) whose read end a `net.Socket` with `onread` could take): the read ends
 * non-blocking, so that opening them does not wait for a writer. Null where `mkfifo` cannot
 * make them.
 */
async function fifoEnds(count: number): Promise<FifoEnds[] | null> {
  const base = join(tmpdir(), `psvgw-fifo-${process.pid}-${randomBytes(8).toString('hex')}`);
  const paths = Array.from({ length: count }, (_, i) => `${base}-${i}`);
  try {
    await promisify(execFile)('mkfifo', ['-m', '600', '--', ...paths]);
  } catch {
    for (const path of paths) rm(path, { force: true }, () => undefined);
    return null;
  }
  const opened: number[] = [];
  try {
    const ends: FifoEnds[] = [];
    for (const path of paths) {
      const read = await openFd(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      opened.push(read);
      const write = await openFd(path, fsConstants.O_WRONLY);
      opened.push(write);
      ends.push({ read, write });
    }
    return ends;
  } catch {
    for (const fd of opened) closeFd(fd);
    return null;
  } finally {
    for (const path of paths) rm(path, { force: true }, () => undefined);
  }
}

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

  /**
   * Spawns the process; the returned promise settles when it exits (never rejects). Its `-progress`
   * (stdout) is a FIFO read with `onread` into a small reused buffer, as a live feed's `pipe:3`:
   * a report costs one read and the parse, not a stream chunk's allocation and events.
   */
  start(): Promise<FfmpegExit> {
    if (this.exited) return this.exited;
    this.startedAt = Date.now();
    const view = this.opts.onPipe3View;
    const progress = this.opts.stdout !== 'capture';
    const count = (progress ? 1 : 0) + (view ? 1 : 0);
    this.exited =
      count === 0
        ? this.spawnChild(null, null, undefined)
        : fifoEnds(count).then((ends) =>
            this.spawnChild(ends && progress ? (ends[0] as FifoEnds) : null, ends && view ? (ends.at(-1) as FifoEnds) : null, view),
          );
    return this.exited;
  }

  private spawnChild(out: FifoEnds | null, fifo: FifoEnds | null, view: ((view: Buffer) => void) | undefined): Promise<FfmpegExit> {
    const fifos = [out, fifo].filter((f): f is FifoEnds => f !== null);
    const [command, argv] = hasSetpriv
      ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', this.opts.binary, ...this.opts.args]]
      : [this.opts.binary, this.opts.args];
    return new Promise<FfmpegExit>((resolve) => {
      if (this.stopRequested) {
        // Stopped while its FIFOs were being made: never spawned.
        for (const f of fifos) for (const fd of [f.read, f.write]) closeFd(fd);
        const exit: FfmpegExit = {
          code: null,
          signal: null,
          requested: true,
          stderrTail: [],
          ranMs: 0,
          stdout: '',
          stdoutBytes: Buffer.alloc(0),
        };
        this.#events.emit('exit', exit);
        resolve(exit);
        return;
      }
      // Without a FIFO (no mkfifo), a view reader gets the pipe's chunks: each is its own anyway.
      const pipe3 = this.opts.onPipe3 ?? (fifo ? undefined : view);
      const input3 = this.opts.pipe3Input;
      const stdio: Array<'ignore' | 'pipe' | number> = [
        'ignore',
        out ? out.write : 'pipe',
        'pipe',
        ...(fifo ? [fifo.write] : pipe3 || input3 ? ['pipe' as const] : []),
      ];
      let child: ChildProcess;
      try {
        child = spawn(command, argv, { stdio, detached: true, env: childEnv() });
      } catch (err) {
        for (const f of fifos) closeFd(f.read);
        throw err;
      } finally {
        for (const f of fifos) closeFd(f.write);
      }
      this.child = child;
      if (pipe3) (child.stdio[3] as NodeJS.ReadableStream | null)?.on('data', (chunk: Buffer) => pipe3(chunk));
      const drained = [
        ...(out ? [readFifo(out.read, PROGRESS_READ_BYTES, (chunk) => this.onProgressBytes(chunk), this.opts.logger)] : []),
        ...(fifo && view ? [readFifo(fifo.read, VIEW_READ_BYTES, view, this.opts.logger, this.opts.pipe3Prompt)] : []),
      ];
      const fd3 = child.stdio[3] as Writable | null | undefined;
      if (input3 && fd3) input3(fd3);
      const captured: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => {
        if (this.opts.stdout === 'capture') captured.push(chunk);
        else this.onProgressBytes(chunk);
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
      child.on('error', (err) => {
        for (const d of drained) d.closeSoon();
        finish(null, null, err);
      });
      // The FIFOs are not the child's stdio: their last bytes are read before the exit is reported.
      child.on('close', (code, signal) => {
        if (drained.length === 0) return finish(code, signal);
        for (const d of drained) d.closeSoon();
        void Promise.all(drained.map((d) => d.done)).then(() => finish(code, signal));
      });
    });
  }

  /**
   * SIGTERM the process group, SIGKILL after the grace period (default `killGraceMs`).
   * A stalled ffmpeg sits in a blocking read and ignores SIGTERM, so callers that know
   * it is stuck pass a short grace. Idempotent.
   */
  async stop(graceMs?: number): Promise<FfmpegExit | undefined> {
    if (!this.exited) return undefined;
    if (!this.child) {
      this.stopRequested = true;
      return this.exited;
    }
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

  /** `-progress` bytes (possibly a view of a reused read buffer: the parser copies them into a string). */
  private onProgressBytes(chunk: Buffer): void {
    for (const sample of this.progress.push(chunk)) this.#events.emit('progress', sample);
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

/** Once the child has gone, how long its FIFO may take to give its last bytes before it is closed anyway. */
const FIFO_DRAIN_MS = 2000;

/**
 * How often an unwatched live feed's FIFO is read: within the pipe's 64 KiB at camera bitrates
 * (an 8 Mbit/s stream writes 50 KiB in that time). A large keyframe, or a burst after the camera
 * or the network hiccuped, fills the pipe for a read or a few: ffmpeg then waits on it for up to
 * LAZY_READ_MS each time, its input held in the socket's buffer, and catches up. A run that
 * nearly fills the pipe on LAZY_FULL_TICKS of the last LAZY_WINDOW_TICKS reads is faster than
 * the reads can carry: it is read on each write from then on, so that ffmpeg does not fall behind.
 */
export const LAZY_READ_MS = 50;
const LAZY_FULL_BYTES = 56 << 10;
const LAZY_WINDOW_TICKS = 20;
const LAZY_FULL_TICKS = 10;
/** A run's first seconds of output (the packets buffered while ffmpeg probed its input) come at once: not counted. */
const LAZY_SETTLE_MS = 5000;

/** The FIFOs read every LAZY_READ_MS now or that may become so: one timer for all of them. */
const lazyReaders = new Set<() => void>();
let lazyTimer: NodeJS.Timeout | null = null;

function addLazy(tick: () => void): void {
  lazyReaders.add(tick);
  lazyTimer ??= setInterval(() => {
    for (const t of lazyReaders) t();
  }, LAZY_READ_MS).unref();
}

function removeLazy(tick: () => void): void {
  lazyReaders.delete(tick);
  if (lazyReaders.size === 0 && lazyTimer !== null) {
    clearInterval(lazyTimer);
    lazyTimer = null;
  }
}

/**
 * Reads the FIFO's read end into one buffer of `size` bytes, handing `view` each read's bytes. `done` settles
 * at its end (every writer gone) or, once `closeSoon` was called, after FIFO_DRAIN_MS at most.
 *
 * With `prompt`, the socket is read on each write only while `prompt()` says so; otherwise it is
 * paused (no longer polled, so a write wakes nobody) and the FIFO is read to its end every
 * LAZY_READ_MS, into the same buffer. A FIFO that yields LAZY_FULL_BYTES on LAZY_FULL_TICKS of the
 * last LAZY_WINDOW_TICKS ticks once its run has settled, or whose process is ending, is read on each
 * write again for good.
 */
function readFifo(
  fd: number,
  size: number,
  view: (view: Buffer) => void,
  logger: Logger,
  prompt?: () => boolean,
): { done: Promise<void>; closeSoon(): void } {
  const buffer = Buffer.allocUnsafeSlow(size);
  let socket: Socket;
  let lazy = false;
  // Which of the last LAZY_WINDOW_TICKS ticks found the FIFO nearly full (a ring), and how many.
  const fullAt = new Uint8Array(LAZY_WINDOW_TICKS);
  let ticks = 0;
  let full = 0;
  const settled = performance.now() + LAZY_SETTLE_MS;
  const done = new Promise<void>((resolve) => {
    // Node takes `onread` here too, though its type lists it only for connect().
    const options: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer,
        callback: (bytes: number, buf: Uint8Array) => {
          view(Buffer.from(buf.buffer, buf.byteOffset, bytes));
          // false: stop reading (a lazy FIFO is read by `tick`).
          return !lazy;
        },
      },
    };
    socket = new Socket(options);
    socket.on('error', (err) => {
      logger.warn({ err }, "a FIFO of ffmpeg's could not be read");
      socket.destroy();
    });
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      if (prompt) removeLazy(tick);
      resolve();
    });
  });
  /** Back to a read per write, for good. */
  const promptForGood = () => {
    if (!prompt) return;
    removeLazy(tick);
    if (lazy) {
      lazy = false;
      if (!socket.destroyed) socket.resume();
    }
  };
  /** Reads what the FIFO holds; false at its end (every writer gone) or on an error. */
  const drain = (): boolean => {
    let total = 0;
    for (;;) {
      let bytes: number;
      try {
        bytes = readSync(fd, buffer, 0, size, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break;
        return false;
      }
      if (bytes === 0) return false;
      view(buffer.subarray(0, bytes));
      total += bytes;
      if (bytes < size) break;
    }
    const slot = ticks++ % LAZY_WINDOW_TICKS;
    const nearlyFull = total >= LAZY_FULL_BYTES && performance.now() > settled ? 1 : 0;
    full += nearlyFull - (fullAt[slot] as number);
    fullAt[slot] = nearlyFull;
    if (full >= LAZY_FULL_TICKS) promptForGood();
    return true;
  };
  function tick(): void {
    if (socket.destroyed) return;
    const wanted = (prompt as () => boolean)();
    if (!lazy) {
      if (wanted) return;
      lazy = true;
      socket.pause();
      return;
    }
    if (!drain()) return promptForGood();
    if (wanted) {
      lazy = false;
      socket.resume();
    }
  }
  if (prompt) addLazy(tick);
  return {
    done,
    closeSoon: () => {
      // Its last bytes and its end come through the socket.
      promptForGood();
      setTimeout(() => socket.destroy(), FIFO_DRAIN_MS).unref();
    },
  };
}
