import type { HiddenRegion } from '../../src/desensitize/index.js';
import type { TruthBox } from './facesScene.js';

/** How well one frame's hidden regions cover its ground-truth faces. */
export interface FrameCoverage {
  /** Share of each face's area inside some region, in truth order. */
  faces: number[];
  /** Share of the frame hidden outside every face. */
  outsideShare: number;
}

export function frameCoverage(width: number, height: number, regions: readonly HiddenRegion[], truth: readonly TruthBox[]): FrameCoverage {
  const hidden = new Uint8Array(width * height);
  for (const r of regions) {
    const x1 = Math.min(width, r.x + r.width);
    const y1 = Math.min(height, r.y + r.height);
    for (let y = Math.max(0, r.y); y < y1; y++) hidden.fill(1, y * width + Math.max(0, r.x), y * width + x1);
  }
  const face = new Uint8Array(width * height);
  const faces = truth.map((b) => {
    let covered = 0;
    const x1 = Math.min(width, b.x + b.width);
    const y1 = Math.min(height, b.y + b.height);
    for (let y = Math.max(0, b.y); y < y1; y++) {
      for (let x = Math.max(0, b.x); x < x1; x++) {
        face[y * width + x] = 1;
        covered += hidden[y * width + x]!;
      }
    }
    return covered / (b.width * b.height);
  });
  let outside = 0;
  for (let i = 0; i < hidden.length; i++) if (hidden[i] && !face[i]) outside++;
  return { faces, outsideShare: outside / (width * height) };
}
