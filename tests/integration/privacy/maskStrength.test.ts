/**
 * Runs the mask filter graph through the real ffmpeg on still frames and measures what
 * is left inside each region against the same region of the unmasked source: fill must
 * be flat, blur and mosaic must keep no trace of the detail, and everything outside the
 * masks must come through unchanged.
 *
 * The source is testsrc2 (bars, gradients, a moving pattern, digits: edges everywhere)
 * in three versions run through the same graph as three frames: as is, with fine detail
 * added (pixel noise and 12-pixel checks, about a licence-plate character at 360p), and
 * with coarse detail added (stripes one mosaic block wide). What the masked frames differ
 * by is exactly what the mask lets through of that detail.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectStrengths, planMasks } from '../../../src/privacy/filterGraph.js';
import { validateMasks, type Mask, type MaskMode } from '../../../src/domain/index.js';
import { rasterizeMasks } from '../../../src/privacy/rasterize.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

const run = promisify(execFile);

type Pt = [number, number];
type Shape = { shape: 'rect'; x: number; y: number; w: number; h: number } | { shape: 'polygon'; points: Pt[] };

interface Size {
  width: number;
  height: number;
}

/** One region of each kind the masks must handle; none overlap. */
const SHAPES: Record<string, Shape> = {
  rect: { shape: 'rect', x: 0.06, y: 0.08, w: 0.3, h: 0.36 },
  'concave U': {
    shape: 'polygon',
    points: [
      [0.45, 0.08],
      [0.92, 0.08],
      [0.92, 0.5],
      [0.78, 0.5],
      [0.78, 0.22],
      [0.6, 0.22],
      [0.6, 0.5],
      [0.45, 0.5],
    ],
  },
  'rect on the right and bottom edges': { shape: 'rect', x: 0.62, y: 0.6, w: 0.38, h: 0.4 },
  'triangle on the left and bottom edges': {
    shape: 'polygon',
    points: [
      [0, 0.55],
      [0.4, 1],
      [0, 1],
    ],
  },
};
/** The open notch of the U, which must come through untouched. */
const NOTCH: Shape = { shape: 'rect', x: 0.6, y: 0.22, w: 0.18, h: 0.28 };

const withMode = (shape: Shape, mode: MaskMode): Mask => validateMasks([{ ...shape, mode }])[0]!;

/** Pixel-centre membership, without the rasterizer's outward growth: the region as drawn. */
function regionPixels(shape: Shape, { width, height }: Size): Uint8Array {
  const poly: Pt[] =
    shape.shape === 'rect'
      ? [
          [shape.x, shape.y],
          [shape.x + shape.w, shape.y],
          [shape.x + shape.w, shape.y + shape.h],
          [shape.x, shape.y + shape.h],
        ]
      : shape.points;
  const out = new Uint8Array(width * height);
  for (let row = 0; row < height; row++) {
    const y = (row + 0.5) / height;
    for (let col = 0; col < width; col++) {
      const x = (col + 0.5) / width;
      let inside = false;
      for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
        const [xi, yi] = poly[i]!;
        const [xj, yj] = poly[j]!;
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
      out[row * width + col] = inside ? 1 : 0;
    }
  }
  return out;
}

// --- measurements -----------------------------------------------------------------------

function stats(img: Uint8Array, region: Uint8Array): { mean: number; variance: number; min: number; max: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  let min = 255;
  let max = 0;
  region.forEach((inside, i) => {
    if (!inside) return;
    const v = img[i]!;
    n++;
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  });
  const mean = sum / n;
  return { mean, variance: sq / n - mean * mean, min, max };
}

/**
 * Mean absolute horizontal plus mean absolute vertical difference over neighbour pairs
 * inside the region; `keep` can leave pairs out (e.g. those across mosaic block borders).
 */
function edgeEnergy(
  img: Uint8Array,
  region: Uint8Array,
  { width, height }: Size,
  keep: (a: number, b: number) => boolean = () => true,
): number {
  let h = 0;
  let hn = 0;
  let v = 0;
  let vn = 0;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const i = row * width + col;
      if (!region[i]) continue;
      if (col + 1 < width && region[i + 1] && keep(i, i + 1)) {
        h += Math.abs(img[i + 1]! - img[i]!);
        hn++;
      }
      if (row + 1 < height && region[i + width] && keep(i, i + width)) {
        v += Math.abs(img[i + width]! - img[i]!);
        vn++;
      }
    }
  }
  return (hn === 0 ? 0 : h / hn) + (vn === 0 ? 0 : v / vn);
}

