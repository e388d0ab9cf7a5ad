import type { Detection, HiddenRegion, RegionKind } from './types.js';

/**
 * Keeps detected boxes alive between detections: each track remembers its last observations,
 * predicts its box at any time with constant velocity (interpolating between observations when
 * the time lies between two, which a delayed shared tier allows), and grows the box by a safety
 * margin that rises with the track's speed and with the time since it was last seen. Pure: time
 * is passed in (performance.now() ms).
 */
export interface TrackerSettings {
  frameWidth: number;
  frameHeight: number;
  /** Margin on each side as a share of the box size, even for a still, freshly seen box. */
  baseMargin: number;
  /** Extra margin per side as a share of the box size, per second since the nearest observation. */
  ageGrowthPerS: number;
  /** Assumed speed of a track seen once, whose velocity is not known yet, in frame widths per second. */
  unknownSpeedWidthsPerS: number;
  /** Factor on the measured velocity's uncertainty (a share of the speed added as margin per second of gap). */
  speedUncertainty: number;
  /** A track not matched for this long is no longer matched nor shown after its last sighting. */
  maxMissMs: number;
  /**
   * How long after that a track's past stays answerable: a shared tier delayed behind the
   * detections (by up to 2 s, see pipeline/liveMask.ts) asks for moments this far back.
   */
  retainMs: number;
  /** Least IoU between a prediction and a detection for them to be the same object. */
  minIou: number;
}

export const DEFAULT_TRACKER_SETTINGS: Omit<TrackerSettings, 'frameWidth' | 'frameHeight'> = {
  baseMargin: 0.05,
  // 0.5 since the boxes are cut to the face (faceRegion.ts): at 0.25 the cut profile box, extrapolated while the
  // detector stalled, left 13 % of a 200 px/s face showing before the shared tier went dark.
  ageGrowthPerS: 0.5,
  unknownSpeedWidthsPerS: 0.3,
  speedUncertainty: 0.5,
  maxMissMs: 800,
  retainMs: 3000,
  minIou: 0.05,
};

interface Observation {
  t: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
}

interface Track {
  id: number;
  kind: RegionKind;
  /** Oldest first; the last few only. */
  obs: Observation[];
  /** px/ms, full resolution. */
  vx: number;
  vy: number;
  /** Whether the velocity was measured (two observations) or is unknown. */
  hasVelocity: boolean;
  /** The detection before its first sighting, which looked for it and did not find it (-Infinity: none). */
  bornAfter: number;
  /**
   * A detection after the last sighting that did not find it but found a new object of its kind
   * elsewhere (the face moved away: a scene cut, a jump): the track is not shown past it, nor
   * matched again (the new track follows the object).
   */
  succeededAt: number;
}

/** Share of a detection inside a track's search box for them to be candidates for the same object. */
const MIN_CONTAINED = 0.5;

function containedShare(
  box: { x: number; y: number; width: number; height: number },
  d: { x: number; y: number; width: number; height: number },
): number {
  const w = Math.max(0, Math.min(box.x + box.width, d.x + d.width) - Math.max(box.x, d.x));
  const h = Math.max(0, Math.min(box.y + box.height, d.y + d.height) - Math.max(box.y, d.y));
  return d.width * d.height > 0 ? (w * h) / (d.width * d.height) : 0;
}

function centreDistance(
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
): number {
  return Math.hypot(a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2));
}

/** Fewest sightings a track keeps, however old. */
const MIN_HISTORY = 2;

export class Tracker {
  #tracks: Track[] = [];
  #nextId = 1;
  #lastUpdate = -Infinity;
  /** Times of the detections folded in, oldest first, as far back as a delayed tier asks. */
  #updates: number[] = [];
  readonly #s: TrackerSettings;

  constructor(settings: Partial<TrackerSettings> & Pick<TrackerSettings, 'frameWidth' | 'frameHeight'>) {
    this.#s = { ...DEFAULT_TRACKER_SETTINGS, ...settings };
  }

  /** Tracks still followed (seen within maxMissMs of the newest detection, not succeeded); others only answer for their past. */
  get size(): number {
    return this.#tracks.filter((tr) => this.#alive(tr, this.#lastUpdate) && tr.succeededAt === Infinity).length;
  }

