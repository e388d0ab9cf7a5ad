import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { isGatewayError } from '../errors.js';
import { SafeEmitter } from '../events.js';
import type { Logger } from '../log.js';
import { backoffDelay, RestartRateLimiter, type BackoffPolicy } from '../backoff.js';
import { classifyFfmpegOutput, isReachabilityFailure, type FailureCause } from './failure.js';
import { FfmpegProcess, type FfmpegExit } from './ffmpegProcess.js';
import type { ProgressSample } from './progress.js';
import { StallJudge } from './stallJudge.js';
import { Ticker } from './ticker.js';
import { waitUntilAnswersAgain, waitUntilReachable, type HostPort } from './reachability.js';

export type StreamState = 'starting' | 'live' | 'stalled' | 'backoff' | 'stopped' | 'refused';
export const STREAM_STATES: readonly StreamState[] = ['starting', 'live', 'stalled', 'backoff', 'stopped', 'refused'];

export interface PreparedRun {
  args: string[];
  /**
   * Takes the run's `pipe:3` output (a live feed's FLV) and is ended once the run has exited.
   * Each chunk is a view of the run's one read buffer, valid only during `write`.
   */
  output?: { write(chunk: Buffer): void; end(): void; watched?(): boolean };
  /** Host to poll while backing off (see `pause`); defaults to the supervisor's `reachability`. */
  reachability?: HostPort;
  /** Fed to the run's `pipe:3` (a live mask stream): attached once spawned, detached when it exits. */
  pipe3Input?: { attach(stream: Writable): void; detach(): void };
}

export interface SupervisorOptions {
  /** For logs: e.g. 'ingest' or 'push'. */
  role: string;
  ffmpegPath: string;
  logger: Logger;
  /** Builds the argv of the next run; may probe the source. A GatewayError it throws is a start failure. */
  prepare: (signal: AbortSignal) => Promise<PreparedRun>;
  /**
   * The longest wait for a new frame while live before the stream counts as stalled (killed,
   * restarted); a stream whose frames come often is judged sooner (see StallJudge).
   */
  stallMs: number;
  /** No first frame for this long after spawning → start failure. */
  startTimeoutMs: number;
  backoff: BackoffPolicy;
  maxRestartsPerMinute: number;
  /** The source's host, polled while backing off, also when `prepare` failed before naming it. */
  reachability?: HostPort;
  /** Receives each run's `pipe:3` output (a frame sampler's raw frames). */
  onPipe3?: (chunk: Buffer) => void;
}

export interface StateChange {
  from: StreamState;
  to: StreamState;
  cause: FailureCause | null;
  at: number;
}

export interface StreamSnapshot {
  state: StreamState;
  since: number;
  lastCause: FailureCause | null;
  lastError: string | null;
  /** Wall-clock ms of the last frame counter advance, or null if none yet. */
  lastFrameAt: number | null;
  fps: number;
  bitrateBps: number;
  restarts: number;
  stalls: number;
  pid: number | null;
}

type Events = { [event: string]: unknown[]; state: [StateChange]; progress: [ProgressSample] };

const WATCHDOG_MS = 100;
/** Every supervisor's watchdog runs on this one timer. */
const watchdogs = new Ticker(WATCHDOG_MS);
/** A stalled or never-started ffmpeg is stuck in a read: no point waiting long for it to exit. */
const STUCK_KILL_GRACE_MS = 500;
/** Cameras' GatewayError codes mapped onto causes, for the failures the probe reports. */
const CODE_TO_CAUSE: Record<string, FailureCause> = {
  CAMERA_AUTH_FAILED: 'auth_failed',
  CAMERA_UNREACHABLE: 'unreachable',
  CAMERA_STREAM_UNPLAYABLE: 'stream_unplayable',
};

/**
 * Keeps one ffmpeg process alive and honest. Liveness is judged by the frame counter
 * of `-progress`, never by exit codes (ffmpeg exits 0 when an RTSP camera dies) nor by
 * ffmpeg's own socket timeouts (which fire late). Restarts back off exponentially with
 * jitter, capped, and are rate-limited.
 */