/** The region less the pixels within `margin` of the frame's edge. */
function awayFromFrameEdge(region: Uint8Array, { width, height }: Size, margin: number): Uint8Array {
  return region.map((inside, i) => {
    const col = i % width;
    const row = Math.floor(i / width);
    return inside && col >= margin && row >= margin && col < width - margin && row < height - margin ? 1 : 0;
  });
}

/** Root mean square of a - b inside the region. */
function rmsDifference(a: Uint8Array, b: Uint8Array, region: Uint8Array): number {
  let n = 0;
  let sq = 0;
  region.forEach((inside, i) => {
    if (!inside) return;
    n++;
    sq += (a[i]! - b[i]!) ** 2;
  });
  return Math.sqrt(sq / n);
}

/** Largest variance among mosaic blocks lying wholly inside the region, and how many there are. */
function blockVariance(img: Uint8Array, region: Uint8Array, { width, height }: Size, block: number): { blocks: number; worst: number } {
  let blocks = 0;
  let worst = 0;
  for (let by = 0; by < height; by += block) {
    for (let bx = 0; bx < width; bx += block) {
      let n = 0;
      let sum = 0;
      let sq = 0;
      let whole = true;
      for (let row = by; row < Math.min(by + block, height) && whole; row++) {
        for (let col = bx; col < Math.min(bx + block, width) && whole; col++) {
          const i = row * width + col;
          whole = region[i] === 1;
          n++;
          sum += img[i]!;
          sq += img[i]! * img[i]!;
        }
      }
      if (!whole) continue;
      blocks++;
      worst = Math.max(worst, sq / n - (sum / n) ** 2);
    }
  }
  return { blocks, worst };
}

// --- source frames and ffmpeg -------------------------------------------------------------

const VERSIONS = ['plain', 'fine', 'coarse'] as const;
type Frames = Record<(typeof VERSIONS)[number], Uint8Array>;

let dir = '';
const sources = new Map<string, { file: string; luma: Frames }>();
const key = ({ width, height }: Size) => `${width}x${height}`;

const AMPLITUDE = 25;
const CHECK_CELL = 12;
/** One mosaic block at 640 px: what the mosaic may keep, the blur must not. */
const STRIPE_WIDTH = 27;

/** Seeded, so every run plants the same noise. */
function noise(n: number): Int8Array {
  let seed = 0x2545f491;
  return Int8Array.from({ length: n }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.round(((seed / 2 ** 32) * 2 - 1) * AMPLITUDE);
  });
}

function grid({ width, height }: Size, cellX: number, cellY: number): Int8Array {
  return Int8Array.from({ length: width * height }, (_, i) =>
    (Math.floor((i % width) / cellX) + Math.floor(Math.floor(i / width) / cellY)) % 2 === 0 ? AMPLITUDE : -AMPLITUDE,
  );
}

/** One testsrc2 frame (yuv420p) and its fine and coarse versions, written as three raw frames. */
async function makeSource(size: Size): Promise<void> {
  const { width, height } = size;
  const plainFile = join(dir, `plain-${key(size)}.yuv`);
  // testsrc2 rounds odd sizes down in yuv420p, so the odd size is cut out in yuv444p.
  const graph = `testsrc2=size=${width + (width % 2)}x${height + (height % 2)}:rate=25,format=yuv444p,crop=${width}:${height}:0:0`;
  await ffmpeg(['-f', 'lavfi', '-i', graph, '-frames:v', '1', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', plainFile]);
  const plain = await readFile(plainFile);
  const n = width * height;
  // Luma squeezed into 50..205 so the planted detail (at most ±50) never clips: a clipped
  // pattern no longer averages out and would show through as a change of brightness.
  for (let i = 0; i < n; i++) plain[i] = 50 + Math.round((plain[i]! * 155) / 255);
  const fineDetail = [noise(n), grid(size, CHECK_CELL, CHECK_CELL)];
  const coarseDetail = [grid(size, STRIPE_WIDTH, height)];
  const withDetail = (patterns: Int8Array[]) => {
    const frame = Buffer.from(plain);
    for (let i = 0; i < n; i++) frame[i] = patterns.reduce((v, p) => v + p[i]!, frame[i]!);
    return frame;
  };
  const frames = [plain, withDetail(fineDetail), withDetail(coarseDetail)];
  const file = join(dir, `src-${key(size)}.yuv`);
  await writeFile(file, Buffer.concat(frames));
  sources.set(key(size), { file, luma: lumaOf(Buffer.concat(frames), size) });
}

/** The luma planes of the three yuv420p frames in `raw`. */
function lumaOf(raw: Buffer, { width, height }: Size): Frames {
  const frameBytes = width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
  expect(raw.length).toBe(VERSIONS.length * frameBytes);
  const at = (k: number) => new Uint8Array(raw.subarray(k * frameBytes, k * frameBytes + width * height));
  return { plain: at(0), fine: at(1), coarse: at(2) };
}

async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args], { timeout: 30_000, killSignal: 'SIGKILL' });
}

