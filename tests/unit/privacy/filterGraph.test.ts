import { describe, expect, it } from 'vitest';
import { effectStrengths, planMasks } from '../../../src/privacy/filterGraph.js';
import type { Mask, MaskMode } from '../../../src/domain/index.js';
import { rasterizeMasks } from '../../../src/privacy/rasterize.js';

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

  it('one mask: its box and the blur around it cut out, blurred in yuv444p, laid over at the box', () => {
    const plan = planMasks([rect('blur')], frame);
    expect(plan.images.map((i) => i.mode)).toEqual(['blur']);
    const g = plan.filterComplex;
    expectWellFormed(g, 1);
    expect(g.startsWith('[0:v]scale=640:360,format=yuv420p,split=2[base][blur1_src];')).toBe(true);
    // The rect covers pixels 63..192 x 35..108 (grown by one pixel): box 62,34 132x76 on even corners.
    // The blur reads 112 pixels around it (three passes of radius 36, in whole 4x shrink steps),
    // clipped to the frame; shrunk 4x, grey margin, blurred, scaled back, cut to the box.
    expect(g).toContain(
      '[blur1_src]crop=306:222:0:0:exact=1,format=yuv444p,scale=77:56:flags=area,pad=131:110:27:27:color=gray,' +
        'boxblur=luma_radius=9:luma_power=3:chroma_radius=9:chroma_power=3,crop=77:56:27:27,scale=306:222:flags=bilinear,' +
        'crop=132:76:62:34,format=yuv444p[blur1_fx]',
    );
    expect(g).toContain("[1:v]format=gray,lut=c0='if(gt(val,0),255,0)'[blur1_alpha]");
    expect(g).toContain('[blur1_fx][blur1_alpha]alphamerge=shortest=1[blur1_layer]');
    expect(g.endsWith('[base][blur1_layer]overlay=x=62:y=34:format=yuv420,format=yuv420p[masked]')).toBe(true);
    expect(g).not.toContain('[2:v]');
  });

  it('mosaic blocks stay on the frame grid: the area read starts and ends on whole 27-pixel blocks', () => {
    const g = planMasks([rect('mosaic')], frame).filterComplex;
    // Box 62..194 x 34..110 → blocks 54..216 x 27..135.
    expect(g).toContain(
      '[mosaic1_src]crop=162:108:54:27:exact=1,format=yuv444p,scale=6:4:flags=area,scale=162:108:flags=neighbor,' +
        'crop=162:108:0:0,crop=132:76:8:7,format=yuv444p[mosaic1_fx]',
    );
  });

  it('one image and one layer per mask, fill then blur then mosaic, each image feeding its own layer', () => {
    const plan = planMasks([rect('mosaic'), rect('blur', 0.4), triangle('fill'), rect('blur', 0.7)], frame);
    expect(plan.images.map((i) => i.mode)).toEqual(['fill', 'blur', 'blur', 'mosaic']);
    const g = plan.filterComplex;
    expectWellFormed(g, 4);
    expect(g).toContain('split=5[base][fill1_src][blur2_src][blur3_src][mosaic4_src]');
    const overlays = segments(g).filter((s) => s.body.startsWith('overlay'));
    expect(overlays.map((s) => [...s.inputs, '→', ...s.outputs])).toEqual([
      ['base', 'fill1_layer', '→', 'over1'],
      ['over1', 'blur2_layer', '→', 'over2'],
      ['over2', 'blur3_layer', '→', 'over3'],
      ['over3', 'mosaic4_layer', '→', 'masked'],
    ]);
    const alphaOf = (input: string) => segments(g).find((s) => s.inputs[0] === input)?.outputs[0];
    expect(['1:v', '2:v', '3:v', '4:v'].map(alphaOf)).toEqual(['fill1_alpha', 'blur2_alpha', 'blur3_alpha', 'mosaic4_alpha']);
    // A fill reads nothing around its box: no crop back.
    expect(g).toContain('[fill1_src]crop=260:148:318:178:exact=1,format=yuv444p,drawbox=c=black:t=fill,format=yuv444p[fill1_fx]');
    expect(g.match(/\[masked\]/g)).toHaveLength(1);
  });

  it("each image is its own mask's coverage, cut to the box the layer is laid at", () => {
    const size = { width: 641, height: 361 };
    const masks = [rect('mosaic'), rect('blur', 0.4), triangle('fill'), rect('fill', 0.7)];
    const plan = planMasks(masks, size);
    const layered = [masks[2]!, masks[3]!, masks[1]!, masks[0]!];
    const overlays = segments(plan.filterComplex).filter((s) => s.body.startsWith('overlay'));
    plan.images.forEach((image, i) => {
      const { width, height, pixels } = pgmPixels(image.pgm);
      const [, x, y] = /overlay=x=(\d+):y=(\d+)/.exec(overlays[i]!.body)!.map(Number);
      expect([x! % 2, y! % 2]).toEqual([0, 0]);
      const whole = rasterizeMasks([layered[i]!], size.width, size.height);
      let outside = 0;
      whole.forEach((v, p) => {
        const [col, row] = [p % size.width, Math.floor(p / size.width)];
        const inBox = col >= x! && col < x! + width && row >= y! && row < y! + height;
        if (inBox) expect(pixels[(row - y!) * width + (col - x!)]).toBe(v);
        else if (v !== 0) outside++;
      });
      expect(outside, 'covered pixels left outside the box').toBe(0);
      expect(pixels.some((v) => v === 255)).toBe(true);
    });
  });

  it('leaves out the steps a frame size does not need', () => {
    const small = planMasks([rect('blur')], { width: 176, height: 144 }).filterComplex;
    expect(small).toContain('format=yuv444p,pad=181:171:42:42:color=gray,boxblur=luma_radius=14:luma_power=3');
    expect(small).not.toContain('flags=area');
  });

  it('clips boxes and areas at the edges of an odd frame, where the effect supplies the edge', () => {
    const g = planMasks([{ shape: 'rect', x: 0.7, y: 0.7, w: 0.3, h: 0.3, mode: 'mosaic' }], { width: 641, height: 361 }).filterComplex;
    // Blocks from 432,243 to the frame's end (209x118): extended by smearing to whole blocks, as on the whole frame.
    expect(g).toContain(
      'crop=209:118:432:243:exact=1,format=yuv444p,pad=216:135:0:0,fillborders=right=7:bottom=17:mode=smear,' +
        'scale=8:5:flags=area,scale=216:135:flags=neighbor,crop=209:118:0:0,crop=193:109:16:9,format=yuv444p',
    );
    expect(g).toMatch(/overlay=x=448:y=252:format=yuv420,format=yuv420p\[masked\]$/);
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
