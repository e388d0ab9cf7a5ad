import type { Logger } from '../log.js';
import { greyFrameArgs, StreamSupervisor, type GreyFrameSize } from '../pipeline/index.js';
import type { BackoffPolicy } from '../backoff.js';

export type GrabSize = GreyFrameSize;

/** The detection frames: grayscale at the detection rate, with no demuxer buffering (they must be fresh). */
export function buildGrabberArgs(sourceUrl: string, size: GrabSize): string[] {
  return greyFrameArgs(sourceUrl, size, { lowDelay: true });
}

/** The detection frame: at most `maxWidth` wide, the camera's aspect, even sides. */
export function detectionSize(width: number, height: number, maxWidth: number): { width: number; height: number } {
  const w = Math.min(width, maxWidth);
  const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
  return { width: even(w), height: even((height * w) / width) };
}

export interface GrabberDeps {
  sourceUrl: string;
  size: GrabSize;
  ffmpegPath: string;
  backoff: BackoffPolicy;
  logger: Logger;
  /** A whole frame, with performance.now() of its arrival. */
  onFrame: (pixels: Uint8Array, at: number) => void;
  /** A new run begins: the next frame does not follow the last one. */
  onRestart: () => void;
}

/** The supervised frame grabber of one desensitized camera. */
export class FrameGrabber {
  readonly #supervisor: StreamSupervisor;

  constructor(deps: GrabberDeps) {
    const frameBytes = deps.size.width * deps.size.height;
    let frame = new Uint8Array(frameBytes);
    let filled = 0;
    const intervalMs = 1000 / deps.size.fps;
    this.#supervisor = new StreamSupervisor({
      ffmpegPath: deps.ffmpegPath,
      startTimeoutMs: 15_000,
      backoff: deps.backoff,
      maxRestartsPerMinute: 20,
      stallMs: Math.max(3000, 3 * intervalMs),
      role: 'desensitize-grabber',
      logger: deps.logger,
      prepare: () => Promise.resolve({ args: buildGrabberArgs(deps.sourceUrl, deps.size) }),
      onPipe3: (chunk) => {
        let offset = 0;
        while (offset < chunk.length) {
          const take = Math.min(frameBytes - filled, chunk.length - offset);
          frame.set(chunk.subarray(offset, offset + take), filled);
          filled += take;
          offset += take;
          if (filled === frameBytes) {
            const full = frame;
            frame = new Uint8Array(frameBytes);
            filled = 0;
            deps.onFrame(full, performance.now());
          }
        }
      },
    });
    this.#supervisor.on('state', (change) => {
      if (change.to !== 'starting') return;
      filled = 0;
      deps.onRestart();
    });
  }

  start(): void {
    this.#supervisor.start();
  }

  close(): Promise<void> {
    return this.#supervisor.close();
  }
}
