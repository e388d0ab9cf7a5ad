/**
 * The live mask stream of a desensitized camera through the real masking ffmpeg, with a
 * stand-in desensitizer: where it reports a region the picture is blurred and elsewhere it
 * comes through; while it cannot vouch for the picture every frame is dark (or blurred
 * whole); and when Node stops writing masks, ffmpeg stops producing frames (nothing goes
 * out unmasked). The source is a recorded testsrc2 file played live over TCP (as the media
 * server would play the raw tier), so no camera or gateway is needed.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegProcess } from '../../../src/pipeline/ffmpegProcess.js';
import {
  LiveMaskWriter,
  maskGrid,
  MASK_FAIL,
  type LiveHealth,
  type LiveRegion,
  type LiveRegionSource,
} from '../../../src/pipeline/liveMask.js';
import { buildMaskingArgs } from '../../../src/pipeline/maskingArgs.js';
import { planMasks, withLiveMask } from '../../../src/privacy/filterGraph.js';
import { grayFrames, regionStats, type GrayFrame } from '../../helpers/frames.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { freePort } from '../../helpers/ports.js';

const run = promisify(execFile);
const FRAME = { width: 640, height: 360 };
const FPS = 25;
const SECONDS = 3;
const logger = pino({ level: 'silent' });
/** A face-sized box (pixels) and the same box as a fraction of the frame. */
const BOX: LiveRegion = { x: 200, y: 100, width: 160, height: 120, kind: 'face' };
const BOX_FRACTION = { x: 200 / 640, y: 100 / 360, w: 160 / 640, h: 120 / 360 };
const OUTSIDE = { x: 0.7, y: 0.1, w: 0.25, h: 0.3 };

let dir: string;
let source: string;
let sourceFrames: GrayFrame[];

beforeAll(async () => {
  requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
  dir = await mkdtemp(join(tmpdir(), 'psvgw-livemask-'));
  source = join(dir, 'source.flv');
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${FRAME.width}x${FRAME.height}:rate=${FPS}`],
    ...['-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(FPS), '-bf', '0', '-f', 'flv', source],
  ]);
  sourceFrames = await grayFrames(source, FRAME, { count: 1, timeoutMs: 20_000 });
});

afterAll(async () => {
  if (dir && !process.env.KEEP_LIVEMASK) await rm(dir, { recursive: true, force: true });
});

/** A desensitizer stand-in: always the same regions, fresh as of now, with the given health. */
function standIn(health: () => LiveHealth, regions: LiveRegion[]): LiveRegionSource {
  return {
    regionsAt: () => ({ regions, freshAt: performance.now(), detectorLatencyMs: 40 }),
    health,
    on: () => undefined,
    close: () => Promise.resolve(),
  };
}

/** Runs the masking ffmpeg on the source with the live mask; `stopWritingAfterMs` detaches the writer, leaving the pipe open. */
async function mask(
  name: string,
  src: LiveRegionSource,
  failMode: 'dark' | 'blur',
  stopWritingAfterMs?: number,
): Promise<{ frames: GrayFrame[]; exited: boolean }> {
  const grid = maskGrid(FRAME);
  const plan = planMasks([], FRAME);
  const originWallMs = Date.now();
  const target = join(dir, `${name}.flv`);
  const port = await freePort();
  // The recording played at its own pace, as a live stream is.
  const player = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-re', '-i', source, '-c', 'copy', '-f', 'flv', `tcp://127.0.0.1:${port}?listen=1`],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 300));
  const args = buildMaskingArgs({
    sourceUrl: `tcp://127.0.0.1:${port}`,
    imageFiles: [],
    filterComplex: withLiveMask(plan.filterComplex, { input: 1, frame: FRAME, failMode, failThreshold: MASK_FAIL }),
    fps: FPS,
    frameHeight: FRAME.height,
    hasAudio: false,
    targetUrl: target,
    encoder: { encoder: 'libx264', preset: 'ultrafast', maxBitrateKbps: 4000, gopSeconds: 1 },
    liveMask: { width: grid.width, height: grid.height, rate: FPS, originSeconds: originWallMs / 1000 },
  });
  const writer = new LiveMaskWriter({
    source: src,
    grid,
    timing: { rate: FPS, detectFps: 5 },
    originWallMs,
    onUp: () => undefined,
    onDead: () => undefined,
    logger,
  });
  const proc = new FfmpegProcess({ binary: 'ffmpeg', args, logger, pipe3Input: (stream) => writer.attach(stream) });
  const exit = proc.start();
  let exited = false;
  if (stopWritingAfterMs !== undefined) {
    setTimeout(() => writer.detach(), stopWritingAfterMs);
    // Give it far longer than the source lasts: with no masks coming it must not finish.
    const done = await Promise.race([exit.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), SECONDS * 1000 + 4000))]);
    exited = done;
    await proc.stop(500);
  } else {
    await exit;
    exited = true;
  }
  writer.detach();
  player.kill('SIGKILL');
  const frames = await grayFrames(target, FRAME, { count: FPS * SECONDS + 10, timeoutMs: 20_000 });
  return { frames, exited };
}

