import type { AuditEntry, CameraRecord } from '../cameras/types.js';
import type { RecordingRepository } from './sqlRecordings.js';

/**
 * The one interface behind which all state lives. SQLite is the embedded default;
 * a PostgreSQL implementation plugs in behind the same methods, so every method is
 * async even where SQLite would not need it.
 */
export interface Store {
  readonly cameras: CameraRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  /** Recording index: segment hash chains, checkpoints, gaps, evidence holds. */
  readonly recordings: RecordingRepository;
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
