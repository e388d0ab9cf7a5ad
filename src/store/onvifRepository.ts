/**
 * What the gateway keeps about onboarded ONVIF cameras: identity (endpoint reference,
 * serial), the profiles chosen for recording and for the shared tier with their stream
 * URLs, and the last clock check. One row per camera; removing the camera removes it.
 */
import type { OnvifDeviceRecord, PtzCapability } from '../domain/index.js';
import type { SqlExecutor, SqlValue } from './sqlRepositories.js';
import type { OnvifDeviceRepository } from './store.js';

const COLUMNS = [
  'camera_id',
  'endpoint_ref',
  'xaddr',
  'manufacturer',
  'model',
  'serial_number',
  'firmware_version',
  'hardware_id',
  'record_profile_token',
  'record_stream_url',
  'shared_profile_token',
  'shared_stream_url',
  'snapshot_url',
  'clock_drift_seconds',
  'clock_checked_at',
  'onboarded_at',
  'last_seen_at',
  'ptz',
] as const;

const SELECT = `SELECT ${COLUMNS.join(', ')} FROM onvif_devices`;
const UPSERT =
  `INSERT INTO onvif_devices (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ` +
  `ON CONFLICT (camera_id) DO UPDATE SET ${COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

function toRow(r: OnvifDeviceRecord): SqlValue[] {
  return [
    r.cameraId,
    r.endpointRef,
    r.xaddr,
    r.manufacturer,
    r.model,
    r.serialNumber,
    r.firmwareVersion,
    r.hardwareId,
    r.recordProfileToken,
    r.recordStreamUrl,
    r.sharedProfileToken,
    r.sharedStreamUrl,
    r.snapshotUrl,
    r.clockDriftSeconds,
    r.clockCheckedAt,
    r.onboardedAt,
    r.lastSeenAt,
    r.ptz === null ? null : JSON.stringify(r.ptz),
  ];
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function fromRow(r: Record<string, unknown>): OnvifDeviceRecord {
  return {
    cameraId: String(r.camera_id),
    endpointRef: text(r.endpoint_ref),
    xaddr: String(r.xaddr),
    manufacturer: text(r.manufacturer),
    model: text(r.model),
    serialNumber: text(r.serial_number),
    firmwareVersion: text(r.firmware_version),
    hardwareId: text(r.hardware_id),
    recordProfileToken: String(r.record_profile_token),
    recordStreamUrl: String(r.record_stream_url),
    sharedProfileToken: String(r.shared_profile_token),
    sharedStreamUrl: String(r.shared_stream_url),
    snapshotUrl: text(r.snapshot_url),
    clockDriftSeconds: Number(r.clock_drift_seconds),
    clockCheckedAt: String(r.clock_checked_at),
    onboardedAt: String(r.onboarded_at),
    lastSeenAt: text(r.last_seen_at),
    ptz: r.ptz === null || r.ptz === undefined ? null : (JSON.parse(String(r.ptz)) as PtzCapability),
  };
}

export class SqlOnvifDeviceRepository implements OnvifDeviceRepository {
  constructor(private readonly db: SqlExecutor) {}

  async upsert(record: OnvifDeviceRecord): Promise<void> {
    await this.db.run(UPSERT, toRow(record));
  }

  async get(cameraId: string): Promise<OnvifDeviceRecord | undefined> {
    const rows = await this.db.all(`${SELECT} WHERE camera_id = ?`, [cameraId]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async list(): Promise<OnvifDeviceRecord[]> {
    return (await this.db.all(`${SELECT} ORDER BY camera_id`)).map(fromRow);
  }

  async findByIdentity(identity: { endpointRef?: string | null; serialNumber?: string | null }): Promise<OnvifDeviceRecord | undefined> {
    if (identity.endpointRef) {
      const rows = await this.db.all(`${SELECT} WHERE endpoint_ref = ?`, [identity.endpointRef]);
      if (rows[0] !== undefined) return fromRow(rows[0]);
    }
    if (identity.serialNumber) {
      const rows = await this.db.all(`${SELECT} WHERE serial_number = ? ORDER BY camera_id`, [identity.serialNumber]);
      if (rows[0] !== undefined) return fromRow(rows[0]);
    }
    return undefined;
  }

  async markSeen(cameraId: string, at: string, endpointRef: string | null): Promise<void> {
    await this.db.run('UPDATE onvif_devices SET last_seen_at = ?, endpoint_ref = COALESCE(endpoint_ref, ?) WHERE camera_id = ?', [
      at,
      endpointRef,
      cameraId,
    ]);
  }

  async remove(cameraId: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM onvif_devices WHERE camera_id = ?', [cameraId])) > 0;
  }
}
