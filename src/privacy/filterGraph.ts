/**
 * Builds the ffmpeg filter graph that hides a camera's masks. Each mask is one layer: the
 * part of the frame its effect needs, run through the effect in yuv444p (exact per pixel,
 * odd sizes need no chroma rounding), cut to the mask's box, made visible only where the
 * mask's coverage image is white, and laid over the yuv420p picture. No I/O here.
 */
import { MASK_MODES, type Mask, type MaskMode } from '../domain/index.js';
import { rasterizeMasks, toPgm } from './rasterize.js';

export interface MaskPlan {
  /** Grayscale PGM images of each mask's box, in layer order (modes fill, blur, mosaic, then mask order); the pipeline writes them to files and passes each as a looped image input (`-loop 1 -framerate <fps> -i file.pgm`) after the video input, in this order. */
  images: Array<{ mode: MaskMode; pgm: Buffer }>;
  /** The -filter_complex value: video is [0:v], the images are [1:v], [2:v]… in `images` order; the result is labelled [masked]. */
  filterComplex: string;
}

export interface EffectStrengths {
  /** Blur radius in frame pixels, the same on every plane (yuv444p). */
  blurRadius: number;
  /** boxblur passes; three approach a Gaussian, without the side lobes of one box that let fine stripes through. */
  blurPower: number;
  /**
   * The blur runs on the frame shrunk by this factor (area average) and is scaled back
   * up: the same spread for a fraction of the work, a 1080p frame in real time.
   */
  blurStep: number;
  /** Mosaic block edge in pixels; blocks start at the top-left corner. */
  mosaicBlock: number;
}

// A radius of a tenth of the frame's short side, three passes: each pixel becomes a
// weighted mean over more than half the short side, so faces, plates and any detail up
// to a mosaic block wide leave no trace.
const BLUR_RADIUS_SHARE = 10;
const BLUR_POWER = 3;
// Radius kept on the shrunk frame: enough that scaling back up stays smooth.
const BLUR_SHRUNK_RADIUS = 8;
const MOSAIC_BLOCKS_ACROSS = 24;
const MOSAIC_MIN_BLOCK = 8;

/** How strong blur and mosaic are for a frame size; they scale with it. */
export function effectStrengths(frame: { width: number; height: number }): EffectStrengths {
  const short = Math.min(frame.width, frame.height);
  const blurRadius = Math.max(1, Math.round(short / BLUR_RADIUS_SHARE));
  const blurStep = Math.max(1, Math.floor(blurRadius / BLUR_SHRUNK_RADIUS));
  const mosaicBlock = Math.max(MOSAIC_MIN_BLOCK, Math.round(frame.width / MOSAIC_BLOCKS_ACROSS));
  return { blurRadius, blurPower: BLUR_POWER, blurStep, mosaicBlock };
}

/** A pixel rectangle of the frame. */
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The effect a mode applies to an area of the frame (yuv444p in, yuv444p out), with the frame's strengths. */
function effectFilter(mode: MaskMode, area: { width: number; height: number }, s: EffectStrengths): string {
  switch (mode) {
    case 'fill':
      // A box of the input's size (w and h 0) filled with black.
      return 'drawbox=c=black:t=fill';
    case 'blur': {
      const w = Math.ceil(area.width / s.blurStep);
      const h = Math.ceil(area.height / s.blurStep);
      const r = Math.max(1, Math.round(s.blurRadius / s.blurStep));
      // boxblur mirrors the picture at its edges, which would blur a mask on the frame
      // edge half as much; a grey margin as wide as the blur reaches keeps it full strength.
      const margin = r * s.blurPower;
      const blur =
        `pad=${w + 2 * margin}:${h + 2 * margin}:${margin}:${margin}:color=gray,` +
        `boxblur=luma_radius=${r}:luma_power=${s.blurPower}:chroma_radius=${r}:chroma_power=${s.blurPower},` +
        `crop=${w}:${h}:${margin}:${margin}`;
      if (s.blurStep === 1) return blur;
      return `scale=${w}:${h}:flags=area,${blur},scale=${area.width}:${area.height}:flags=bilinear`;
    }
    case 'mosaic': {
      // Extend the area to whole blocks (repeating its last row and column), average each
      // block, blow it back up without interpolation and cut the area out again: every
      // block shows the mean of exactly the pixels it covers.
      const b = s.mosaicBlock;
      const [w, h] = [Math.ceil(area.width / b) * b, Math.ceil(area.height / b) * b];
      const extend =
        w === area.width && h === area.height
          ? ''
          : `pad=${w}:${h}:0:0,fillborders=right=${w - area.width}:bottom=${h - area.height}:mode=smear,`;
      return `${extend}scale=${w / b}:${h / b}:flags=area,scale=${w}:${h}:flags=neighbor,crop=${area.width}:${area.height}:0:0`;
    }
  }
}

