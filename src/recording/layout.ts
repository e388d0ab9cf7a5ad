import { join } from 'node:path';

/**
 * Where recordings lie: `<dir>/<cameraId>/<YYYY-MM-DD>/<cameraId>_<YYYYMMDDTHHMMSSmmmZ>.ts`
 * (UTC). ffmpeg writes into `<dir>/<cameraId>/.incoming/`; a segment is moved out only
 * once it is complete, checked, synced and hashed.
 */
export const INCOMING = '.incoming';
export const DAMAGED = '.damaged';
/** Segments whose index write the lease fence refused (cluster mode): another node owned the camera by then. */
export const FENCED = '.fenced';
export const SEGMENT_EXT = '.ts';

export function incomingDir(dir: string, cameraId: string): string {
  return join(dir, cameraId, INCOMING);
}

/** Path of a finished segment relative to the recordings directory. */
export function segmentRelPath(cameraId: string, startMs: number): string {
  const iso = new Date(startMs).toISOString(); // 2026-12-01T03:10:00.123Z
  const stamp = iso.replace(/[-:]/g, '').replace('.', '');
  return join(cameraId, iso.slice(0, 10), `${cameraId}_${stamp}${SEGMENT_EXT}`);
}

/** `YYYY-MM-DD` directory names (UTC) of the days from `fromMs` to `toMs`. */
export function daysBetween(fromMs: number, toMs: number): Set<string> {
  const days = new Set<string>();
  const day = 86_400_000;
  for (let t = Math.floor(fromMs / day) * day; t <= toMs; t += day) days.add(new Date(t).toISOString().slice(0, 10));
  return days;
}

export const DAY_MS = 86_400_000;
