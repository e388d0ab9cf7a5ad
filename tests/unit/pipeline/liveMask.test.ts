import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEAD_RESTART_MS,
  DETECTOR_CLOCK_LAG_MS,
  LIVE_DELAY_BOUNDS,
  LiveMaskWriter,
  MASK_FAIL,
  MASK_REGION,
  START_GRACE_MS,
  judge,
  liveDelayMs,
  maskGrid,
  rasterizeRegions,
  type LiveHealth,
  type LiveRegion,
  type LiveRegionSnapshot,
  type LiveRegionSource,
} from '../../../src/pipeline/liveMask.js';

const logger = pino({ level: 'silent' });

describe('mask grid and raster', () => {
  it('divides the frame into cells no more than 320 across', () => {
    expect(maskGrid({ width: 640, height: 360 })).toMatchObject({ cell: 2, width: 320, height: 180 });
    expect(maskGrid({ width: 1280, height: 720 })).toMatchObject({ cell: 4, width: 320, height: 180 });
    expect(maskGrid({ width: 1920, height: 1080 })).toMatchObject({ cell: 6, width: 320, height: 180 });
    expect(maskGrid({ width: 321, height: 241 })).toMatchObject({ cell: 2, width: 161, height: 121 });
    expect(maskGrid({ width: 160, height: 90 })).toMatchObject({ cell: 1, width: 160, height: 90 });
  });

  it('covers every pixel of a region, rounded outwards to whole cells plus one, clipped to the frame', () => {
    const grid = maskGrid({ width: 1280, height: 720 });
    const cells = new Uint8Array(grid.width * grid.height);
    const face: LiveRegion = { x: 101, y: 50, width: 30, height: 41, kind: 'face' };
    rasterizeRegions(
      [face, { x: 1270, y: 700, width: 100, height: 100, kind: 'plate' }, { x: 5, y: 5, width: 0, height: 9, kind: 'face' }],
      grid,
      cells,
    );
    const at = (px: number, py: number) => cells[Math.floor(py / grid.cell) * grid.width + Math.floor(px / grid.cell)];
    for (let y = face.y; y < face.y + face.height; y++)
      for (let x = face.x; x < face.x + face.width; x++) expect(at(x, y)).toBe(MASK_REGION);
    // One cell (4 px) of margin, then clear.
    expect(at(face.x - 4, face.y)).toBe(MASK_REGION);
    expect(at(face.x - 9, face.y)).toBe(0);
    expect(at(face.x + face.width + 8, face.y)).toBe(0);
    expect(at(1279, 719)).toBe(MASK_REGION);
    expect(at(5, 5)).toBe(0);
  });
});