export class StreamSupervisor {
  private state: StreamState = 'stopped';
  private since = Date.now();
  private lastCause: FailureCause | null = null;
  private lastError: string | null = null;
  private lastFrame = 0;
  private lastFrameAt: number | null = null;
  /** Frame counter advances on the monotonic clock (performance.now): durations never follow the wall clock. */
  private readonly stallJudge: StallJudge;
  private fps = 0;
  private bitrateBps = 0;
  private restarts = 0;
  private stalls = 0;
  private attempt = 0;
  private proc: FfmpegProcess | null = null;
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private readonly limiter: RestartRateLimiter;
  private pausing: AbortController | null = null;
  private readonly frameRate = new FrameRateWindow(2000);

  /** A listener that throws is logged; the others and the supervision go on. */
  readonly #events: SafeEmitter<Events>;

  constructor(private readonly opts: SupervisorOptions) {
    this.#events = new SafeEmitter<Events>(opts.logger);
    this.limiter = new RestartRateLimiter(opts.maxRestartsPerMinute, 60_000);
    this.stallJudge = new StallJudge({ capMs: opts.stallMs });
  }

  /** Adds a listener; the returned function removes it. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => unknown): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => unknown): void {
    this.#events.off(event, listener);
  }

  start(): void {
    if (this.loop || this.abort.signal.aborted) return;
    this.loop = this.run().catch((err: unknown) => {
      this.opts.logger.error({ err, role: this.opts.role }, 'supervisor loop failed');
    });
  }

  /** Ends a backoff pause now (its source is known to be back, e.g. the ingest went live again). */
  retryNow(): void {
    this.pausing?.abort();
  }

  /** Ends the running process so that the next run starts with freshly prepared arguments. */
  restartNow(): void {
    void this.proc?.stop(STUCK_KILL_GRACE_MS);
  }