/** The smallest box holding every covered pixel of `coverage`; null when nothing is covered. */
function coveredBox(coverage: Uint8Array, frame: { width: number; height: number }): Box | null {
  let [x0, y0, x1, y1] = [frame.width, frame.height, -1, -1];
  for (let row = 0; row < frame.height; row++) {
    const line = coverage.subarray(row * frame.width, (row + 1) * frame.width);
    const first = line.indexOf(255);
    if (first === -1) continue;
    x0 = Math.min(x0, first);
    x1 = Math.max(x1, line.lastIndexOf(255));
    y0 = Math.min(y0, row);
    y1 = row;
  }
  if (x1 < 0) return null;
  // Even corners: the box lands on whole chroma samples of the yuv420p picture it is laid over.
  const [x, y] = [x0 - (x0 % 2), y0 - (y0 % 2)];
  return { x, y, w: Math.min(frame.width, x1 + 1 + ((x1 + 1) % 2)) - x, h: Math.min(frame.height, y1 + 1 + ((y1 + 1) % 2)) - y };
}

/**
 * The area an effect must read to produce `box` exactly as it would on the whole frame:
 * the blur's reach around it, whole mosaic blocks of the frame's grid; clipped to the frame,
 * where the effect itself supplies the edge (grey margin, smeared blocks) as on the whole frame.
 */
function sourceArea(mode: MaskMode, box: Box, frame: { width: number; height: number }, s: EffectStrengths): Box {
  const clip = (x0: number, y0: number, x1: number, y1: number): Box => {
    const [x, y] = [Math.max(0, x0), Math.max(0, y0)];
    return { x, y, w: Math.min(frame.width, x1) - x, h: Math.min(frame.height, y1) - y };
  };
  if (mode === 'blur') {
    // Whole shrink steps from the box outwards, past the three passes' reach (and one step for the scaling back).
    const reach = (Math.ceil((s.blurRadius * s.blurPower) / s.blurStep) + 1) * s.blurStep;
    return clip(box.x - reach, box.y - reach, box.x + box.w + reach, box.y + box.h + reach);
  }
  if (mode === 'mosaic') {
    const b = s.mosaicBlock;
    const down = (v: number) => Math.floor(v / b) * b;
    const up = (v: number) => Math.ceil(v / b) * b;
    return clip(down(box.x), down(box.y), up(box.x + box.w), up(box.y + box.h));
  }
  return box;
}

/** The coverage image [input] (the box's size) as an alpha plane; any partial coverage counts as covered. */
function alphaFilter(input: number): string {
  return `[${input}:v]format=gray,lut=c0='if(gt(val,0),255,0)'`;
}

interface Layer {
  name: string;
  /** Where the layer is laid over the picture. */
  box: Box;
  /** Filters applied to a copy of the source: the area read, the effect, the box cut out. */
  effect: string;
  /** Filter chain, starting with its input label, producing this layer's alpha. */
  alpha: string;
}

/**
 * Cuts `area` out of the yuv420p source into yuv444p. `exact`: a mosaic block may start on
 * an odd pixel, and an odd-sized frame ends on one, where a plain yuv420p crop would round.
 */
function cutOut(area: Box): string {
  return `crop=${area.w}:${area.h}:${area.x}:${area.y}:exact=1,format=yuv444p`;
}

/**
 * The coverage images and filter graph that hide `masks` on frames of `frame`'s size
 * (the camera's resolution). Each mask is one layer over its own box: only that box, and
 * what the effect needs around it, is converted and worked on, so the cost follows the
 * masked area, not the frame. No masks: the video passes through.
 */
export function planMasks(masks: readonly Mask[], frame: { width: number; height: number }): MaskPlan {
  const strengths = effectStrengths(frame);
  const images: MaskPlan['images'] = [];
  const layers: Layer[] = [];
  for (const mode of MASK_MODES) {
    for (const mask of masks.filter((m) => m.mode === mode)) {
      const coverage = rasterizeMasks([mask], frame.width, frame.height);
      const box = coveredBox(coverage, frame);
      if (box === null) continue;
      const area = sourceArea(mode, box, frame, strengths);
      const cut = new Uint8Array(box.w * box.h);
      for (let row = 0; row < box.h; row++) {
        const from = (box.y + row) * frame.width + box.x;
        cut.set(coverage.subarray(from, from + box.w), row * box.w);
      }
      images.push({ mode, pgm: toPgm(cut, box.w, box.h) });
      layers.push({
        name: `${mode}${layers.length + 1}`,
        box,
        effect: [
          cutOut(area),
          effectFilter(mode, { width: area.w, height: area.h }, strengths),
          ...(area.w === box.w && area.h === box.h ? [] : [`crop=${box.w}:${box.h}:${box.x - area.x}:${box.y - area.y}`]),
          // Pinned: else the overlay's yuv420p is negotiated back up the chain, and crops
          // and blurs there would round odd offsets to whole chroma samples.
          'format=yuv444p',
        ].join(','),
        alpha: alphaFilter(images.length),
      });
    }
  }
  // A detection stage (faces, plates) joins here as more layers: its effect is one of the
  // above, its alpha a per-frame map from the detector instead of a looped image.
  // Appended last, they are drawn over the static masks, before the output format.
  return { images, filterComplex: composeLayers(layers, frame) };
}

