/**
 * Synchronised playback: one clock (the first camera's video) and followers kept on it.
 * Each camera's playlist starts at its own segment boundary, so positions are compared as
 * wall-clock times (`baseMs` + currentTime), never as raw currentTime.
 */

/** A follower further off than this seeks; nearer, it is nudged by its rate (a seek stalls the picture). */
export const SEEK_DRIFT_S = 0.4;
/** Below this a follower plays at the clock's rate: the drift is within a frame or two. */
export const IN_STEP_S = 0.05;
/** The most a follower's rate departs from the clock's while it catches up (10 %). */
const NUDGE = 0.1;

export type Correction =
  | { kind: 'seek'; currentTime: number }
  | { kind: 'rate'; playbackRate: number }
  /** The clock is outside this camera's recording (a gap, or before its first segment). */
  | { kind: 'outside' };

/**
 * What a follower does to show the clock's wall-clock time `clockMs`: its video holds
 * `[baseMs, baseMs + durationS]`; `rate` is the clock's playback rate, `paused` whether it stands.
 */
export function correction(
  f: { baseMs: number; currentTime: number; durationS: number },
  clockMs: number,
  rate: number,
  paused = false,
): Correction {
  const target = (clockMs - f.baseMs) / 1000;
  if (target < 0 || (Number.isFinite(f.durationS) && target > f.durationS)) return { kind: 'outside' };
  const drift = target - f.currentTime;
  // Paused (a frame step), a follower shows the very instant: rates do nothing there.
  if (Math.abs(drift) > (paused ? IN_STEP_S : SEEK_DRIFT_S)) return { kind: 'seek', currentTime: target };
  if (Math.abs(drift) < IN_STEP_S) return { kind: 'rate', playbackRate: rate };
  // Behind: a little faster; ahead: a little slower, in proportion to the drift.
  const nudge = Math.max(-NUDGE, Math.min(NUDGE, drift / SEEK_DRIFT_S / 4));
  return { kind: 'rate', playbackRate: rate * (1 + nudge) };
}

/** The frame length a video shows, from the media times of frames presented in a row (25 fps until known). */
export function frameSeconds(mediaTimes: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < mediaTimes.length; i++) {
    const d = (mediaTimes[i] ?? 0) - (mediaTimes[i - 1] ?? 0);
    if (d > 0.005 && d < 0.5) steps.push(d);
  }
  if (steps.length < 3) return 0.04;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)] ?? 0.04;
}

/** A time as a datetime-local input writes it (local time, to the second). */
export function localInputValue(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A datetime-local input's value as a time (local); null when it is empty or not a time. */
export function parseLocalInput(value: string): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?$/.exec(value.trim());
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as number[];
  const ms = new Date(y!, mo! - 1, d, h, mi, s).getTime();
  return Number.isFinite(ms) ? ms : null;
}