/**
 * The three source frames masked as the pipeline would, read from ffmpeg's output until
 * it ends by itself: a graph that outlives its video (the looped images never end) runs
 * past the output limit and fails. `imageDelaySec` starts the mask images late; `from`
 * feeds frames of another size than the plan's.
 */
async function mask(masks: readonly Mask[], size: Size, imageDelaySec = 0, from = size): Promise<Frames> {
  const plan = planMasks(masks, size);
  const args = ['-v', 'error', '-nostdin', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', key(from), '-framerate', '25'];
  args.push('-i', sources.get(key(from))!.file);
  for (const [i, image] of plan.images.entries()) {
    const file = join(dir, `mask-${key(size)}-${i}-${image.mode}.pgm`);
    await writeFile(file, image.pgm);
    if (imageDelaySec > 0) args.push('-itsoffset', String(imageDelaySec));
    args.push('-loop', '1', '-framerate', '25', '-i', file);
  }
  args.push('-filter_complex', plan.filterComplex, '-map', '[masked]', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1');
  const frameBytes = size.width * size.height + 2 * Math.ceil(size.width / 2) * Math.ceil(size.height / 2);
  const { stdout } = await run('ffmpeg', args, {
    encoding: 'buffer',
    maxBuffer: (VERSIONS.length + 1) * frameBytes,
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  return lumaOf(stdout, size);
}

// --- checks ------------------------------------------------------------------------------

const fmt = (n: number, digits = 2) => n.toFixed(digits);

/** Asserts what a region of `mode` must show, and prints what was measured. */
function expectHidden(label: string, mode: MaskMode, shape: Shape, size: Size, out: Frames): void {
  const src = sources.get(key(size))!.luma;
  const region = regionPixels(shape, size);
  const before = stats(src.fine, region);
  const after = stats(out.fine, region);
  const edgeBefore = edgeEnergy(src.fine, region, size);
  const edgeAfter = edgeEnergy(out.fine, region, size);
  // Share of the planted detail that reaches the output (0: none, 1: all of it).
  const kept = (version: 'fine' | 'coarse', where = region) =>
    rmsDifference(out[version], out.plain, where) / rmsDifference(src[version], src.plain, where);
  const fine = kept('fine');
  const coarse = kept('coarse');
  // Near the frame's edge the blur window is partly off the picture, so what it shows
  // there is the mean of fewer stripes: a faint shade, not a pattern.
  const inner = awayFromFrameEdge(region, size, 2 * effectStrengths(size).blurRadius);
  const coarseInner = kept('coarse', inner);
  expect(
    inner.reduce((a, b) => a + b, 0),
    `${label}: pixels away from the frame edge`,
  ).toBeGreaterThan(500);
  expect(edgeBefore, `${label}: the source has detail to hide`).toBeGreaterThan(20);
  // A mosaic block still shows the mean of its pixels: planted noise averaged over a block
  // plus rounding comes to a few per cent.
  expect(fine, `${label}: fine detail kept`).toBeLessThan(mode === 'mosaic' ? 0.08 : 0.05);
  let extra = '';
  if (mode === 'fill') {
    expect(after.variance, label).toBeLessThan(0.01);
    expect(after.max - after.min, label).toBe(0);
    expect(after.max, `${label}: black`).toBeLessThanOrEqual(16);
  } else {
    expect(edgeAfter / edgeBefore, `${label}: edge energy left`).toBeLessThan(0.05);
  }
  if (mode !== 'mosaic') {
    expect(coarseInner, `${label}: coarse detail kept away from the frame edge`).toBeLessThan(0.05);
    expect(coarse, `${label}: coarse detail kept`).toBeLessThan(0.1);
  }
  if (mode === 'mosaic') {
    const block = effectStrengths(size).mosaicBlock;
    const blockOf = (i: number) => `${Math.floor((i % size.width) / block)},${Math.floor(Math.floor(i / size.width) / block)}`;
    const within = edgeEnergy(out.fine, region, size, (a, b) => blockOf(a) === blockOf(b));
    const blocks = blockVariance(out.fine, region, size, block);
    expect(blocks.blocks, `${label}: whole blocks inside`).toBeGreaterThan(0);
    expect(blocks.worst, `${label}: variance within a block`).toBeLessThan(0.01);
    expect(within, `${label}: gradients only on block borders`).toBeLessThan(0.01);
    extra = `; ${blocks.blocks} whole blocks, worst within-block variance ${fmt(blocks.worst, 3)}, within-block edge energy ${fmt(within, 3)}`;
  }
  console.log(
    `${label}: variance ${fmt(before.variance, 0)} → ${fmt(after.variance, 1)}; edge energy ${fmt(edgeBefore)} → ${fmt(edgeAfter, 3)} ` +
      `(${fmt((100 * edgeAfter) / edgeBefore)}%); detail kept: fine ${fmt(100 * fine)}%, coarse ${fmt(100 * coarse)}% (${fmt(100 * coarseInner)}% away from the frame edge)${extra}`,
  );
}

/** Everything the masks (grown as rasterized) do not cover must equal the source, the U's notch included. */
function expectUntouchedOutside(label: string, masks: readonly Mask[], size: Size, out: Frames): void {
  const src = sources.get(key(size))!.luma;
  const covered = rasterizeMasks(masks, size.width, size.height);
  const notch = regionPixels(NOTCH, size);
  let n = 0;
  let notchPixels = 0;
  let worst = 0;
  covered.forEach((c, i) => {
    if (c) return;
    n++;
    if (notch[i]) notchPixels++;
    for (const v of VERSIONS) worst = Math.max(worst, Math.abs(out[v][i]! - src[v][i]!));
  });
  expect(notchPixels, `${label}: the U's notch stays open`).toBeGreaterThan(0.9 * notch.reduce((a, b) => a + b, 0));
  expect(worst, `${label}: outside the masks`).toBeLessThanOrEqual(2);
  console.log(`${label}: outside the masks ${n} pixels (notch ${notchPixels}), largest difference ${worst}`);
}

const SIZES: Size[] = [
  { width: 640, height: 360 },
  { width: 641, height: 361 },
];

describe('mask strength on real frames (ffmpeg)', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    dir = await mkdtemp(join(tmpdir(), 'psv-masks-'));
    for (const size of SIZES) await makeSource(size);
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  describe.each(SIZES)('$width x $height', (size) => {
    it.each<MaskMode>(['fill', 'blur', 'mosaic'])('%s hides a rect, a concave polygon and masks on the frame edges', async (mode) => {
      const masks = Object.values(SHAPES).map((s) => withMode(s, mode));
      const out = await mask(masks, size);
      for (const [name, shape] of Object.entries(SHAPES)) expectHidden(`${key(size)} ${mode} ${name}`, mode, shape, size, out);
      expectUntouchedOutside(`${key(size)} ${mode}`, masks, size, out);
    });
  });

  it('stacks all three modes in one graph on an odd frame', async () => {
    const size = { width: 641, height: 361 };
    const modes: MaskMode[] = ['fill', 'blur', 'mosaic', 'blur'];
    const shapes = Object.entries(SHAPES);
    const masks = shapes.map(([, s], i) => withMode(s, modes[i]!));
    // One image per mask, in layer order: fill, then blur, then mosaic.
    expect(planMasks(masks, size).images.map((i) => i.mode)).toEqual(['fill', 'blur', 'blur', 'mosaic']);
    const out = await mask(masks, size);
    shapes.forEach(([name, shape], i) => expectHidden(`${key(size)} stacked ${modes[i]} ${name}`, modes[i]!, shape, size, out));
    expectUntouchedOutside(`${key(size)} stacked`, masks, size, out);
  });

  it('scales frames of another size to the planned one, masks still in place', async () => {
    const planned = { width: 640, height: 360 };
    const masks = Object.values(SHAPES).map((s) => withMode(s, 'fill'));
    const out = await mask(masks, planned, 0, { width: 641, height: 361 });
    for (const shape of Object.values(SHAPES)) {
      const inside = stats(out.fine, regionPixels(shape, planned));
      expect(inside.max - inside.min).toBe(0);
      expect(inside.max).toBeLessThanOrEqual(16);
    }
    const outside = rasterizeMasks(masks, planned.width, planned.height).map((c) => (c ? 0 : 1));
    expect(stats(out.fine, outside).variance).toBeGreaterThan(100);
  });

  it("hides the mask's whole box, not none of it, when the mask image arrives late", async () => {
    const size = { width: 641, height: 361 };
    const out = await mask([withMode(SHAPES['concave U']!, 'fill')], size, 1);
    // The U's bounding box, notch included: without its image the layer is opaque over all of it.
    const box = regionPixels({ shape: 'rect', x: 0.45, y: 0.08, w: 0.47, h: 0.42 }, size);
    for (const v of VERSIONS) {
      const inside = stats(out[v], box);
      expect(inside.max - inside.min, v).toBe(0);
      expect(inside.max, v).toBeLessThanOrEqual(16);
    }
  });
});