/** Splits the source once per layer plus the base, then overlays each layer in turn. */
function composeLayers(layers: readonly Layer[], frame: { width: number; height: number }): string {
  if (layers.length === 0) return '[0:v]format=yuv420p[masked]';
  const copies = layers.map((l) => `[${l.name}_src]`).join('');
  // Should the camera change resolution mid-stream, its frames are scaled to the planned
  // size, where the masks still cover the same places; at the planned size this is a no-op.
  const parts = [`[0:v]scale=${frame.width}:${frame.height},format=yuv420p,split=${layers.length + 1}[base]${copies}`];
  let below = '[base]';
  layers.forEach((l, i) => {
    parts.push(`[${l.name}_src]${l.effect}[${l.name}_fx]`);
    parts.push(`${l.alpha}[${l.name}_alpha]`);
    // The alpha is the secondary input: should it ever be missing, the effect passes
    // opaque and hides the mask's whole box rather than none of it. `shortest` ends the
    // layer with the video; the looped image alone would keep repeating the last frame forever.
    parts.push(`[${l.name}_fx][${l.name}_alpha]alphamerge=shortest=1[${l.name}_layer]`);
    const last = i === layers.length - 1;
    const above = last ? '[masked]' : `[over${i + 1}]`;
    // Luma is blended per pixel with the full-resolution alpha; chroma, subsampled, at the
    // box's even corners.
    parts.push(`${below}[${l.name}_layer]overlay=x=${l.box.x}:y=${l.box.y}:format=yuv420${last ? ',format=yuv420p' : ''}${above}`);
    below = above;
  });
  return parts.join(';');
}

/** The live mask stream of a desensitized camera, as the filter graph reads it (see pipeline/liveMask.ts). */
export interface LiveMaskInput {
  /** Its input index: after the video and the static masks' images. */
  input: number;
  /** Size of the frames the static masks were planned on (the masked picture). */
  frame: { width: number; height: number };
  /** What a whole-frame hide looks like: black, or the blur over everything. */
  failMode: 'dark' | 'blur';
  /** Mask values at or above this hide the whole frame (failMode); above 0 they blur. */
  failThreshold: number;
}

/**
 * Adds the live mask over a planned graph: the picture with the static masks is blurred
 * whole, and that blur shows where the mask is not black; where it is at the fail value,
 * the frame is black instead (failMode 'dark'). The mask's alpha merge is its frame sync
 * with the video: each frame waits for a mask at or past its time and takes the last one
 * at or before it; when the mask stream ends, so does the output (never the video alone).
 */
export function withLiveMask(filterComplex: string, live: LiveMaskInput): string {
  const { width, height } = live.frame;
  const s = effectStrengths(live.frame);
  const graph = filterComplex.replace(/\[masked\]$/, '[static]');
  if (graph === filterComplex) throw new Error('the planned filter graph has no [masked] output');
  const blur = effectFilter('blur', live.frame, s);
  const parts = [
    graph,
    // The frame size the mask is scaled to, whatever the camera sends mid-stream.
    `[static]scale=${width}:${height},split=2[live_base][live_src]`,
    // The blur works in yuv444p like the static masks' blur: the same strength on every plane.
    `[live_src]format=yuv444p,${blur},format=yuv444p[live_fx]`,
    `[${live.input}:v]format=gray,scale=${width}:${height}:flags=neighbor${live.failMode === 'dark' ? ',split=2[live_m][live_m2]' : '[live_m]'}`,
    `[live_m]lut=c0='if(gt(val,0),255,0)'[live_alpha]`,
    `[live_fx][live_alpha]alphamerge=eof_action=endall[live_layer]`,
  ];
  if (live.failMode === 'blur') {
    parts.push(`[live_base][live_layer]overlay=format=yuv420:eof_action=endall,format=yuv420p[masked]`);
    return parts.join(';');
  }
  parts.push(
    `[live_base][live_layer]overlay=format=yuv420:eof_action=endall,format=yuv420p,split=2[dark_base][dark_src]`,
    `[dark_src]lutyuv=y=16:u=128:v=128,format=yuv444p[dark_fx]`,
    `[live_m2]lut=c0='if(gte(val,${live.failThreshold}),255,0)'[dark_alpha]`,
    `[dark_fx][dark_alpha]alphamerge=eof_action=endall[dark_layer]`,
    `[dark_base][dark_layer]overlay=format=yuv420:eof_action=endall,format=yuv420p[masked]`,
  );
  return parts.join(';');
}
