/**
 * When a wall tile counts as offline, and how long it waits before trying again. Pure
 * logic, unit-tested: the tile feeds it the video's currentTime every second.
 */

export interface StallWatch {
  /** The last currentTime seen to advance, and when (ms). */
  lastTime: number;
  lastAdvanceAt: number;
}

/** No new frame for this long (or a player error) shows the tile offline. */
export const STALL_MS = 3000;

export function startWatch(now: number): StallWatch {
  return { lastTime: -1, lastAdvanceAt: now };
}

/** Feeds one sample; returns the updated watch and whether the picture has stalled. */
export function observe(watch: StallWatch, currentTime: number, now: number, stallMs = STALL_MS): { watch: StallWatch; stalled: boolean } {
  if (currentTime > watch.lastTime) return { watch: { lastTime: currentTime, lastAdvanceAt: now }, stalled: false };
  return { watch, stalled: now - watch.lastAdvanceAt >= stallMs };
}

/** Retry delays grow 1 s, 2 s, 4 s … up to 10 s, so a recovered camera is back within seconds. */
export function retryDelayMs(attempt: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, attempt));
}
