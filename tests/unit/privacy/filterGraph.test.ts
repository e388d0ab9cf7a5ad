import { describe, expect, it } from 'vitest';
import { effectStrengths, planMasks } from '../../../src/privacy/filterGraph.js';
import type { Mask, MaskMode } from '../../../src/domain/index.js';
import { rasterizeMasks, toPgm } from '../../../src/privacy/rasterize.js';

const frame = { width: 640, height: 360 };
const rect = (mode: MaskMode, x = 0.1): Mask => ({ shape: 'rect', x, y: 0.1, w: 0.2, h: 0.2, mode });
const triangle = (mode: MaskMode): Mask => ({
  shape: 'polygon',
  points: [
    [0.5, 0.5],
    [0.9, 0.5],
    [0.7, 0.9],
  ],
  mode,
});

/** Every label a graph segment reads or writes, e.g. "[a][b]overlay[c]" → in [a, b], out [c]. */
function segments(graph: string): Array<{ inputs: string[]; outputs: string[]; body: string }> {
  return graph.split(';').map((seg) => {
    const head = /^(\[[^\]]+\])+/.exec(seg)?.[0] ?? '';
    const tail = /(\[[^\]]+\])+$/.exec(seg)?.[0] ?? '';
    const labels = (s: string) => [...s.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!);
    return { inputs: labels(head), outputs: labels(tail), body: seg.slice(head.length, seg.length - tail.length) };
  });
}

/** Checks the graph is wired: each label made once and read once, inputs [0:v]…[n:v] read once, [masked] left over. */
function expectWellFormed(graph: string, imageCount: number): void {
  const segs = segments(graph);
  const made = segs.flatMap((s) => s.outputs);
  const read = segs.flatMap((s) => s.inputs);
  expect(new Set(made).size).toBe(made.length);
  expect(new Set(read).size).toBe(read.length);
  const streams = Array.from({ length: imageCount + 1 }, (_, i) => `${i}:v`);
  expect(read.filter((l) => /^\d+:v$/.test(l)).sort()).toEqual(streams.sort());
  expect(made.filter((l) => !read.includes(l))).toEqual(['masked']);
  expect(read.filter((l) => !/^\d+:v$/.test(l) && !made.includes(l))).toEqual([]);
}

function pgmPixels(pgm: Buffer): { width: number; height: number; pixels: Uint8Array } {
  const header = /^P5\n(\d+) (\d+)\n255\n/.exec(pgm.subarray(0, 32).toString('ascii'));
  expect(header).not.toBeNull();
  const [text, w, h] = header!;
  return { width: Number(w), height: Number(h), pixels: new Uint8Array(pgm.subarray(text.length)) };
}

