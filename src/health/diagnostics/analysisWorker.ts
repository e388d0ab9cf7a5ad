import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.js';
import type { AnalyzerSettings, SampleResult } from './analyzer.js';
import type { Baseline } from './checks.js';
import type { FromWorker, ToWorker } from './protocol.js';

/** Frames a camera may have waiting in the worker; more are dropped, never queued without bound. */
const MAX_IN_FLIGHT = 4;
/** A worker that keeps dying is respawned after 1 s, 2 s, 4 s … at most 30 s; a result resets it. */
const RESPAWN_MIN_MS = 1000;
const RESPAWN_MAX_MS = 30_000;

/**
 * The main thread's side of the analysis worker thread: posts frames (transferred, not
 * copied) and hands results back. A worker that dies is respawned and told every camera
 * again, with the baselines learned so far.
 */
export class AnalysisWorker {
  #worker: Worker | null = null;
  readonly #cameras = new Map<string, { settings: AnalyzerSettings; baseline: Baseline | null; inFlight: number }>();
  #closed = false;
  #respawn: NodeJS.Timeout | null = null;
  #respawnDelayMs = RESPAWN_MIN_MS;

  constructor(
    private readonly onResult: (cameraId: string, result: SampleResult) => void,
    private readonly logger: Logger,
    private readonly script: URL = new URL('./worker.js', import.meta.url),
  ) {}

  start(): void {
    if (this.#worker || this.#closed) return;
    const worker = new Worker(this.script);
    this.#worker = worker;
    worker.on('message', (msg: FromWorker) => this.#onMessage(msg));
    worker.on('error', (err) => this.logger.error({ err }, 'diagnostics analysis worker failed'));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = null;
      if (this.#closed) return;
      const delayMs = this.#respawnDelayMs;
      this.#respawnDelayMs = Math.min(RESPAWN_MAX_MS, delayMs * 2);
      this.logger.error({ code, restartInMs: delayMs }, 'diagnostics analysis worker exited; restarting it');
      this.#respawn = setTimeout(() => {
        this.start();
        for (const [cameraId, c] of this.#cameras) {
          c.inFlight = 0;
          this.#post({ type: 'configure', cameraId, settings: c.settings, baseline: c.baseline });
        }
      }, delayMs);
    });
  }

  configure(cameraId: string, settings: AnalyzerSettings, baseline: Baseline | null): void {
    const known = this.#cameras.get(cameraId);
    this.#cameras.set(cameraId, { settings, baseline: known?.baseline ?? baseline, inFlight: known?.inFlight ?? 0 });
    this.#post({ type: 'configure', cameraId, settings, baseline: known?.baseline ?? baseline });
  }

  /** Posts one frame; false when it was dropped because the worker is behind. */
  frame(cameraId: string, width: number, height: number, pixels: Uint8Array): boolean {
    const c = this.#cameras.get(cameraId);
    if (!c || !this.#worker || c.inFlight >= MAX_IN_FLIGHT) return false;
    c.inFlight += 1;
    // A frame that owns its whole ArrayBuffer is moved to the worker; anything else is copied first.
    const own = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength && pixels.buffer instanceof ArrayBuffer;
    const buffer = own ? (pixels.buffer as ArrayBuffer) : pixels.slice().buffer;
    this.#worker.postMessage({ type: 'frame', cameraId, width, height, pixels: buffer } satisfies ToWorker, [buffer]);
    return true;
  }

  gap(cameraId: string): void {
    this.#post({ type: 'gap', cameraId });
  }

  relearn(cameraId: string): void {
    const c = this.#cameras.get(cameraId);
    if (c) c.baseline = null;
    this.#post({ type: 'relearn', cameraId });
  }

  remove(cameraId: string): void {
    this.#cameras.delete(cameraId);
    this.#post({ type: 'remove', cameraId });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#respawn) clearTimeout(this.#respawn);
    const worker = this.#worker;
    this.#worker = null;
    await worker?.terminate();
  }

  #post(msg: ToWorker): void {
    this.#worker?.postMessage(msg);
  }

  #onMessage(msg: FromWorker): void {
    this.#respawnDelayMs = RESPAWN_MIN_MS;
    const c = this.#cameras.get(msg.cameraId);
    if (c) c.inFlight = Math.max(0, c.inFlight - 1);
    if (msg.type === 'failed') {
      this.logger.warn({ cameraId: msg.cameraId, detail: msg.message }, 'diagnostics sample could not be analysed');
      return;
    }
    if (c && msg.result.learned) c.baseline = msg.result.learned;
    this.onResult(msg.cameraId, msg.result);
  }
}