describe('delay and judgement', () => {
  it('delays by a detection interval plus the latency and headroom, within bounds', () => {
    expect(liveDelayMs(5, 100)).toBe(400);
    expect(liveDelayMs(5, 300)).toBe(700);
    expect(liveDelayMs(15, 0)).toBe(167);
    expect(liveDelayMs(15, 0)).toBeGreaterThanOrEqual(LIVE_DELAY_BOUNDS.minMs);
    expect(liveDelayMs(1, 5000)).toBe(LIVE_DELAY_BOUNDS.maxMs);
  });

  const source = (health: LiveHealth): LiveRegionSource => ({
    regionsAt: () => ({ regions: [], freshAt: 0, detectorLatencyMs: 0 }),
    health: () => health,
    on: () => undefined,
    close: () => Promise.resolve(),
  });
  const snap = (freshAt: number): LiveRegionSnapshot => ({ regions: [], freshAt, detectorLatencyMs: 50 });

  it('vouches only for a healthy detector, heard from lately, with a detection near the moment', () => {
    expect(judge(source('ok'), snap(1000), 1050, 1300, 5)).toEqual({ up: true, reason: null });
    expect(judge(source('lagging'), snap(1000), 1100, 1300, 5)).toMatchObject({ up: false, reason: 'detector lagging' });
    expect(judge(source('dead'), snap(1000), 1100, 1300, 5)).toMatchObject({ up: false, reason: 'detector dead' });
    expect(judge(source('ok'), snap(1000), 1100, 4100, 5).up).toBe(false);
    // More than half an interval of 200 ms past the newest detection: a guess (a face that appeared meanwhile is missed).
    expect(judge(source('ok'), snap(1000), 1101, 1400, 5).up).toBe(false);
    expect(judge(source('ok'), snap(1000), 1099, 1400, 5).up).toBe(true);
    // However slow the detector: its latency is the delay's to absorb, not the prediction's.
    expect(judge(source('ok'), { ...snap(1000), detectorLatencyMs: 5000 }, 1101, 2000, 5).up).toBe(false);
  });

  it('does not vouch for a moment whose detections around it lie too far apart (a stalled grabber, a restart)', () => {
    // The newest detection is after the moment, but the one before it was 1.2 s earlier: the
    // tracker may have dropped a face meanwhile, so its empty answer proves nothing.
    expect(judge(source('ok'), { ...snap(3000), detectionGapMs: 1200 }, 2500, 4000, 5)).toMatchObject({ up: false });
    expect(judge(source('ok'), { ...snap(3000), detectionGapMs: 400 }, 2500, 4000, 5).up).toBe(true);
  });
});

/** A pipe that takes what is written, or refuses more until drained. */
class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  constructor(highWaterMark = 1 << 20) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }
}

