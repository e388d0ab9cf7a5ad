import { describe, expect, it } from 'vitest';
import { Tracker, mergeOverlapping, type Detection, type HiddenRegion } from '../../../src/desensitize/index.js';

const W = 640;
const H = 360;
const face = (x: number, y: number, size = 60): Detection => ({ x, y, width: size, height: size, kind: 'face' });
const center = (r: HiddenRegion) => ({ x: r.x + r.width / 2, y: r.y + r.height / 2 });
const contains = (r: HiddenRegion, d: Detection) =>
  r.x <= d.x && r.y <= d.y && r.x + r.width >= d.x + d.width && r.y + r.height >= d.y + d.height;

describe('Tracker', () => {
  it('grows a still box by the base margin and keeps it inside the frame', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H, baseMargin: 0.1 });
    t.update(0, [face(100, 100)]);
    const [r] = t.regionsAt(0);
    expect(r).toEqual({ x: 94, y: 94, width: 72, height: 72, kind: 'face' });
    t.update(200, [face(0, 320)]);
    for (const region of t.regionsAt(200)) {
      expect(region.x).toBeGreaterThanOrEqual(0);
      expect(region.y + region.height).toBeLessThanOrEqual(H);
    }
  });

  it('predicts a moving face with its velocity (constant-velocity extrapolation)', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    // 200 px/s to the right: 40 px per 200 ms.
    t.update(0, [face(100, 100)]);
    t.update(200, [face(140, 100)]);
    t.update(400, [face(180, 100)]);
    expect(t.size).toBe(1);
    const [r] = t.regionsAt(500);
    expect(center(r!).x).toBeCloseTo(180 + 30 + 20, 0);
    expect(contains(r!, face(200, 100))).toBe(true);
  });

  it('interpolates between two sightings when the asked time lies between them', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(100, 100)]);
    t.update(200, [face(140, 100)]);
    const [r] = t.regionsAt(100);
    expect(center(r!).x).toBeCloseTo(150, 0);
    expect(contains(r!, face(120, 100))).toBe(true);
  });

  it('widens the margin with speed and with the time since the last sighting', () => {
    const still = new Tracker({ frameWidth: W, frameHeight: H });
    still.update(0, [face(100, 100)]);
    still.update(200, [face(100, 100)]);
    const fast = new Tracker({ frameWidth: W, frameHeight: H });
    fast.update(0, [face(60, 100)]);
    fast.update(200, [face(100, 100)]);
    const w = (tr: Tracker, at: number) => tr.regionsAt(at)[0]!.width;
    expect(w(fast, 300)).toBeGreaterThan(w(still, 300));
    expect(w(still, 600)).toBeGreaterThan(w(still, 300));
    expect(w(still, 300)).toBeGreaterThan(w(still, 200));
  });

  it('covers a track seen only once generously, its speed being unknown', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H, unknownSpeedWidthsPerS: 0.3 });
    t.update(0, [face(300, 100)]);
    const [r] = t.regionsAt(200);
    // 0.3 widths/s for 200 ms: 38 px either way.
    expect(contains(r!, face(338, 100))).toBe(true);
    expect(contains(r!, face(262, 100))).toBe(true);
  });

  it('matches by IoU: two faces keep two tracks, a new face starts a third', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(50, 50), face(400, 200)]);
    t.update(200, [face(60, 50), face(390, 200)]);
    expect(t.size).toBe(2);
    t.update(400, [face(70, 50), face(380, 200), face(250, 20, 40)]);
    expect(t.size).toBe(3);
    expect(t.regionsAt(400)).toHaveLength(3);
  });

  it('keeps a missed track for a bounded time, then drops it', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H, maxMissMs: 1000 });
    t.update(0, [face(100, 100)]);
    t.update(200, [face(100, 100)]);
    t.update(800, []);
    expect(t.regionsAt(800)).toHaveLength(1);
    expect(t.regionsAt(1300)).toHaveLength(0);
    t.update(1300, []);
    expect(t.size).toBe(0);
  });

  it("still answers for a lost track's past when a delayed tier asks after newer detections", () => {
    // The shared tier is written up to 2 s behind the detections: a face that jumped away
    // (a cut) must stay hidden where it was in the frames before the jump.
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    for (let at = 0; at <= 600; at += 200) t.update(at, [face(100, 100)]);
    for (let at = 800; at <= 2000; at += 200) t.update(at, [face(400, 200)]);
    expect(t.size).toBe(1);
    const then = t.regionsAt(500);
    expect(then.some((r) => contains(r, face(100, 100)))).toBe(true);
    // Long after its last sighting it hides nothing.
    expect(t.regionsAt(1600).some((r) => contains(r, face(100, 100)))).toBe(false);
  });

  it('shows a new track no earlier than the detection that looked for it and did not find it', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(100, 100)]);
    t.update(200, [face(100, 100)]);
    t.update(400, [face(100, 100), face(400, 200)]);
    const b = face(400, 200);
    expect(t.regionsAt(150).some((r) => contains(r, b))).toBe(false);
    // Between that detection and its first sighting it may have come in: hidden.
    expect(t.regionsAt(300).some((r) => contains(r, b))).toBe(true);
  });

  it('stops showing a track at the detection that found its object elsewhere (a cut), not maxMissMs later', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    for (let at = 0; at <= 400; at += 200) t.update(at, [face(100, 100)]);
    // The scene cuts between 400 and 600: the face is now far away.
    for (let at = 600; at <= 1000; at += 200) t.update(at, [face(450, 250)]);
    const old = face(100, 100);
    const moved = face(450, 250);
    // Between the last sighting and the detection that found the new place, both are hidden: the jump
    // happened at some moment in between.
    expect(t.regionsAt(500).some((r) => contains(r, old))).toBe(true);
    expect(t.regionsAt(500).some((r) => contains(r, moved))).toBe(true);
    expect(t.regionsAt(600).some((r) => contains(r, old))).toBe(true);
    // Past it the old place is no longer hidden (it was, as an extrapolation, for maxMissMs: 800 ms).
    for (const at of [601, 700, 900, 1150]) expect(t.regionsAt(at).filter((r) => r.x < 300)).toEqual([]);
    // Its past stays answerable, and the new track is the only one followed.
    expect(t.regionsAt(300).some((r) => contains(r, old))).toBe(true);
    expect(t.size).toBe(1);
  });

  it('still predicts a track past the newest detection when that detection is what succeeded it (a stall may follow)', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(100, 100)]);
    t.update(200, [face(100, 100)]);
    // The face is missed while something else of its kind is found: a cut, or a false detection.
    t.update(400, [face(450, 250)]);
    // Nothing after 400 yet (the detector may have stalled): the face is still hidden where it was heading.
    for (const at of [450, 500]) expect(t.regionsAt(at).some((r) => contains(r, face(100, 100)))).toBe(true);
    // Once a later detection confirms the new place, the old one is over past 400.
    t.update(600, [face(450, 250)]);
    for (const at of [450, 500, 650]) expect(t.regionsAt(at).filter((r) => r.x < 300)).toEqual([]);
  });

  it('a track succeeded by another is not matched again; the new track follows the object', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(100, 100)]);
    t.update(200, [face(100, 100)]);
    t.update(400, [face(400, 100)]);
    // A face back near the old place is a new object for the tracker: the old track ended at 400.
    t.update(600, [face(400, 100), face(110, 100)]);
    expect(t.size).toBe(2);
    expect(t.regionsAt(500).some((r) => contains(r, face(100, 100)))).toBe(true);
    // The new track is shown back to the detection before its first sighting (400), so 400..600 stays hidden.
    for (const at of [450, 550]) expect(t.regionsAt(at).some((r) => contains(r, face(110, 100)))).toBe(true);
  });

  it('keeps extrapolating a missed track while nothing new of its kind was found (a plain miss)', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(100, 100)]);
    t.update(200, [face(100, 100)]);
    // A plate appears while the face is missed: another kind succeeds nothing.
    t.update(400, [{ x: 400, y: 250, width: 80, height: 20, kind: 'plate' }]);
    t.update(600, []);
    expect(t.regionsAt(700).some((r) => r.kind === 'face' && contains(r, face(100, 100)))).toBe(true);
    // Found again before maxMissMs: one track, interpolated across the misses.
    t.update(800, [face(104, 100)]);
    expect(t.size).toBe(2);
    expect(t.regionsAt(500).filter((r) => r.kind === 'face')).toHaveLength(1);
  });

  it('does not grow a track seen once past the detection that looked for it and found nothing', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(300, 100, 50)]);
    const before = t.regionsAt(200)[0]!;
    t.update(200, []);
    // Still shown (a face the detector missed is near where it was), no wider than at the detection that missed it.
    for (const at of [200, 400, 700]) expect(t.regionsAt(at)[0]).toEqual(before);
    expect(contains(before, face(300, 100, 50))).toBe(true);
    // Without that detection (the detector stalled) it keeps growing at the unknown speed.
    const stalled = new Tracker({ frameWidth: W, frameHeight: H });
    stalled.update(0, [face(300, 100, 50)]);
    expect(stalled.regionsAt(700)[0]!.width).toBeGreaterThan(before.width + 100);
  });

  it('keeps one track for a still face when the detector falls behind (sightings 700 ms apart)', () => {
    // A track seen once has an unknown speed: its search box grows fast, which must not stop it matching.
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(100, 100, 45)]);
    t.update(700, [face(101, 100, 45)]);
    t.update(1400, [face(100, 101, 45)]);
    expect(t.size).toBe(1);
    // Between two sightings of a still face the box stays close to it.
    expect(t.regionsAt(350)[0]!.width).toBeLessThan(45 * 1.5);
  });

  it('tells how far apart the detections around a moment lie, and forgets them on reset', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    expect(t.detectionGapAt(0)).toBe(Infinity);
    t.update(0, [face(100, 100)]);
    t.update(200, []);
    t.update(1500, []);
    expect(t.detectionGapAt(100)).toBe(200);
    expect(t.detectionGapAt(200)).toBe(0);
    expect(t.detectionGapAt(700)).toBe(1300);
    // Past the newest detection: the time since it.
    expect(t.detectionGapAt(1600)).toBe(100);
    expect(t.detectionGapAt(-10)).toBe(Infinity);
    t.reset();
    expect(t.detectionGapAt(1600)).toBe(Infinity);
  });

  it("between two sightings grows the box on each axis by that axis's measured speed only", () => {
    // 200 px/s to the right, seen every 200 ms: halfway between two sightings the box is wider
    // than the face by the horizontal uncertainty, and no taller than the base margin makes it.
    const t = new Tracker({ frameWidth: W, frameHeight: H, baseMargin: 0.05 });
    t.update(0, [face(100, 100)]);
    t.update(200, [face(140, 100)]);
    t.update(400, [face(180, 100)]);
    const [r] = t.regionsAt(300);
    expect(r!.height).toBeLessThanOrEqual(60 * 1.1 + 2);
    expect(r!.width).toBeGreaterThan(r!.height);
    expect(contains(r!, face(160, 100))).toBe(true);
  });

  it('keeps kinds apart and forgets everything on reset', () => {
    const t = new Tracker({ frameWidth: W, frameHeight: H });
    t.update(0, [face(100, 100), { x: 100, y: 100, width: 80, height: 20, kind: 'plate' }]);
    t.update(200, [face(100, 100), { x: 100, y: 100, width: 80, height: 20, kind: 'plate' }]);
    expect(t.size).toBe(2);
    expect(
      t
        .regionsAt(200)
        .map((r) => r.kind)
        .sort(),
    ).toEqual(['face', 'plate']);
    t.reset();
    expect(t.regionsAt(200)).toEqual([]);
  });
});

describe('mergeOverlapping', () => {
  it('unites boxes of one kind that overlap much, keeps the others', () => {
    const merged = mergeOverlapping([
      face(100, 100),
      face(110, 105),
      face(400, 100),
      { x: 100, y: 100, width: 60, height: 60, kind: 'plate' },
    ]);
    expect(merged).toHaveLength(3);
    expect(merged[0]).toEqual({ x: 100, y: 100, width: 70, height: 65, kind: 'face' });
  });
});
