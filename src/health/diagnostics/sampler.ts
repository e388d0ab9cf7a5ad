import type { Logger } from '../../log.js';
import { greyFrameArgs, StreamSupervisor, type GreyFrameSize, type StreamSnapshot, type SupervisorOptions } from '../../pipeline/index.js';

export type SampleSize = GreyFrameSize;

/** The diagnostics' frames: small grayscale at a low rate. */
export function buildSamplerArgs(sourceUrl: string, size: SampleSize): string[] {
  return greyFrameArgs(sourceUrl, size);
}

/** Cuts a byte stream into frames of a fixed size. */
export class FrameCutter {
  #frame: Uint8Array;
  #filled = 0;

  constructor(
    private readonly frameBytes: number,
    private readonly onFrame: (pixels: Uint8Array) => void,
  ) {
    this.#frame = new Uint8Array(frameBytes);
  }

  reset(): void {
    this.#filled = 0;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(this.frameBytes - this.#filled, chunk.length - offset);
      this.#frame.set(chunk.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === this.frameBytes) {
        const full = this.#frame;
        // Each frame gets its own buffer: it is transferred to the worker, not copied.
        this.#frame = new Uint8Array(this.frameBytes);
        this.#filled = 0;
        this.onFrame(full);
      }
    }
  }
}

export interface SamplerDeps {
  cameraId: string;
  /** Internal play URL of the camera's raw tier (fresh token each run). */
  sourceUrl: () => string;
  size: SampleSize;
  supervision: Pick<SupervisorOptions, 'ffmpegPath' | 'stallMs' | 'startTimeoutMs' | 'backoff' | 'maxRestartsPerMinute'>;
  onFrame: (pixels: Uint8Array) => void;
  /** A new run begins: the next frame does not follow the last one. */
  onRestart: () => void;
  logger: Logger;
}

/** One camera's frame sampler: a supervised ffmpeg, restarted with backoff like every other. */
export class FrameSampler {
  readonly #supervisor: StreamSupervisor;
  #started = false;

  constructor(deps: SamplerDeps) {
    const cutter = new FrameCutter(deps.size.width * deps.size.height, deps.onFrame);
    const sampleMs = 1000 / deps.size.fps;
    const sup = deps.supervision;
    this.#supervisor = new StreamSupervisor({
      ffmpegPath: sup.ffmpegPath,
      startTimeoutMs: sup.startTimeoutMs,
      backoff: sup.backoff,
      maxRestartsPerMinute: sup.maxRestartsPerMinute,
      // Frames come only every 1/fps seconds: a stall is judged over several of them.
      stallMs: Math.max(sup.stallMs, 3 * sampleMs),
      role: 'sampler',
      logger: deps.logger,
      prepare: () => Promise.resolve({ args: buildSamplerArgs(deps.sourceUrl(), deps.size) }),
      onPipe3: (chunk) => cutter.push(chunk),
    });
    this.#supervisor.on('state', (change) => {
      if (change.to !== 'starting') return;
      cutter.reset();
      deps.onRestart();
    });
  }

  /** Starts sampling, or wakes a sampler in backoff (the raw tier is live again). */
  ingestLive(): void {
    if (this.#started) this.#supervisor.retryNow();
    else this.#supervisor.start();
    this.#started = true;
  }

  snapshot(): StreamSnapshot {
    return this.#supervisor.snapshot();
  }

  close(): Promise<void> {
    return this.#supervisor.close();
  }
}
