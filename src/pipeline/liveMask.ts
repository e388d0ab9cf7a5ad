/**
 * The live mask stream of a desensitized camera: one grey frame per mask interval, written
 * by Node on the masking ffmpeg's `pipe:3`, white where the detector says a face or plate
 * is. The detector itself is injected (src/desensitize through the composition root), so
 * this module only knows its shape.
 *
 * Timing. The masking ffmpeg stamps the camera's video with its arrival time (wall clock,
 * `-use_wallclock_as_timestamps`, shifted by the run's origin) and the masks with their
 * index (`-framerate`): mask k stands for the arrival times [origin + k/rate, origin + (k+1)/rate).
 * ffmpeg's frame sync holds each video frame until a mask at or past its time has come
 * and pairs it with the last mask at or before it. Node writes mask k only `delayMs` after
 * the moment it stands for, once the detections around that moment are in: the shared
 * tier is late by that delay (privacy beats latency) and no frame is masked by a guess
 * made before it was seen. If Node stops writing, ffmpeg stops producing: no frame goes
 * out unmasked, the supervisor sees the stall and the shared tier is dark.
 */
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Logger } from '../log.js';

/** A region to hide, in the camera's full-resolution pixels (the desensitizer's HiddenRegion). */
export interface LiveRegion {
  x: number;
  y: number;
  width: number;
  height: number;
  kind: 'face' | 'plate';
}

/** What the desensitizer knows at one moment (its RegionSnapshot); `freshAt` is performance.now() of its newest detection. */
export interface LiveRegionSnapshot {
  regions: LiveRegion[];
  freshAt: number;
  detectorLatencyMs: number;
  /** How far apart the detections around the moment lie (ms; see the tracker's detectionGapAt); absent: not known. */
  detectionGapMs?: number;
}

export type LiveHealth = 'ok' | 'lagging' | 'dead';

/** A running desensitizer as the pipeline uses it (src/desensitize's Desensitizer). */
export interface LiveRegionSource {
  regionsAt(at: number): LiveRegionSnapshot;
  health(): LiveHealth;
  on(event: 'health', listener: (h: LiveHealth) => void): void;
  close(): Promise<void>;
}

/** What a camera's desensitizer is started with. */
export interface DesensitizerStart {
  cameraId: string;
  /** The raw tier's internal play URL (the single pull's fan-out, never the camera). */
  sourceUrl: string;
  /** The camera's full resolution: regions are given in it. */
  width: number;
  height: number;
  faces: boolean;
  plates: boolean;
  /** Detections per second. */
  detectFps: number;
  log: Logger;
}

/** Starts a camera's desensitizer; src/desensitize's `startDesensitizer`, passed in by the composition root. */
export type DesensitizerFactory = (opts: DesensitizerStart) => LiveRegionSource;

/** Mask values: 0 shows the picture, REGION hides it with the blur, FAIL hides the whole frame (dark or blurred). */
export const MASK_CLEAR = 0;
export const MASK_REGION = 128;
export const MASK_FAIL = 255;

/** The mask frames' size: the frame divided into square cells, at most this many across. */
const MAX_MASK_WIDTH = 320;

export interface MaskGrid {
  /** The camera frame the mask is scaled up to. */
  frameWidth: number;
  frameHeight: number;
  /** Frame pixels per mask cell (both directions). */
  cell: number;
  width: number;
  height: number;
}

/** The coarsest grid no wider than MAX_MASK_WIDTH: less to write and to scale, boxes rounded outwards to whole cells. */
export function maskGrid(frame: { width: number; height: number }): MaskGrid {
  const cell = Math.max(1, Math.ceil(frame.width / MAX_MASK_WIDTH));
  return {
    frameWidth: frame.width,
    frameHeight: frame.height,
    cell,
    width: Math.ceil(frame.width / cell),
    height: Math.ceil(frame.height / cell),
  };
}

/**
 * Marks every cell a region touches with `value`, and one cell more on each side: ffmpeg's
 * nearest-neighbour scaling from the grid to the frame may place a cell's edge up to a cell
 * off when the frame is not a whole number of cells.
 */
export function rasterizeRegions(regions: readonly LiveRegion[], grid: MaskGrid, out: Uint8Array, value = MASK_REGION): void {
  for (const r of regions) {
    if (!(r.width > 0 && r.height > 0)) continue;
    const x0 = Math.max(0, Math.floor(r.x / grid.cell) - 1);
    const y0 = Math.max(0, Math.floor(r.y / grid.cell) - 1);
    const x1 = Math.min(grid.width, Math.ceil((r.x + r.width) / grid.cell) + 1);
    const y1 = Math.min(grid.height, Math.ceil((r.y + r.height) / grid.cell) + 1);
    if (x1 <= x0 || y1 <= y0) continue;
    for (let y = y0; y < y1; y++) out.fill(value, y * grid.width + x0, y * grid.width + x1);
  }
}

