import { isDemoSource, type CameraRecord } from '../domain/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import type { FilingEvent, FilingRecord } from '../store/index.js';

export type FilingStatus = 'filed' | 'filed_late' | 'due' | 'overdue';

export interface FilingDeadline {
  event: FilingEvent;
  /** The date the deadline counts from (YYYY-MM-DD). */
  eventDate: string;
  dueDate: string;
  filedAt: string | null;
  status: FilingStatus;
}

export interface FilingRow {
  cameraId: string;
  name: string;
  siteType: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  ownerUnit: string | null;
  signageInstalled: boolean;
  commissionedAt: string | null;
  removedAt: string | null;
  deadlines: FilingDeadline[];
  overdue: boolean;
}

export interface FilingReport {
  generatedAt: string;
  profile: string;
  /** Days allowed, or null where the profile's regulation sets no owner filing deadline. */
  deadlineDays: number | null;
  /** Whether removal is filed before (hubei) or after the removal. */
  removalRule: 'before' | 'after';
  source: string;
  rows: FilingRow[];
}

/**
 * Removal filing: hubei-2013 Art. 11 asks for it 30 days *before* a camera is removed;
 * qingdao-2020 Art. 16 and yunnan-2016 Art. 20 within 30 days *after*. `strict` takes the
 * earlier date.
 */
export function removalRule(profile: Pick<JurisdictionProfile, 'name'>): 'before' | 'after' {
  return profile.name === 'hubei' || profile.name === 'strict' ? 'before' : 'after';
}

const DAY_MS = 86_400_000;

function dateOnly(value: string): string {
  return value.slice(0, 10);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

function deadline(event: FilingEvent, eventDate: string, dueDate: string, filings: readonly FilingRecord[], today: string): FilingDeadline {
  const filed = filings.find((f) => f.event === event);
  const filedAt = filed === undefined ? null : dateOnly(filed.filedAt);
  const status: FilingStatus = filedAt !== null ? (filedAt <= dueDate ? 'filed' : 'filed_late') : today > dueDate ? 'overdue' : 'due';
  return { event, eventDate, dueDate, filedAt, status };
}

/**
 * The camera point list for filing (备案) with the police: where each camera is, its site
 * type and signage, when it went into service or was removed, and the filing deadlines
 * counted from those dates under the active profile (commissioning: within N days of going
 * live; a camera without a commissioning date counts from its registration).
 */
export function buildFilingReport(input: {
  cameras: ReadonlyArray<Omit<CameraRecord, 'credentialsEnc'>>;
  filings: readonly FilingRecord[];
  profile: JurisdictionProfile;
  now: Date;
}): FilingReport {
  const days = input.profile.filingDeadlineDays.value;
  const rule = removalRule(input.profile);
  const today = input.now.toISOString().slice(0, 10);
  // A demo camera shows the gateway working; it is no camera to file.
  const filed = input.cameras.filter((c) => !isDemoSource(c.rtspUrl));
  const rows = filed.map((c): FilingRow => {
    const mine = input.filings.filter((f) => f.cameraId === c.id);
    const deadlines: FilingDeadline[] = [];
    if (days !== null) {
      const live = dateOnly(c.commissionedAt ?? c.createdAt);
      deadlines.push(deadline('commissioning', live, addDays(live, days), mine, today));
      if (c.removedAt !== null) {
        const removed = dateOnly(c.removedAt);
        deadlines.push(deadline('removal', removed, addDays(removed, rule === 'before' ? -days : days), mine, today));
      }
    }
    return {
      cameraId: c.id,
      name: c.name,
      siteType: c.siteType,
      address: c.address,
      lat: c.lat,
      lon: c.lon,
      ownerUnit: c.ownerUnit,
      signageInstalled: c.signageInstalled,
      commissionedAt: c.commissionedAt,
      removedAt: c.removedAt,
      deadlines,
      overdue: deadlines.some((d) => d.status === 'overdue'),
    };
  });
  return {
    generatedAt: input.now.toISOString(),
    profile: input.profile.name,
    deadlineDays: days,
    removalRule: rule,
    source: input.profile.filingDeadlineDays.source,
    rows,
  };
}

/** The point list as GeoJSON (cameras without coordinates have a null geometry). */
export function filingGeoJson(report: FilingReport): Record<string, unknown> {
  return {
    type: 'FeatureCollection',
    features: report.rows.map((r) => ({
      type: 'Feature',
      id: r.cameraId,
      geometry: r.lat === null || r.lon === null ? null : { type: 'Point', coordinates: [r.lon, r.lat] },
      properties: { ...r, lat: undefined, lon: undefined },
    })),
  };
}
