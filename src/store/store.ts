import type { AuditEntry, CameraRecord } from '../cameras/types.js';
import type { OnvifDeviceRecord } from '../onvif/types.js';

/**
 * The one interface behind which all state lives. SQLite is the embedded default;
 * a PostgreSQL implementation plugs in behind the same methods, so every method is
 * async even where SQLite would not need it.
 */
export interface Store {
  readonly cameras: CameraRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly onvif: OnvifDeviceRepository;
  /** Apply pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface CameraListQuery {
  limit?: number;
  offset?: number;
}

export interface CameraRepository {
  /** Throws GatewayError CAMERA_EXISTS when the id is taken. */
  insert(camera: CameraRecord): Promise<void>;
  /** Replaces the stored record with the given one (same id); throws CAMERA_NOT_FOUND. */
  replace(camera: CameraRecord): Promise<void>;
  get(id: string): Promise<CameraRecord | undefined>;
  list(query?: CameraListQuery): Promise<CameraRecord[]>;
  count(): Promise<number>;
  /** True when a row was removed. */
  remove(id: string): Promise<boolean>;
  /** Highest 6-digit serial used among IDs starting with the given 14-digit prefix, or 0. */
  maxSerial(prefix14: string): Promise<number>;
}

export interface AuditRepository {
  append(entry: AuditEntry): Promise<void>;
  list(query?: { cameraId?: string; action?: string; limit?: number }): Promise<AuditEntry[]>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

/** ONVIF facts of onboarded cameras (see store/onvifRepository.ts). */
export interface OnvifDeviceRepository {
  /** Inserts or replaces the row of `record.cameraId`. */
  upsert(record: OnvifDeviceRecord): Promise<void>;
  get(cameraId: string): Promise<OnvifDeviceRecord | undefined>;
  list(): Promise<OnvifDeviceRecord[]>;
  /** The camera already onboarded from this device: same endpoint reference, else same serial number. */
  findByIdentity(identity: { endpointRef?: string | null; serialNumber?: string | null }): Promise<OnvifDeviceRecord | undefined>;
  /** A discovery sweep saw the device; fills the endpoint reference when it was not known. */
  markSeen(cameraId: string, at: string, endpointRef: string | null): Promise<void>;
  remove(cameraId: string): Promise<boolean>;
}
