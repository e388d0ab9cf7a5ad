/**
 * The catalog an upper platform sees (GB/T 28181-2016 §9.5.2, A.2.6): one item per shared
 * camera, its DeviceID the camera's 20-digit GB/T 28181 ID. CivilCode is never empty: it is
 * the ID's first 6 digits (the administrative division the ID was issued under).
 */
import type { PtzCapability } from '../../domain/index.js';
import type { CatalogChange, CatalogItem } from './manscdp/response.js';

/** What the catalog needs of a camera (a subset of the registry's view). */
export interface CatalogCamera {
  id: string;
  name: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  ownerUnit: string | null;
  enabled: boolean;
  manufacturer?: string | null;
  model?: string | null;
}

/** The cameras a platform is given: all, or the listed IDs, in registry order. */
export function sharedCameras<C extends { id: string }>(all: readonly C[], cameraIds: 'all' | readonly string[]): C[] {
  if (cameraIds === 'all') return [...all];
  const wanted = new Set(cameraIds);
  return all.filter((c) => wanted.has(c.id));
}

/**
 * PTZType (A.2.6 catalog Info): 1 dome when the gateway can pan, tilt and zoom it over
 * ONVIF, 4 remote-controlled bullet for a zoom lens only, else 3 fixed (never 0: platforms
 * read 0 as "refuse PTZ" and some reject the item).
 */
export function ptzType(ptz: PtzCapability | null | undefined): 1 | 3 | 4 {
  return ptz?.kind === 'dome' ? 1 : ptz?.kind === 'zoom' ? 4 : 3;
}

export function catalogItem(c: CatalogCamera, opts: { parentId: string; online: boolean; ptz?: PtzCapability | null }): CatalogItem {
  return {
    deviceId: c.id,
    name: c.name,
    manufacturer: c.manufacturer ?? 'unknown',
    model: c.model ?? 'unknown',
    owner: c.ownerUnit ?? 'unknown',
    civilCode: c.id.slice(0, 6),
    address: c.address ?? '',
    parental: 0,
    parentId: opts.parentId,
    safetyWay: 0,
    registerWay: 1,
    secrecy: 0,
    status: c.enabled && opts.online ? 'ON' : 'OFF',
    ...(c.lon === null ? {} : { longitude: c.lon }),
    ...(c.lat === null ? {} : { latitude: c.lat }),
    info: { ptzType: ptzType(opts.ptz) },
  };
}

/**
 * What changed between the catalog a platform was last told and the current one, as
 * Catalog NOTIFY events: ADD and DEL for the shared set, ON and OFF for a status change
 * alone, UPDATE (the whole item) when anything else about a channel changed.
 */
export function catalogChanges(before: ReadonlyMap<string, CatalogItem>, now: readonly CatalogItem[]): CatalogChange[] {
  const changes: CatalogChange[] = [];
  const seen = new Set<string>();
  for (const item of now) {
    seen.add(item.deviceId);
    const old = before.get(item.deviceId);
    if (old === undefined) changes.push({ event: 'ADD', item });
    else if (JSON.stringify({ ...old, status: item.status }) !== JSON.stringify(item)) changes.push({ event: 'UPDATE', item });
    else if (old.status !== item.status) changes.push({ event: item.status === 'OFF' ? 'OFF' : 'ON', deviceId: item.deviceId });
  }
  for (const id of before.keys()) if (!seen.has(id)) changes.push({ event: 'DEL', deviceId: id });
  return changes;
}