describe('live mask stream', () => {
  it('blurs where the desensitizer reports a region and nowhere else, frame by frame', async () => {
    const { frames } = await mask(
      'region',
      standIn(() => 'ok', [BOX]),
      'dark',
    );
    expect(frames.length).toBeGreaterThanOrEqual(FPS * SECONDS - 2);
    // testsrc2's colour bars have sharp edges in the box and outside it; the blur leaves only gentle slopes.
    expect(sharpest(sourceFrames[0]!, BOX_FRACTION)).toBeGreaterThan(60);
    for (const f of frames) {
      expect(sharpest(f, BOX_FRACTION)).toBeLessThan(16);
      expect(sharpest(f, OUTSIDE)).toBeGreaterThan(60);
    }
  }, 60_000);

  it('hides every frame while the desensitizer cannot vouch for the picture: dark, or blurred whole', async () => {
    const dark = await mask(
      'dead-dark',
      standIn(() => 'dead', [BOX]),
      'dark',
    );
    expect(dark.frames.length).toBeGreaterThanOrEqual(FPS * SECONDS - 2);
    for (const f of dark.frames) expect(regionStats(f, { x: 0, y: 0, w: 1, h: 1 }, 0).variance).toBeLessThan(4);
    for (const f of dark.frames) expect(f.pixels.reduce((s, v) => s + v, 0) / f.pixels.length).toBeLessThan(24);

    const blurred = await mask(
      'lagging-blur',
      standIn(() => 'lagging', [BOX]),
      'blur',
    );
    expect(blurred.frames.length).toBeGreaterThanOrEqual(FPS * SECONDS - 2);
    for (const f of blurred.frames) expect(sharpest(f, { x: 0.02, y: 0.02, w: 0.96, h: 0.96 })).toBeLessThan(16);
  }, 60_000);

  it('produces no frame once Node stops writing masks', async () => {
    const { frames, exited } = await mask(
      'stalled',
      standIn(() => 'ok', [BOX]),
      'dark',
      1000,
    );
    expect(exited).toBe(false);
    // Frames up to the last mask written (the delay plus a second of source, read in a burst), never the rest.
    expect(frames.length).toBeLessThan(FPS * SECONDS - 10);
  }, 60_000);
});

/** The largest step between horizontal neighbours inside a region (its 4-pixel border left out): a sharp edge is tens of levels. */
function sharpest(frame: GrayFrame, region: { x: number; y: number; w: number; h: number }): number {
  const x0 = Math.ceil(region.x * frame.width) + 4;
  const y0 = Math.ceil(region.y * frame.height) + 4;
  const x1 = Math.floor((region.x + region.w) * frame.width) - 4;
  const y1 = Math.floor((region.y + region.h) * frame.height) - 4;
  let max = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1 - 1; x++) {
      const i = y * frame.width + x;
      max = Math.max(max, Math.abs((frame.pixels[i] ?? 0) - (frame.pixels[i + 1] ?? 0)));
    }
  }
  return max;
}