export interface LiveMaskTiming {
  /** Masks per second (the video's frame rate: one mask per frame interval). */
  rate: number;
  /** Detections per second: the delay covers one interval between them. */
  detectFps: number;
}

/** Bounds of the delay of the shared tier behind the raw tier, in ms. */
export const LIVE_DELAY_BOUNDS = { minMs: 150, maxMs: 2000 } as const;
/** Headroom over the detector's measured latency (scheduling, the detector's own frame pipe). */
const DELAY_HEADROOM_MS = 100;
/** A detector whose newest result is older than this (wall time) fails closed, whatever it says of itself. */
const MAX_SILENCE_MS = LIVE_DELAY_BOUNDS.maxMs + 1000;
/**
 * Detections further apart than this around a moment leave it to guesses (the tracker keeps
 * a lost face this long, src/desensitize/tracker.ts maxMissMs): the mask hides the frame.
 */
const MAX_DETECTION_GAP_MS = 800;
/** A detector starting (loading its model, its first frames) is not reported down for this long; its masks hide everything meanwhile. */
export const START_GRACE_MS = 15_000;
/** A dead detector is restarted (with the masking run) after this long. */
export const DEAD_RESTART_MS = 5000;

/**
 * The delay that lets the detections around a moment come in before its mask is written:
 * the next frame the detector takes comes at most an interval later (or once it is done
 * with the one before, when detecting takes longer), and its result a latency after that.
 */
export function liveDelayMs(detectFps: number, detectorLatencyMs: number): number {
  const latency = Math.max(0, detectorLatencyMs);
  const wanted = Math.max(1000 / detectFps, latency) + latency + DELAY_HEADROOM_MS;
  return Math.min(LIVE_DELAY_BOUNDS.maxMs, Math.max(LIVE_DELAY_BOUNDS.minMs, Math.round(wanted)));
}

export interface MaskDecision {
  /** The mask's cells (MASK_CLEAR, MASK_REGION or all MASK_FAIL). */
  up: boolean;
  reason: string | null;
}

/**
 * Whether the detector vouches for the moment `at` (ms, performance.now()) as of `now`:
 * healthy, heard from recently, and with a detection no older than half an interval before
 * `at` (a tracked box further ahead of its last sighting is a guess, not a finding).
 */
export function judge(source: LiveRegionSource, snap: LiveRegionSnapshot, at: number, now: number, detectFps: number): MaskDecision {
  const health = source.health();
  if (health !== 'ok') return { up: false, reason: `detector ${health}` };
  if (now - snap.freshAt > MAX_SILENCE_MS) return { up: false, reason: `no detection for ${Math.round(now - snap.freshAt)} ms` };
  // The delay (liveDelayMs) lets a detection after the moment come in before its mask is
  // written; a moment more than half an interval past the newest detection is left to the
  // tracker's guess, which misses a face that appeared or jumped meanwhile (a detector that
  // stopped): hidden whole. The detector's latency buys no reach: the delay absorbs it.
  const reach = 500 / detectFps;
  if (at - snap.freshAt > reach) return { up: false, reason: `newest detection ${Math.round(at - snap.freshAt)} ms before the frame` };
  if ((snap.detectionGapMs ?? 0) > MAX_DETECTION_GAP_MS)
    return { up: false, reason: `detections around the frame ${Math.round(snap.detectionGapMs!)} ms apart` };
  return { up: true, reason: null };
}

export interface LiveMaskWriterOptions {
  source: LiveRegionSource;
  grid: MaskGrid;
  timing: LiveMaskTiming;
  /** Unix time (ms) of mask 0's moment: the run's origin, which ffmpeg's video timestamps count from. */
  originWallMs: number;
  /** Called when the masks go from showing detections to hiding everything and back. */
  onUp: (up: boolean, reason: string | null) => void;
  /** The detector has been dead for DEAD_RESTART_MS: restart the run (and with it the detector). */
  onDead: () => void;
  logger: Logger;
  /** The wall clock ffmpeg stamps the video with, and the desensitizer's clock (performance.now()). */
  clock?: { wall(): number; perf(): number };
}

/**
 * The desensitizer stamps a frame when its grabber hands it over (decoded, scaled, through a
 * pipe), the masking ffmpeg when it reads its packet: the same frame is up to this much later
 * on the desensitizer's clock. Each mask covers the regions over that much more time.
 */