  /** Stops the process (SIGTERM → SIGKILL) and the restart loop. Idempotent. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.proc?.stop();
    await this.loop;
    this.setState('stopped', null);
  }

  snapshot(): StreamSnapshot {
    return {
      state: this.state,
      since: this.since,
      lastCause: this.lastCause,
      lastError: this.lastError,
      lastFrameAt: this.lastFrameAt,
      fps: this.state === 'live' ? this.fps : 0,
      bitrateBps: this.state === 'live' ? this.bitrateBps : 0,
      restarts: this.restarts,
      stalls: this.stalls,
      pid: this.proc?.pid ?? null,
    };
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    while (!signal.aborted) {
      this.setState('starting', null);
      const outcome = await this.runOnce();
      if (signal.aborted) return;
      this.lastCause = outcome.cause;
      this.lastError = outcome.message;
      this.opts.logger.warn({ role: this.opts.role, cause: outcome.cause, detail: outcome.message }, 'stream down');
      this.setState('backoff', outcome.cause);
      this.attempt += 1;
      const delay = Math.max(backoffDelay(this.attempt, this.opts.backoff), this.limiter.admit(performance.now()));
      await this.pause(delay, outcome.reachability ?? this.opts.reachability, outcome.cause);
      if (!signal.aborted) this.restarts += 1;
    }
  }

  private async runOnce(): Promise<{ cause: FailureCause; message: string; reachability?: HostPort }> {
    let prepared: PreparedRun;
    try {
      prepared = await this.opts.prepare(this.abort.signal);
    } catch (err) {
      const cause = isGatewayError(err) ? (CODE_TO_CAUSE[err.code] ?? 'stream_unplayable') : 'spawn_failed';
      return { cause, message: err instanceof Error ? err.message : String(err), reachability: undefined };
    }
    if (this.abort.signal.aborted) {
      prepared.output?.end();
      prepared.pipe3Input?.detach();
      return { cause: 'exited', message: 'stopping' };
    }
    const output = prepared.output;
    const onPipe3 = output ? undefined : this.opts.onPipe3;
    const proc = new FfmpegProcess({
      binary: this.opts.ffmpegPath,
      args: prepared.args,
      logger: this.opts.logger,
      ...(output ? { onPipe3View: (view: Buffer) => output.write(view) } : {}),
      ...(output?.watched ? { pipe3Prompt: () => output.watched?.() ?? true } : {}),
      ...(onPipe3 ? { onPipe3 } : {}),
      ...(prepared.pipe3Input ? { pipe3Input: (stream: Writable) => prepared.pipe3Input?.attach(stream) } : {}),
    });
    this.proc = proc;
    this.lastFrame = 0;
    this.frameRate.reset();
    // Start timeout and stall are durations: measured on the monotonic clock, so a wall
    // clock set forward (NTP step, operator) neither stalls a live stream nor fails a start.
    const startedAt = performance.now();
    this.stallJudge.reset();
    let verdict: FailureCause | null = null;
    // A stall must be seen on two ticks in a row: after the event loop was blocked, timers run
    // before the pipes are read, and the progress waiting there would prove the stream alive.
    let stallSeen = false;
    proc.on('progress', (sample) => this.onProgress(sample));
    proc.on('stderr', (line) => this.opts.logger.debug({ role: this.opts.role, ffmpeg: line }));
    const stopWatching = watchdogs.add(() => {
      const now = performance.now();
      if (this.state === 'starting' && now - startedAt > this.opts.startTimeoutMs) verdict = 'start_timeout';
      else if (this.state === 'live' && this.stallJudge.stalled(now)) {
        if (!stallSeen) {
          stallSeen = true;
          return;
        }
        verdict = 'stalled';
        this.stalls += 1;
        this.setState('stalled', 'stalled');
      } else {
        stallSeen = false;
        return;
      }
      stopWatching();
      void proc.stop(STUCK_KILL_GRACE_MS);
    });
    const exit = await proc.start();
    prepared.pipe3Input?.detach();
    stopWatching();
    this.proc = null;
    output?.end();
    const cause = verdict ?? classifyFfmpegOutput(exit.stderrTail) ?? 'exited';
    return { cause, message: describeExit(exit, cause), reachability: prepared.reachability };
  }

  private onProgress(sample: ProgressSample): void {
    this.fps = this.frameRate.add(performance.now(), sample.frame);
    if (sample.bitrateBps !== null) this.bitrateBps = sample.bitrateBps;
    this.#events.emit('progress', sample);
    if (sample.frame <= this.lastFrame) return;
    this.lastFrame = sample.frame;
    this.lastFrameAt = Date.now();
    this.stallJudge.advance(performance.now());
    if (this.state === 'starting') {
      this.attempt = 0;
      this.setState('live', null);
    }
  }

  private async pause(ms: number, source: HostPort | undefined, cause: FailureCause): Promise<void> {
    const done = new AbortController();
    this.pausing = done;
    const onAbort = () => done.abort();
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    const sleep = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      done.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // A camera that refused connections comes back the moment its port accepts again:
    // a plain TCP connect costs the camera no RTSP session, so poll that and retry early.
    // After any other failure, a camera seen not answering RTSP (frozen, rebooting) is
    // retried as soon as it answers an OPTIONS request again, however long the backoff.
    // A stall already says the camera went silent: one thawed before the first poll is
    // retried at its first answer, not held by the backoff or the restart rate cap.
    // Refused credentials are not worth watching: only a change of them helps.
    const seenSilent = cause === 'stalled';
    const watch =
      source === undefined || cause === 'auth_failed'
        ? []
        : [
            isReachabilityFailure(cause)
              ? waitUntilReachable(source, done.signal)
              : waitUntilAnswersAgain(source, done.signal, { seenSilent }),
          ];
    await Promise.race([sleep, ...watch]);
    done.abort();
    this.pausing = null;
    this.abort.signal.removeEventListener('abort', onAbort);
  }

  private setState(to: StreamState, cause: FailureCause | null): void {
    if (to === this.state) return;
    const change: StateChange = { from: this.state, to, cause, at: Date.now() };
    this.state = to;
    this.since = change.at;
    this.#events.emit('state', change);
  }
}

/**
 * Current frame rate over a sliding window. ffmpeg's own `fps` is the average since the
 * process started, which hides a camera that has slowed down.
 */
export class FrameRateWindow {
  private samples: Array<[number, number]> = [];

  constructor(private readonly windowMs: number) {}

  reset(): void {
    this.samples = [];
  }

  /** Records the frame counter at time `now` (ms) and returns frames per second. */
  add(now: number, frame: number): number {
    this.samples.push([now, frame]);
    while (this.samples.length > 2 && now - (this.samples[1]?.[0] ?? now) >= this.windowMs) this.samples.shift();
    const [t0, f0] = this.samples[0] ?? [now, frame];
    return now > t0 ? Math.round(((frame - f0) * 1000 * 100) / (now - t0)) / 100 : 0;
  }
}

function describeExit(exit: FfmpegExit, cause: FailureCause): string {
  const how = exit.signal ? `signal ${exit.signal}` : `status ${String(exit.code)}`;
  const last = exit.stderrTail.slice(-2).join(' | ');
  return `${cause}: ffmpeg ended with ${how} after ${exit.ranMs} ms${last ? ` (${last})` : ''}`;
}
