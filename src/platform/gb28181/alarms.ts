/**
 * Incidents as the upper platforms see them: a camera outage flips the channel's catalog
 * Status (Catalog NOTIFY OFF/ON to subscribers) and, like an image incident or a dark shared
 * tier, raises an Alarm (GB/T 28181-2016 §9.4, A.2.5) to every registered platform sharing
 * that camera. The board comes in as a dependency, so health never imports the platforms.
 */
import { CAMERA_DOWN, SHARED_TIER_DARK, type Incident, type IncidentChange } from '../../health/index.js';
import type { AlarmNotify } from './manscdp/response.js';

/** The alarm fields an incident maps to. */
export type AlarmSpec = Pick<AlarmNotify, 'priority' | 'method' | 'type' | 'description'>;

/** Alarm methods and types of A.2.5 (alarm notify, AlarmMethod and Info/AlarmType). */
const DEVICE_ALARM = 2;
const VIDEO_ALARM = 5;
const VIDEO_LOSS = 1;
const VIDEO_ANOMALY = 11;

/** The alarm for an incident, or undefined for kinds a platform is not told about. */
export function alarmOf(incident: Pick<Incident, 'kind' | 'severity' | 'message'>): AlarmSpec | undefined {
  const priority = incident.severity === 'critical' ? 1 : 3;
  // The shared tier is the platform's channel: dark means video lost, as a camera outage does.
  if (incident.kind === CAMERA_DOWN || incident.kind === SHARED_TIER_DARK)
    return { priority, method: DEVICE_ALARM, type: VIDEO_LOSS, description: incident.message };
  if (incident.kind.startsWith('image_')) return { priority, method: VIDEO_ALARM, type: VIDEO_ANOMALY, description: incident.message };
  return undefined;
}

/**
 * A MANSCDP time (`YYYY-MM-DDTHH:mm:ss`, no zone) at the given UTC offset; default China
 * Standard Time, the zone GB/T 28181 platforms read these times in.
 */
export function manscdpTime(at: Date, offsetMinutes = 480): string {
  return new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
}

/** What a platform link takes from the incidents. */
export interface IncidentSink {
  /** A camera's state may have changed: subscribers get the catalog changes. */
  catalogChanged(): void;
  alarm(cameraId: string, spec: AlarmSpec, at: Date): void;
}

/** Follows the board's changes into the links; returns the unsubscribe function. */
export function feedIncidents(
  board: { onChange(listener: (change: IncidentChange) => unknown): () => void },
  links: readonly IncidentSink[],
): () => void {
  return board.onChange(({ state, incident, at }) => {
    if (incident.cameraId === null) return;
    if (incident.kind === CAMERA_DOWN) for (const l of links) l.catalogChanged();
    if (state !== 'firing') return;
    const spec = alarmOf(incident);
    if (spec !== undefined) for (const l of links) l.alarm(incident.cameraId, spec, new Date(at));
  });
}
