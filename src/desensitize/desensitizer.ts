import { EventEmitter } from 'node:events';
import { backoffDelay, type BackoffPolicy } from '../backoff.js';
import { childEnv } from '../childEnv.js';
import { DetectorProcess, type DetectorProcessOptions } from './detectorProcess.js';
import { detectionSize, FrameGrabber } from './grabber.js';
import { Tracker, type TrackerSettings } from './tracker.js';
import type { Desensitizer, DesensitizerHealth, DesensitizerOptions, RegionSnapshot } from './types.js';

/** Tuning beyond the seam's options; every field has a default. */
export interface DesensitizerTuning {
  /** Widest detection frame (px); the camera's frames are downscaled to it. Default 480. */
  detectWidth: number;
  ffmpegPath: string;
  /** How late a detection may be, beyond two detection intervals, before health turns 'lagging'. Default 500 ms. */
  lagBudgetMs: number;
  /** A frame the worker has not answered in this long: the worker is killed and restarted. Default 5 s. */
  hungMs: number;
  /** Restart pacing of the detector worker (the grabber's ffmpeg uses it too). */
  backoff: BackoffPolicy;
  tracker: Partial<Omit<TrackerSettings, 'frameWidth' | 'frameHeight'>>;
  detector: DetectorProcessOptions;
}

export const DEFAULT_TUNING: Omit<DesensitizerTuning, 'ffmpegPath' | 'tracker' | 'detector'> = {
  detectWidth: 480,
  lagBudgetMs: 500,
  hungMs: 5000,
  backoff: { initialMs: 500, factor: 2, maxMs: 10_000, jitter: 0.2 },
};

/** Counters for metrics and the benchmark. */
export interface DesensitizerStats {
  framesIn: number;
  framesDropped: number;
  detections: number;
  workerRestarts: number;
  /** Recent per-frame figures (newest last, at most 256). */
  latencyMs: number[];
  cpuMs: number[];
}

const HEALTH_TICK_MS = 100;
const RECENT = 256;

class CameraDesensitizer implements Desensitizer {
  readonly #opts: DesensitizerOptions;
  readonly #tuning: DesensitizerTuning;
  readonly #events = new EventEmitter<{ health: [DesensitizerHealth] }>();
  readonly #tracker: Tracker;
  readonly #grabber: FrameGrabber;
  readonly #detectSize: { width: number; height: number };
  readonly #intervalMs: number;
  #detector: DetectorProcess | null = null;
  #health: DesensitizerHealth = 'lagging';
  #lastResultAt = -Infinity;
  #freshAt = -Infinity;
  #latencyMs = 0;
  #restartAttempt = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #tick: NodeJS.Timeout;
  #busySince = 0;
  #closing = false;
  readonly stats: DesensitizerStats = { framesIn: 0, framesDropped: 0, detections: 0, workerRestarts: 0, latencyMs: [], cpuMs: [] };