describe('LiveMaskWriter', () => {
  afterEach(() => vi.useRealTimers());

  function setup(health: () => LiveHealth, regionsAt: (at: number) => LiveRegion[]) {
    const clock = { wall: 1_000_000, perf: 5_000 };
    const freshAt = () => clock.perf;
    const grid = maskGrid({ width: 640, height: 360 });
    const ups: Array<[boolean, string | null]> = [];
    const dead = vi.fn();
    const source: LiveRegionSource = {
      regionsAt: (at) => ({ regions: regionsAt(at), freshAt: freshAt(), detectorLatencyMs: 100 }),
      health,
      on: () => undefined,
      close: () => Promise.resolve(),
    };
    const writer = new LiveMaskWriter({
      source,
      grid,
      timing: { rate: 25, detectFps: 5 },
      originWallMs: clock.wall,
      onUp: (up, reason) => ups.push([up, reason]),
      onDead: dead,
      logger,
      clock: { wall: () => clock.wall, perf: () => clock.perf },
    });
    return { clock, grid, writer, ups, dead };
  }

  /**
   * A writer attached to a sink for one second of a region moving 1 px per ms (its x is how far past the
   * origin, perf 5000, the sample lies); `seen` holds every moment the regions were asked for.
   */
  function movingRegionSecond() {
    vi.useFakeTimers();
    const seen: number[] = [];
    const { clock, grid, writer } = setup(
      () => 'ok',
      (at) => {
        seen.push(at);
        return [{ x: Math.round(at - 5_000), y: 0, width: 10, height: 10, kind: 'face' }];
      },
    );
    const sink = new Sink();
    writer.attach(sink);
    expect(sink.chunks).toHaveLength(0);
    clock.wall += 1000;
    clock.perf += 1000;
    vi.advanceTimersByTime(10);
    return { seen, grid, writer, sink };
  }

  it('writes mask k once its moment plus the delay has passed, covering the regions at both ends of its interval', () => {
    const { seen, grid, writer, sink } = movingRegionSecond();
    // The first masks use the delay for a detector of unknown latency; once it reports 100 ms the delay is 400 ms.
    const written = sink.chunks.length;
    expect(written).toBeGreaterThan(15);
    expect(written).toBeLessThanOrEqual(Math.floor((1000 - 300) / 40) + 1);
    expect(writer.currentDelayMs).toBe(400);
    // Mask 0 stands for the origin (perf 5000) and the interval after it: regions from x 0, sampled at most 40 ms apart.
    expect(seen[0]).toBe(5_000);
    expect(seen[1]! - seen[0]!).toBeGreaterThan(0);
    expect(seen[1]! - seen[0]!).toBeLessThanOrEqual(40);
    const mask0 = sink.chunks[0]!;
    expect(mask0).toHaveLength(grid.width * grid.height);
    expect(mask0[0]).toBe(MASK_REGION);
    expect(mask0[Math.floor(45 / grid.cell)]).toBe(MASK_REGION);
    expect(mask0[Math.floor(60 / grid.cell)]).toBe(0);
    writer.detach();
  });

  it("covers the regions from the mask's moment through its interval plus the grabber's clock lag, and no further", () => {
    const { seen, grid, writer, sink } = movingRegionSecond();
    const end = 40 + DETECTOR_CLOCK_LAG_MS;
    const mask0 = sink.chunks[0]!;
    // Sampled no further apart than 40 ms, from the moment to its end on the desensitizer's clock.
    const samples = seen.filter((at) => at >= 5_000 && at <= 5_000 + end).slice(0, Math.ceil(end / 40) + 1);
    expect(samples[0]).toBe(5_000);
    expect(samples[samples.length - 1]).toBeCloseTo(5_000 + end, 6);
    for (let i = 1; i < samples.length; i++) expect(samples[i]! - samples[i - 1]!).toBeLessThanOrEqual(40);
    expect(mask0[Math.floor((end + 5) / grid.cell)]).toBe(MASK_REGION);
    expect(mask0[Math.floor((end + 10 + 3 * grid.cell) / grid.cell)]).toBe(0);
    writer.detach();
  });

  it('hides the whole frame while the detector cannot vouch, and says so after the start grace', () => {
    vi.useFakeTimers();
    let health: LiveHealth = 'ok';
    const { clock, writer, ups, dead } = setup(
      () => health,
      () => [],
    );
    const sink = new Sink();
    writer.attach(sink);
    const step = (ms: number) => {
      clock.wall += ms;
      clock.perf += ms;
      vi.advanceTimersByTime(10);
    };
    step(1000);
    expect(ups).toEqual([[true, null]]);
    health = 'dead';
    step(100);
    expect(ups.at(-1)).toEqual([false, 'detector dead']);
    expect(sink.chunks.at(-1)!.every((v) => v === MASK_FAIL)).toBe(true);
    step(DEAD_RESTART_MS + 100);
    expect(dead).toHaveBeenCalledOnce();
    health = 'ok';
    step(100);
    expect(ups.at(-1)).toEqual([true, null]);
    expect(sink.chunks.at(-1)!.every((v) => v === 0)).toBe(true);
    writer.detach();
  });

  it('a detector that never vouches is reported only after the start grace', () => {
    vi.useFakeTimers();
    const { clock, writer, ups } = setup(
      () => 'lagging',
      () => [],
    );
    const sink = new Sink();
    writer.attach(sink);
    clock.wall += START_GRACE_MS - 1000;
    clock.perf += START_GRACE_MS - 1000;
    vi.advanceTimersByTime(10);
    expect(ups).toEqual([]);
    expect(sink.chunks.every((c) => c.every((v) => v === MASK_FAIL))).toBe(true);
    clock.wall += 2000;
    clock.perf += 2000;
    vi.advanceTimersByTime(10);
    expect(ups).toEqual([[false, 'detector lagging']]);
    writer.detach();
  });

  it('waits for the pipe to drain instead of queueing without bound', () => {
    vi.useFakeTimers();
    const { clock, writer } = setup(
      () => 'ok',
      () => [],
    );
    const sink = new Sink(1);
    const write = vi.spyOn(sink, 'write');
    sink._write = () => undefined; // never completes: the pipe is full
    writer.attach(sink);
    clock.wall += 2000;
    clock.perf += 2000;
    vi.advanceTimersByTime(100);
    expect(write).toHaveBeenCalledTimes(1);
    writer.detach();
  });
});
