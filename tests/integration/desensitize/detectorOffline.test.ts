import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectorProcess, Tracker, detectionSize, iou, type Detection } from '../../../src/desensitize/index.js';
import { composeFacesScene, type ComposedScene } from '../../helpers/facesScene.js';
import { frameCoverage } from '../../helpers/faceCoverage.js';

/**
 * The detector and tracker on the composed faces scene, offline, every frame measured against
 * the ground truth: detections at DETECT_FPS on downscaled frames as the live grabber makes them,
 * the tracker's regions sampled at each frame's time. Two ways of using them are measured:
 *   live     a frame is masked with the detections known when it is shown undelayed: those of
 *            frames at least one detection interval older (the detector's time budget);
 *   delayed  the shared tier is delayed by one detection interval, so each frame lies between two
 *            detections and its boxes are interpolated (privacy before latency).
 * The figures are printed; docs/desensitization.md quotes them.
 */
const DETECT_FPS = 5;
const DETECT_WIDTH = 480;

describe('face detector and tracker on the composed scene', () => {
  let dir: string;
  let scene: ComposedScene;
  let gray: Buffer;
  let size: { width: number; height: number };
  const detections = new Map<number, Detection[]>();
  const cpuMs: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psvgw-faces-'));
    scene = await composeFacesScene({ dir });
    size = detectionSize(scene.width, scene.height, DETECT_WIDTH);
    const out = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-i', scene.videoPath, '-vf', `scale=${size.width}:${size.height}:flags=area,format=gray`, '-f', 'rawvideo', '-'],
      { maxBuffer: 512 * 1024 * 1024 },
    );
    expect(out.status, out.stderr?.toString()).toBe(0);
    gray = out.stdout;
    const detector = new DetectorProcess();
    try {
      const step = scene.fps / DETECT_FPS;
      const frameBytes = size.width * size.height;
      const sx = scene.width / size.width;
      const sy = scene.height / size.height;
      for (let i = 0; i < scene.truth.length; i += step) {
        const pixels = new Uint8Array(gray.buffer, gray.byteOffset + i * frameBytes, frameBytes);
        const r = await detector.detect({ ...size, pixels }, { faces: true, plates: false });
        cpuMs.push(r.cpuMs);
        detections.set(
          i,
          r.detections.map((d) => ({ ...d, x: d.x * sx, y: d.y * sy, width: d.width * sx, height: d.height * sy })),
        );
      }
    } finally {
      await detector.close();
    }
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds each face on most detection frames', () => {
    const hits = { astronaut: 0, cameraman: 0 };
    let falsePositives = 0;
    for (const [i, dets] of detections) {
      for (const b of scene.truth[i]!) if (dets.some((d) => iou(b, d) >= 0.3)) hits[b.id]++;
      falsePositives += dets.filter((d) => scene.truth[i]!.every((b) => iou(b, d) < 0.1)).length;
    }
    const n = detections.size;
    const sorted = [...cpuMs].sort((a, b) => a - b);
    console.log(
      `detector recall on ${n} detection frames (${size.width}x${size.height}): astronaut ${(hits.astronaut / n).toFixed(3)}, ` +
        `cameraman (profile) ${(hits.cameraman / n).toFixed(3)}; false positives ${(falsePositives / n).toFixed(3)}/frame; ` +
        `CPU ms/frame p50 ${sorted[Math.floor(n / 2)]?.toFixed(1)} p95 ${sorted[Math.floor(n * 0.95)]?.toFixed(1)}`,
    );
    expect(hits.astronaut / n).toBeGreaterThanOrEqual(0.95);
    expect(hits.cameraman / n).toBeGreaterThanOrEqual(0.8);
  });

  it("cuts each box to the face by its cascade's proportions", () => {
    // The profile cascade's box is about twice the cameraman's face wide; cut, it is close to the face.
    const ratios = { astronaut: [] as number[], cameraman: [] as number[] };
    for (const [i, dets] of detections) {
      for (const b of scene.truth[i]!) {
        const d = dets.find((x) => iou(b, x) >= 0.3);
        if (d) ratios[b.id].push((d.width * d.height) / (b.width * b.height));
      }
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    console.log(`box area / face area: astronaut ${mean(ratios.astronaut).toFixed(2)}, cameraman ${mean(ratios.cameraman).toFixed(2)}`);
    expect(mean(ratios.astronaut)).toBeLessThanOrEqual(1.35);
    expect(mean(ratios.cameraman)).toBeLessThanOrEqual(2);
  });

  for (const mode of ['live', 'delayed'] as const) {
    it(`keeps the faces covered between detections (${mode})`, () => {
      const frameMs = 1000 / scene.fps;
      const intervalMs = 1000 / DETECT_FPS;
      const tracker = new Tracker({ frameWidth: scene.width, frameHeight: scene.height });
      const detFrames = [...detections.keys()].sort((a, b) => a - b);
      let next = 0;
      const rows: string[] = [];
      let worstShare = 1;
      let outsideSum = 0;
      let counted = 0;
      let coveredFrames = 0;
      let areaSum = 0;
      for (const seg of scene.segments) {
        const firstSeen = new Map<string, number>();
        let segFrames = 0;
        let segCovered = 0;
        let segArea = 0;
        let segOutside = 0;
        let segMin = 1;
        for (let i = seg.firstFrame; i < seg.firstFrame + seg.frames; i++) {
          const t = i * frameMs;
          // Live: a detection is usable one interval after its frame; delayed: the tier lags one interval.
          const horizon = mode === 'live' ? t - intervalMs : t + intervalMs;
          while (next < detFrames.length && detFrames[next]! * frameMs <= horizon + 1e-6) {
            const j = detFrames[next++]!;
            tracker.update(j * frameMs, detections.get(j)!);
            for (const b of scene.truth[j]!) {
              if (j >= seg.firstFrame && !firstSeen.has(b.id) && detections.get(j)!.some((d) => iou(b, d) >= 0.3)) firstSeen.set(b.id, j);
            }
          }
          const cov = frameCoverage(scene.width, scene.height, tracker.regionsAt(t), scene.truth[i]!);
          segOutside += cov.outsideShare;
          outsideSum += cov.outsideShare;
          scene.truth[i]!.forEach((b, k) => {
            const seen = firstSeen.get(b.id);
            if (seen === undefined || i < seen) return;
            const share = cov.faces[k]!;
            segFrames++;
            segArea += share;
            segMin = Math.min(segMin, share);
            if (share >= 0.95) segCovered++;
          });
        }
        counted += segFrames;
        coveredFrames += segCovered;
        areaSum += segArea;
        worstShare = Math.min(worstShare, segMin);
        rows.push(
          `  ${String(seg.speedPxPerS).padStart(3)} px/s, faces ${Math.round(seg.faceHeightShare * 100)}% high: ` +
            `${segFrames ? ((100 * segCovered) / segFrames).toFixed(1) : '-'}% of face-frames >= 95% covered, ` +
            `mean area ${segFrames ? ((100 * segArea) / segFrames).toFixed(1) : '-'}%, worst ${(100 * segMin).toFixed(1)}%, ` +
            `outside faces ${((100 * segOutside) / seg.frames).toFixed(2)}%`,
        );
      }
      const frames = scene.truth.length;
      console.log(
        `coverage (${mode}, detections at ${DETECT_FPS}/s on ${size.width}x${size.height}): ` +
          `${((100 * coveredFrames) / counted).toFixed(2)}% of face-frames >= 95% covered, mean area ${((100 * areaSum) / counted).toFixed(2)}%, ` +
          `worst ${(100 * worstShare).toFixed(1)}%, outside faces ${((100 * outsideSum) / frames).toFixed(2)}% of the frame on average\n` +
          rows.join('\n'),
      );
      expect(counted).toBeGreaterThan(0);
      // What this detector and tracker reach (the goal is 100% of face-frames and <= 5% outside faces).
      if (mode === 'delayed') {
        expect(coveredFrames / counted).toBeGreaterThanOrEqual(0.995);
        expect(areaSum / counted).toBeGreaterThanOrEqual(0.995);
        // 3.24% measured since a track succeeded by a new one at a cut is no longer shown past it (5.24% before;
        // 5.86% before the boxes were cut by their cascade's proportions).
        expect(outsideSum / frames).toBeLessThanOrEqual(0.035);
      } else {
        expect(coveredFrames / counted).toBeGreaterThanOrEqual(0.95);
        // 9.99% measured with succeeded tracks ended at the cut (11.26% before; 10.79% before the cut boxes, with the
        // slower age growth that went with them).
        expect(outsideSum / frames).toBeLessThanOrEqual(0.105);
      }
    });
  }
});