  constructor(opts: DesensitizerOptions, tuning: DesensitizerTuning) {
    this.#opts = opts;
    this.#tuning = tuning;
    this.#intervalMs = 1000 / opts.detectFps;
    this.#detectSize = detectionSize(opts.width, opts.height, tuning.detectWidth);
    this.#tracker = new Tracker({ frameWidth: opts.width, frameHeight: opts.height, ...tuning.tracker });
    this.#grabber = new FrameGrabber({
      sourceUrl: opts.sourceUrl,
      size: { fps: opts.detectFps, ...this.#detectSize },
      ffmpegPath: tuning.ffmpegPath,
      backoff: tuning.backoff,
      logger: opts.log,
      onFrame: (pixels, at) => this.#onFrame(pixels, at),
      onRestart: () => this.#tracker.reset(),
    });
    this.#spawnDetector();
    this.#grabber.start();
    this.#tick = setInterval(() => this.#evaluate(), HEALTH_TICK_MS);
    this.#tick.unref();
  }

  regionsAt(at: number): RegionSnapshot {
    return {
      regions: this.#tracker.regionsAt(at),
      freshAt: this.#freshAt,
      detectorLatencyMs: this.#latencyMs,
      detectionGapMs: this.#tracker.detectionGapAt(at),
    };
  }

  health(): DesensitizerHealth {
    return this.#health;
  }

  on(event: 'health', listener: (h: DesensitizerHealth) => void): void {
    this.#events.on(event, listener);
  }

  /** The detector worker's process id (tests stop or kill it). */
  detectorPid(): number | undefined {
    return this.#detector?.exited ? undefined : this.#detector?.pid;
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#tick);
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    await Promise.all([this.#grabber.close(), this.#detector?.close() ?? Promise.resolve()]);
    this.#setHealth('dead');
  }

  #spawnDetector(): void {
    const detector = new DetectorProcess({ ...this.#tuning.detector, env: { ...childEnv(), ...this.#tuning.detector.env } });
    this.#detector = detector;
    detector.once('exit', (reason) => {
      if (this.#closing) return;
      this.#opts.log.warn({ cameraId: this.#opts.cameraId, reason }, 'desensitize detector ended; restarting it');
      this.#setHealth('dead');
      const delay = backoffDelay(++this.#restartAttempt, this.#tuning.backoff);
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = null;
        this.stats.workerRestarts++;
        this.#spawnDetector();
      }, delay);
    });
  }

  #onFrame(pixels: Uint8Array, at: number): void {
    this.stats.framesIn++;
    const detector = this.#detector;
    if (!detector || !detector.ready || detector.busy || detector.exited) {
      this.stats.framesDropped++;
      return;
    }
    this.#busySince = performance.now();
    const scale = this.#opts.width / this.#detectSize.width;
    const scaleY = this.#opts.height / this.#detectSize.height;
    detector.detect({ ...this.#detectSize, pixels }, { faces: this.#opts.faces, plates: this.#opts.plates }).then(
      (result) => {
        if (this.#closing || detector !== this.#detector) return;
        const now = performance.now();
        this.#tracker.update(
          at,
          result.detections.map((d) => ({
            kind: d.kind,
            x: d.x * scale,
            y: d.y * scaleY,
            width: d.width * scale,
            height: d.height * scaleY,
          })),
        );
        this.#lastResultAt = now;
        this.#freshAt = at;
        this.#latencyMs = now - at;
        this.#restartAttempt = 0;
        this.stats.detections++;
        push(this.stats.latencyMs, now - at);
        push(this.stats.cpuMs, result.cpuMs);
        this.#evaluate();
      },
      () => {
        // The worker ended: its 'exit' handler restarts it and reports the health.
      },
    );
  }

  #evaluate(): void {
    if (this.#closing) return;
    const detector = this.#detector;
    const now = performance.now();
    if (detector?.busy && now - this.#busySince > this.#tuning.hungMs) {
      this.#opts.log.warn({ cameraId: this.#opts.cameraId }, 'desensitize detector stopped answering; killing it');
      void detector.close(0);
    }
    let next: DesensitizerHealth;
    if (!detector || detector.exited) next = 'dead';
    else if (now - this.#lastResultAt > 2 * this.#intervalMs + this.#tuning.lagBudgetMs) next = 'lagging';
    else next = 'ok';
    this.#setHealth(next);
  }

  #setHealth(next: DesensitizerHealth): void {
    if (next === this.#health) return;
    this.#health = next;
    this.#events.emit('health', next);
  }
}

function push(list: number[], value: number): void {
  list.push(value);
  if (list.length > RECENT) list.shift();
}

export type DesensitizerWithStats = Desensitizer & { readonly stats: DesensitizerStats; detectorPid(): number | undefined };

/** Starts one camera's desensitizer: frame grabber, detector worker, tracker, health. */
export function startDesensitizer(opts: DesensitizerOptions & { tuning?: Partial<DesensitizerTuning> }): DesensitizerWithStats {
  if (!(opts.detectFps > 0 && opts.detectFps <= 30)) {
    throw new Error(`desensitize detectFps must be between 0 and 30 (got ${opts.detectFps}); 4 to 8 is typical`);
  }
  if (!opts.faces && !opts.plates) throw new Error('desensitize needs faces or plates (or both) turned on');
  const tuning: DesensitizerTuning = {
    ...DEFAULT_TUNING,
    ffmpegPath: 'ffmpeg',
    tracker: {},
    detector: {},
    ...opts.tuning,
  };
  return new CameraDesensitizer(opts, tuning);
}