  #alive(track: Track, t: number): boolean {
    return t - track.obs[track.obs.length - 1]!.t <= this.#s.maxMissMs;
  }

  /** Folds in the detections of the frame taken at `t`. Frames must come in time order. */
  update(t: number, detections: readonly Detection[]): void {
    const unmatched = new Set(detections.map((_, i) => i));
    const pairs: { track: Track; det: number; iou: number }[] = [];
    for (const track of this.#tracks) {
      // A track succeeded by another (below) is over: the object is where the new one is.
      if (!this.#alive(track, t) || track.succeededAt !== Infinity) continue;
      const p = predictCenter(track, t);
      const last = track.obs[track.obs.length - 1]!;
      // The search box grows with the time since the last sighting, so a fast face is still matched.
      const reach = gapReach(track, t - last.t, this.#s);
      const predicted = {
        x: p.cx - last.w / 2 - reach,
        y: p.cy - last.h / 2 - reach,
        width: last.w + 2 * reach,
        height: last.h + 2 * reach,
      };
      const expected = { x: p.cx - last.w / 2, y: p.cy - last.h / 2, width: last.w, height: last.h };
      detections.forEach((d, i) => {
        if (d.kind !== track.kind) return;
        // A detection mostly inside the search box is a candidate (IoU against a search box that
        // grows with the gap would drop a slow detector's still face); the closest to the
        // prediction wins.
        if (containedShare(predicted, d) < MIN_CONTAINED && iou(predicted, d) < this.#s.minIou) return;
        pairs.push({ track, det: i, iou: iou(expected, d) - centreDistance(expected, d) / Math.max(1, last.w, last.h) });
      });
    }
    pairs.sort((a, b) => b.iou - a.iou);
    const matchedTracks = new Set<Track>();
    for (const { track, det } of pairs) {
      if (matchedTracks.has(track) || !unmatched.has(det)) continue;
      matchedTracks.add(track);
      unmatched.delete(det);
      this.#observe(track, t, detections[det]!);
    }
    // A track this detection missed while it found a new object of the same kind is where the
    // object was, not where it is: its neighbours disagree (the face jumped, the scene cut).
    // It is shown up to this detection (the new track is shown back to the one before, so the
    // interval between is covered by both) instead of extrapolated for maxMissMs, and the new
    // track follows the object from here. A face the detector merely missed is found again as a
    // new track, shown back to this detection: covered all the same.
    const bornKinds = new Set([...unmatched].map((i) => detections[i]!.kind));
    for (const track of this.#tracks) {
      if (matchedTracks.has(track) || !bornKinds.has(track.kind) || !this.#alive(track, t)) continue;
      if (track.obs[track.obs.length - 1]!.t < t && track.succeededAt === Infinity) track.succeededAt = t;
    }
    for (const i of unmatched) {
      const d = detections[i]!;
      this.#tracks.push({
        id: this.#nextId++,
        kind: d.kind,
        obs: [{ t, cx: d.x + d.width / 2, cy: d.y + d.height / 2, w: d.width, h: d.height }],
        vx: 0,
        vy: 0,
        hasVelocity: false,
        bornAfter: this.#lastUpdate,
        succeededAt: Infinity,
      });
    }
    this.#lastUpdate = t;
    this.#updates.push(t);
    while (this.#updates.length > 1 && t - this.#updates[0]! > this.#s.maxMissMs + this.#s.retainMs) this.#updates.shift();
    this.#tracks = this.#tracks.filter((tr) => t - tr.obs[tr.obs.length - 1]!.t <= this.#s.maxMissMs + this.#s.retainMs);
  }

  /** Drops every track (the frames no longer follow on: the source restarted). */
  reset(): void {
    this.#tracks = [];
    this.#lastUpdate = -Infinity;
    this.#updates = [];
  }

  /**
   * How far apart (ms) the detections just before and just after `at` lie, or, past the
   * newest one, how long before `at` it was; Infinity before the first one remembered. The
   * regions at a moment with a wide gap around it are guesses: a face may have been dropped
   * or never seen.
   */
  detectionGapAt(at: number): number {
    const after = this.#updates.findIndex((u) => u >= at);
    if (after === 0) return this.#updates[0] === at ? 0 : Infinity;
    if (after < 0) return this.#updates.length > 0 ? at - this.#updates[this.#updates.length - 1]! : Infinity;
    const next = this.#updates[after]!;
    return next === at ? 0 : next - this.#updates[after - 1]!;
  }

  /** The regions to hide in the frame taken at `at`, clipped to the frame. */
  regionsAt(at: number): HiddenRegion[] {
    const out: HiddenRegion[] = [];
    for (const track of this.#tracks) {
      const first = track.obs[0]!;
      const last = track.obs[track.obs.length - 1]!;
      // A track that died long before `at`, or (with a delayed tier) was born long after it, hides nothing then;
      // nor before the detection that looked for it and did not find it.
      if (at - last.t > this.#s.maxMissMs || first.t - at > this.#s.maxMissMs || at < track.bornAfter || this.#overAt(track, at)) continue;
      const b = boxAt(track, at, this.#s, this.#nextUpdateAfter(last.t));
      const x0 = Math.max(0, Math.floor(b.cx - b.w / 2));
      const y0 = Math.max(0, Math.floor(b.cy - b.h / 2));
      const x1 = Math.min(this.#s.frameWidth, Math.ceil(b.cx + b.w / 2));
      const y1 = Math.min(this.#s.frameHeight, Math.ceil(b.cy + b.h / 2));
      if (x1 <= x0 || y1 <= y0) continue;
      out.push({ x: x0, y: y0, width: x1 - x0, height: y1 - y0, kind: track.kind });
    }
    return out;
  }

  /**
   * Whether a succeeded track is over at `at`. Past the newest detection, a succession that detection
   * made is not yet confirmed by another: the new object may be a false one and this face merely missed,
   * and no later detection will show it again if the detector stalls now. There the track is still
   * predicted (up to the fail-closed reach), as a plain miss is.
   */
  #overAt(track: Track, at: number): boolean {
    if (at <= track.succeededAt) return false;
    return !(track.succeededAt === this.#lastUpdate && at > this.#lastUpdate);
  }

  /** The first detection after `t` (Infinity: none yet). */
  #nextUpdateAfter(t: number): number {
    return this.#updates.find((u) => u > t) ?? Infinity;
  }

  #observe(track: Track, t: number, d: Detection): void {
    const last = track.obs[track.obs.length - 1]!;
    const cx = d.x + d.width / 2;
    const cy = d.y + d.height / 2;
    const dt = t - last.t;
    if (dt > 0) {
      const vx = (cx - last.cx) / dt;
      const vy = (cy - last.cy) / dt;
      // Smoothed, so one jittery box does not fling the prediction.
      track.vx = track.hasVelocity ? 0.5 * track.vx + 0.5 * vx : vx;
      track.vy = track.hasVelocity ? 0.5 * track.vy + 0.5 * vy : vy;
      track.hasVelocity = true;
    }
    track.obs.push({ t, cx, cy, w: d.width, h: d.height });
    // Sightings as far back as a delayed tier may ask about.
    while (track.obs.length > MIN_HISTORY && t - track.obs[0]!.t > this.#s.maxMissMs + this.#s.retainMs) track.obs.shift();
  }
}

function predictCenter(track: Track, t: number): { cx: number; cy: number } {
  const last = track.obs[track.obs.length - 1]!;
  return { cx: last.cx + track.vx * (t - last.t), cy: last.cy + track.vy * (t - last.t) };
}

/** How far (px, each side) an object may have strayed from its prediction after `gapMs` without a sighting. */
function gapReach(track: Track, gapMs: number, s: TrackerSettings): number {
  const gapS = Math.abs(gapMs) / 1000;
  const speed = track.hasVelocity ? Math.hypot(track.vx, track.vy) * 1000 : s.unknownSpeedWidthsPerS * s.frameWidth;
  const uncertainty = track.hasVelocity ? s.speedUncertainty : 1;
  return speed * uncertainty * gapS;
}

/**
 * The track's expanded box (center and size) at `at`. `missedAt`: the first detection after its
 * last sighting, which looked for it and did not find it (Infinity: none yet).
 */
function boxAt(track: Track, at: number, s: TrackerSettings, missedAt: number): { cx: number; cy: number; w: number; h: number } {
  const obs = track.obs;
  let cx: number;
  let cy: number;
  let w: number;
  let h: number;
  let gapMs: number;
  const last = obs[obs.length - 1]!;
  const first = obs[0]!;
  const after = obs.findIndex((o) => o.t >= at);
  if (after > 0) {
    // Between two sightings: interpolate; the uncertainty is the distance to the nearer one.
    const a = obs[after - 1]!;
    const b = obs[after]!;
    const k = b.t === a.t ? 0 : (at - a.t) / (b.t - a.t);
    cx = a.cx + (b.cx - a.cx) * k;
    cy = a.cy + (b.cy - a.cy) * k;
    w = Math.max(a.w, b.w);
    h = Math.max(a.h, b.h);
    gapMs = Math.min(at - a.t, b.t - at);
    // Both ends were seen: the uncertainty is how far the object may stray from the straight
    // line between them, on each axis from its measured speed on that axis (the faster of the
    // two sightings' own and the track's smoothed one), not a guess growing with age.
    const dt = Math.max(1, b.t - a.t);
    const reachS = (s.speedUncertainty * gapMs) / 1000;
    const mx = w * s.baseMargin + Math.max(Math.abs(b.cx - a.cx) / dt, Math.abs(track.vx)) * 1000 * reachS;
    const my = h * s.baseMargin + Math.max(Math.abs(b.cy - a.cy) / dt, Math.abs(track.vy)) * 1000 * reachS;
    return { cx, cy, w: w + 2 * mx, h: h + 2 * my };
  } else {
    const ref = after === 0 ? first : last;
    cx = ref.cx + track.vx * (at - ref.t);
    cy = ref.cy + track.vy * (at - ref.t);
    w = ref.w;
    h = ref.h;
    gapMs = Math.abs(at - ref.t);
    // A track seen once has no velocity: its box grows at the unknown speed. Past the detection
    // that looked for it and found nothing (no new object of its kind either: that would have
    // succeeded it), it stops growing: a face the detector missed there is still near where it
    // was, and a false detection does not sweep a box of half the frame for maxMissMs.
    if (after < 0 && !track.hasVelocity) gapMs = Math.min(gapMs, missedAt - last.t);
  }
  const size = Math.max(w, h);
  const margin = size * (s.baseMargin + (s.ageGrowthPerS * gapMs) / 1000) + gapReach(track, gapMs, s);
  return { cx, cy, w: w + 2 * margin, h: h + 2 * margin };
}

export function iou(
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}
