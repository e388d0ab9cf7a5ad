/**
 * Builds the ffmpeg filter graph that hides a camera's masks. Each mode in use is one
 * layer: the whole frame run through that mode's effect, made visible only where the
 * mode's coverage image is white, and laid over the picture. Work is done in yuv444p so
 * odd frame sizes need no chroma rounding and alpha edges are exact per pixel. No I/O here.
 */
import { MASK_MODES, type Mask, type MaskMode } from '../domain/index.js';
import { rasterizeMasks, toPgm } from './rasterize.js';

export interface MaskPlan {
  /** Grayscale PGM images, one per mode in use; the pipeline writes them to files and passes each as a looped image input (`-loop 1 -framerate <fps> -i file.pgm`) after the video input, in this order. */
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

/** The effect a mode applies to the whole frame (yuv444p in, yuv444p out). */
function effectFilter(mode: MaskMode, frame: { width: number; height: number }): string {
  const s = effectStrengths(frame);
  switch (mode) {
    case 'fill':
      // A box of the input's size (w and h 0) filled with black.
      return 'drawbox=c=black:t=fill';
    case 'blur': {
      const w = Math.ceil(frame.width / s.blurStep);
      const h = Math.ceil(frame.height / s.blurStep);
      const r = Math.max(1, Math.round(s.blurRadius / s.blurStep));
      // boxblur mirrors the picture at its edges, which would blur a mask on the frame
      // edge half as much; a grey margin as wide as the blur reaches keeps it full strength.
      const margin = r * s.blurPower;
      const blur =
        `pad=${w + 2 * margin}:${h + 2 * margin}:${margin}:${margin}:color=gray,` +
        `boxblur=luma_radius=${r}:luma_power=${s.blurPower}:chroma_radius=${r}:chroma_power=${s.blurPower},` +
        `crop=${w}:${h}:${margin}:${margin}`;
      if (s.blurStep === 1) return blur;
      return `scale=${w}:${h}:flags=area,${blur},scale=${frame.width}:${frame.height}:flags=bilinear`;
    }
    case 'mosaic': {
      // Extend the frame to whole blocks (repeating its last row and column), average each
      // block, blow it back up without interpolation and cut the frame out again: every
      // block shows the mean of exactly the pixels it covers.
      const b = s.mosaicBlock;
      const [w, h] = [Math.ceil(frame.width / b) * b, Math.ceil(frame.height / b) * b];
      const extend =
        w === frame.width && h === frame.height
          ? ''
          : `pad=${w}:${h}:0:0,fillborders=right=${w - frame.width}:bottom=${h - frame.height}:mode=smear,`;
      return `${extend}scale=${w / b}:${h / b}:flags=area,scale=${w}:${h}:flags=neighbor,crop=${frame.width}:${frame.height}:0:0`;
    }
  }
}

/** Coverage image [input] as an alpha plane of the frame's size; any partial coverage left by scaling counts as covered. */
function alphaFilter(input: number, frame: { width: number; height: number }): string {
  return `[${input}:v]format=gray,scale=${frame.width}:${frame.height}:flags=bilinear,lut=c0='if(gt(val,0),255,0)'`;
}

interface Layer {
  name: string;
  /** Filters applied to a copy of the source. */
  effect: string;
  /** Filter chain, starting with its input label, producing this layer's alpha. */
  alpha: string;
}

/**
 * The coverage images and filter graph that hide `masks` on frames of `frame`'s size
 * (the camera's resolution). No masks: the video passes through.
 */
export function planMasks(masks: readonly Mask[], frame: { width: number; height: number }): MaskPlan {
  const modes = MASK_MODES.filter((mode) => masks.some((m) => m.mode === mode));
  const images = modes.map((mode) => {
    const own = masks.filter((m) => m.mode === mode);
    return { mode, pgm: toPgm(rasterizeMasks(own, frame.width, frame.height), frame.width, frame.height) };
  });
  const layers: Layer[] = modes.map((mode, i) => ({ name: mode, effect: effectFilter(mode, frame), alpha: alphaFilter(i + 1, frame) }));
  // A detection stage (faces, plates) joins here as one more layer: its effect is one of
  // the above, its alpha a per-frame map from the detector instead of a looped image.
  // Appended last, it is drawn over the static masks, before the output format.
  return { images, filterComplex: composeLayers(layers, frame) };
}

/** Splits the source once per layer plus the base, then overlays each layer in turn. */
function composeLayers(layers: readonly Layer[], frame: { width: number; height: number }): string {
  if (layers.length === 0) return '[0:v]format=yuv420p[masked]';
  const copies = layers.map((l) => `[${l.name}_src]`).join('');
  // Should the camera change resolution mid-stream, its frames are scaled to the planned
  // size, where the masks still cover the same places; at the planned size this is a no-op.
  const parts = [`[0:v]scale=${frame.width}:${frame.height},format=yuv444p,split=${layers.length + 1}[base]${copies}`];
  let below = '[base]';
  layers.forEach((l, i) => {
    parts.push(`[${l.name}_src]${l.effect}[${l.name}_fx]`);
    parts.push(`${l.alpha}[${l.name}_alpha]`);
    // The alpha is the secondary input: should it ever be missing, the effect passes
    // opaque and hides the whole frame rather than none of it. `shortest` ends the layer
    // with the video; the looped image alone would keep repeating the last frame forever.
    parts.push(`[${l.name}_fx][${l.name}_alpha]alphamerge=shortest=1[${l.name}_layer]`);
    const last = i === layers.length - 1;
    const above = last ? '[masked]' : `[over${i + 1}]`;
    parts.push(`${below}[${l.name}_layer]overlay=format=yuv444${last ? ',format=yuv420p' : ''}${above}`);
    below = above;
  });
  return parts.join(';');
}
