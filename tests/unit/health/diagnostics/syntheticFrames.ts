import type { GrayFrame } from '../../../../src/health/diagnostics/features.js';

export const W = 160;
export const H = 90;

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

function frame(value: (x: number, y: number) => number): GrayFrame {
  const pixels = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) pixels[y * W + x] = clamp(value(x, y));
  return { width: W, height: H, pixels };
}

/** A detailed still view (rings and bars) with a small bright square moving along the bottom at time t. */
export function scene(t = 0): GrayFrame {
  const mx = (t * 7) % (W - 12);
  return frame((x, y) => {
    if (y >= H - 14 && y < H - 4 && x >= mx && x < mx + 10) return 250;
    const r = Math.hypot(x - W / 2, y - H / 2);
    return 128 + 70 * Math.sin(r / 1.1) + (x < W / 4 ? 40 : -20);
  });
}

/** Another view: diagonal stripes, bright on the left half. */
export function otherScene(t = 0): GrayFrame {
  const mx = (t * 7) % (W - 12);
  return frame((x, y) => {
    if (y < 10 && x >= mx && x < mx + 10) return 0;
    return 120 + 80 * Math.sign(Math.sin((x + 2 * y) / 5)) * (x < W / 2 ? 1 : 0.4) + (y > H / 2 ? 30 : -30);
  });
}

export const uniform = (v: number): GrayFrame => frame(() => v);

/** A box blur of radius r, applied `passes` times: a lens out of focus. */
export function blurred(src: GrayFrame, r = 3, passes = 2): GrayFrame {
  let cur = src.pixels;
  for (let p = 0; p < passes; p++) {
    const out = new Uint8Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        let sum = 0;
        let n = 0;
        for (let dy = -r; dy <= r; dy++)
          for (let dx = -r; dx <= r; dx++) {
            const xx = x + dx;
            const yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
            sum += cur[yy * W + xx] as number;
            n++;
          }
        out[y * W + x] = Math.round(sum / n);
      }
    cur = out;
  }
  return { width: W, height: H, pixels: cur };
}

/** Gain and offset: a darker exposure of the same picture. */
export function exposed(src: GrayFrame, gain: number, offset = 0): GrayFrame {
  return { width: W, height: H, pixels: src.pixels.map((v) => clamp(v * gain + offset)) };
}