describe('planMasks', () => {
  it('passes the frame through when there are no masks', () => {
    expect(planMasks([], frame)).toEqual({ images: [], filterComplex: '[0:v]format=yuv420p[masked]' });
  });

  it('one mode: one image, the source split in two, one overlay', () => {
    const plan = planMasks([rect('blur'), triangle('blur')], frame);
    expect(plan.images.map((i) => i.mode)).toEqual(['blur']);
    const g = plan.filterComplex;
    expectWellFormed(g, 1);
    expect(g.startsWith('[0:v]scale=640:360,format=yuv444p,split=2[base][blur_src];')).toBe(true);
    // Shrunk 4x, a grey margin as wide as the blur reaches (9 x 3), blurred, cut out, scaled back.
    expect(g).toContain(
      '[blur_src]scale=160:90:flags=area,pad=214:144:27:27:color=gray,' +
        'boxblur=luma_radius=9:luma_power=3:chroma_radius=9:chroma_power=3,crop=160:90:27:27,scale=640:360:flags=bilinear[blur_fx]',
    );
    expect(g).toContain("[1:v]format=gray,scale=640:360:flags=bilinear,lut=c0='if(gt(val,0),255,0)'[blur_alpha]");
    expect(g).toContain('[blur_fx][blur_alpha]alphamerge=shortest=1[blur_layer]');
    expect(g.endsWith('[base][blur_layer]overlay=format=yuv444,format=yuv420p[masked]')).toBe(true);
    expect(g).not.toContain('[2:v]');
  });

  it('two modes: images in mode order, [1:v] and [2:v] feeding their own layers', () => {
    const plan = planMasks([rect('mosaic'), triangle('fill')], frame);
    expect(plan.images.map((i) => i.mode)).toEqual(['fill', 'mosaic']);
    const g = plan.filterComplex;
    expectWellFormed(g, 2);
    expect(g).toContain('split=3[base][fill_src][mosaic_src]');
    expect(g).toContain('[fill_src]drawbox=c=black:t=fill[fill_fx]');
    // 27-pixel blocks: extended to 24 x 14 whole blocks, averaged, blown up, cut back.
    expect(g).toContain(
      '[mosaic_src]pad=648:378:0:0,fillborders=right=8:bottom=18:mode=smear,' +
        'scale=24:14:flags=area,scale=648:378:flags=neighbor,crop=640:360:0:0[mosaic_fx]',
    );
    expect(g).toContain('[1:v]format=gray');
    expect(g.indexOf('[1:v]')).toBeLessThan(g.indexOf('[fill_alpha]'));
    expect(segments(g).find((s) => s.inputs[0] === '2:v')?.outputs).toEqual(['mosaic_alpha']);
    expect(segments(g).find((s) => s.inputs[0] === '1:v')?.outputs).toEqual(['fill_alpha']);
    expect(g).toContain('[base][fill_layer]overlay=format=yuv444[over1]');
    expect(g.endsWith('[over1][mosaic_layer]overlay=format=yuv444,format=yuv420p[masked]')).toBe(true);
  });

  it('three modes: fill, blur, mosaic stacked in that order', () => {
    const plan = planMasks([rect('mosaic'), rect('blur', 0.4), triangle('fill')], frame);
    expect(plan.images.map((i) => i.mode)).toEqual(['fill', 'blur', 'mosaic']);
    const g = plan.filterComplex;
    expectWellFormed(g, 3);
    expect(g).toContain('split=4[base][fill_src][blur_src][mosaic_src]');
    const overlays = segments(g).filter((s) => s.body.startsWith('overlay'));
    expect(overlays.map((s) => [...s.inputs, '→', ...s.outputs])).toEqual([
      ['base', 'fill_layer', '→', 'over1'],
      ['over1', 'blur_layer', '→', 'over2'],
      ['over2', 'mosaic_layer', '→', 'masked'],
    ]);
    const alphaOf = (input: string) => segments(g).find((s) => s.inputs[0] === input)?.outputs[0];
    expect(['1:v', '2:v', '3:v'].map(alphaOf)).toEqual(['fill_alpha', 'blur_alpha', 'mosaic_alpha']);
    expect(g.match(/\[masked\]/g)).toHaveLength(1);
  });

  it("each image covers exactly its own mode's masks", () => {
    const masks = [rect('mosaic'), rect('blur', 0.4), triangle('fill'), rect('fill', 0.7)];
    const plan = planMasks(masks, { width: 641, height: 361 });
    for (const image of plan.images) {
      const { width, height, pixels } = pgmPixels(image.pgm);
      expect([width, height]).toEqual([641, 361]);
      const own = masks.filter((m) => m.mode === image.mode);
      expect(image.pgm.equals(toPgm(rasterizeMasks(own, 641, 361), 641, 361))).toBe(true);
      expect(pixels.some((v) => v === 255)).toBe(true);
    }
  });

  it('leaves out the steps a frame size does not need', () => {
    const small = planMasks([rect('blur')], { width: 176, height: 144 }).filterComplex;
    expect(small).toContain('[blur_src]pad=260:228:42:42:color=gray,boxblur=luma_radius=14:luma_power=3');
    expect(small).not.toContain('flags=area');
    const whole = planMasks([rect('mosaic')], { width: 648, height: 378 }).filterComplex;
    expect(whole).toContain('[mosaic_src]scale=24:14:flags=area,scale=648:378:flags=neighbor,crop=648:378:0:0[mosaic_fx]');
  });

  it('sizes every stage for an odd frame', () => {
    const g = planMasks([rect('fill'), rect('blur', 0.4), triangle('mosaic')], { width: 641, height: 361 }).filterComplex;
    expect(g).toContain('scale=641:361:flags=bilinear,lut');
    expect(g).toContain('scale=161:91:flags=area,pad=215:145:27:27:color=gray,boxblur=luma_radius=9');
    expect(g).toContain('crop=161:91:27:27,scale=641:361:flags=bilinear[blur_fx]');
    expect(g).toContain(
      'pad=648:378:0:0,fillborders=right=7:bottom=17:mode=smear,scale=24:14:flags=area,scale=648:378:flags=neighbor,crop=641:361:0:0',
    );
    expect(g).toMatch(/format=yuv420p\[masked\]$/);
  });
});

describe('effectStrengths', () => {
  it.each([
    [
      { width: 640, height: 360 },
      { blurRadius: 36, blurPower: 3, blurStep: 4, mosaicBlock: 27 },
    ],
    [
      { width: 641, height: 361 },
      { blurRadius: 36, blurPower: 3, blurStep: 4, mosaicBlock: 27 },
    ],
    [
      { width: 1280, height: 720 },
      { blurRadius: 72, blurPower: 3, blurStep: 9, mosaicBlock: 53 },
    ],
    [
      { width: 1920, height: 1080 },
      { blurRadius: 108, blurPower: 3, blurStep: 13, mosaicBlock: 80 },
    ],
    [
      { width: 3840, height: 2160 },
      { blurRadius: 216, blurPower: 3, blurStep: 27, mosaicBlock: 160 },
    ],
    [
      { width: 176, height: 144 },
      { blurRadius: 14, blurPower: 3, blurStep: 1, mosaicBlock: 8 },
    ],
  ])('scales with the frame: %o', (size, expected) => {
    expect(effectStrengths(size)).toEqual(expected);
  });

  it.each([
    [1920, 1080],
    [641, 361],
    [176, 144],
    [33, 17],
  ])('keeps the boxblur radius within what ffmpeg accepts at %ix%i', (width, height) => {
    const g = planMasks([rect('blur')], { width, height }).filterComplex;
    const radius = Number(/luma_radius=(\d+)/.exec(g)?.[1]);
    const [, w, h] = /pad=(\d+):(\d+):\d+:\d+:color=gray,boxblur/.exec(g)!;
    expect(radius).toBeGreaterThanOrEqual(1);
    expect(2 * radius).toBeLessThanOrEqual(Math.min(Number(w), Number(h)));
  });
});