export const DETECTOR_CLOCK_LAG_MS = 200;
/** The regions over a mask's time span are sampled this often (a fast face's boxes overlap from one sample to the next). */
const SAMPLE_STEP_MS = 40;

/** How often the writer looks at the clock; masks due meanwhile are written together. */
const TICK_MS = 10;

/**
 * Writes the mask stream of one masking run. Mask k is written once `now` has passed its
 * moment plus the current delay; its cells cover the regions at the start and end of its
 * interval (a face moving during it stays covered), or the whole frame while the detector
 * cannot vouch for that moment.
 */
export class LiveMaskWriter {
  private next = 0;
  private delayMs: number;
  private timer: NodeJS.Timeout | null = null;
  private stream: Writable | null = null;
  private waitingDrain = false;
  private up: boolean | null = null;
  private deadSince: number | null = null;
  private everUp = false;
  private startedAt: number | null = null;
  private readonly clear: Uint8Array;
  private readonly fail: Buffer;
  private readonly clock: { wall(): number; perf(): number };

  constructor(private readonly opts: LiveMaskWriterOptions) {
    const size = opts.grid.width * opts.grid.height;
    this.clear = new Uint8Array(size);
    this.fail = Buffer.alloc(size, MASK_FAIL);
    this.clock = opts.clock ?? { wall: () => Date.now(), perf: () => performance.now() };
    this.delayMs = liveDelayMs(opts.timing.detectFps, 0);
  }

  /** The delay in force now (ms). */
  get currentDelayMs(): number {
    return this.delayMs;
  }

  /** Starts writing on the run's `pipe:3`. */
  attach(stream: Writable): void {
    this.stream = stream;
    this.startedAt = this.clock.perf();
    // The run is ending: ffmpeg closed its end (EPIPE); the supervisor sees the exit.
    stream.on('error', () => this.detach());
    this.timer = setInterval(() => this.pump(), TICK_MS);
    this.pump();
  }

  detach(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stream = null;
  }

  /** Mask k as of now; exposed for tests. */
  maskFor(k: number): Buffer {
    const { source, timing, grid, originWallMs } = this.opts;
    const interval = 1000 / timing.rate;
    // Its moment on the desensitizer's clock, through the clocks' offset now: a wall clock
    // slewed or stepped since the origin moves the video's stamps, and the masks with them.
    const now = this.clock.perf();
    const at = originWallMs + k * interval - (this.clock.wall() - now);
    const start = source.regionsAt(at);
    const decision = judge(source, start, at, now, timing.detectFps);
    this.track(decision, now);
    if (!decision.up) return this.fail;
    // Grow the delay at once when the detector slows, shrink it slowly when it speeds up.
    const wanted = liveDelayMs(timing.detectFps, start.detectorLatencyMs);
    this.delayMs = wanted > this.delayMs ? wanted : Math.max(wanted, this.delayMs - 1);
    const cells = Buffer.from(this.clear);
    rasterizeRegions(start.regions, grid, cells);
    const span = interval + DETECTOR_CLOCK_LAG_MS;
    const steps = Math.ceil(span / SAMPLE_STEP_MS);
    for (let i = 1; i <= steps; i++) rasterizeRegions(source.regionsAt(at + (span * i) / steps).regions, grid, cells);
    return cells;
  }

  private pump(): void {
    const stream = this.stream;
    if (!stream || this.waitingDrain) return;
    const interval = 1000 / this.opts.timing.rate;
    while (this.stream === stream && this.opts.originWallMs + this.next * interval + this.delayMs <= this.clock.wall()) {
      let mask: Buffer;
      try {
        mask = this.maskFor(this.next);
      } catch (err) {
        // A desensitizer that throws cannot vouch for anything.
        if (this.up !== false) this.opts.logger.error({ err }, 'desensitizer failed; hiding the whole frame');
        this.track({ up: false, reason: 'desensitizer error' }, this.clock.perf());
        mask = this.fail;
      }
      this.next += 1;
      if (!stream.write(mask)) {
        this.waitingDrain = true;
        stream.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
    }
  }

  private track(decision: MaskDecision, now: number): void {
    this.startedAt ??= now;
    if (decision.up) this.everUp = true;
    const starting = !this.everUp && now - this.startedAt < START_GRACE_MS;
    if (decision.up !== this.up && !starting) {
      this.up = decision.up;
      this.opts.onUp(decision.up, decision.reason);
    }
    if (this.opts.source.health() === 'dead') {
      this.deadSince ??= now;
      if (now - this.deadSince > DEAD_RESTART_MS) {
        this.deadSince = null;
        this.opts.onDead();
      }
    } else this.deadSince = null;
  }
}
