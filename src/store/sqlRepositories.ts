/**
 * The camera, audit and settings repositories, written once over a small SQL executor
 * that each store implementation provides. Queries use `?` placeholders; an executor
 * for a dialect with numbered placeholders rewrites them.
 */
import type { AuditEntry, CameraRecord, Checkpoint, DesensitizeSetting, Mask, SharedEncoderOverride } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { Link } from '../hashChain.js';
import { AUDIT_CHAIN_ID, linkAuditEntry } from './auditChain.js';
import type { AuditRepository, CameraListQuery, CameraRepository, SettingsRepository } from './store.js';

export type SqlValue = string | number | null;

export interface SqlExecutor {
  /** Rows of a query. */
  all(sql: string, params?: readonly SqlValue[]): Promise<Record<string, unknown>[]>;
  /** Runs a statement; resolves to the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** True when the error is a primary-key or unique-constraint violation. */
  isUniqueViolation(err: unknown): boolean;
}

export const CAMERA_COLUMNS = [
  'id',
  'name',
  'rtsp_url',
  'credentials_enc',
  'site_type',
  'address',
  'lat',
  'lon',
  'owner_unit',
  'government_funded',
  'signage_installed',
  'commissioned_at',
  'removed_at',
  'enabled',
  'push_targets',
  'masks',
  'masks_version',
  'shared_encoder',
  'created_at',
  'updated_at',
  'desensitize',
] as const;

const SELECT_CAMERAS = `SELECT ${CAMERA_COLUMNS.join(', ')} FROM cameras`;
const INSERT_CAMERA = `INSERT INTO cameras (${CAMERA_COLUMNS.join(', ')}) VALUES (${CAMERA_COLUMNS.map(() => '?').join(', ')})`;
const UPDATE_CAMERA = `UPDATE cameras SET ${CAMERA_COLUMNS.slice(1)
  .map((c) => `${c} = ?`)
  .join(', ')} WHERE id = ?`;

export function cameraToRow(c: CameraRecord): SqlValue[] {
  return [
    c.id,
    c.name,
    c.rtspUrl,
    c.credentialsEnc,
    c.siteType,
    c.address,
    c.lat,
    c.lon,
    c.ownerUnit,
    c.governmentFunded ? 1 : 0,
    c.signageInstalled ? 1 : 0,
    c.commissionedAt,
    c.removedAt,
    c.enabled ? 1 : 0,
    JSON.stringify(c.pushTargets),
    JSON.stringify(c.masks),
    c.masksVersion,
    JSON.stringify(c.sharedEncoder),
    c.createdAt,
    c.updatedAt,
    c.desensitize === null ? null : JSON.stringify(c.desensitize),
  ];
}

export function rowToCamera(r: Record<string, unknown>): CameraRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    rtspUrl: String(r.rtsp_url),
    credentialsEnc: textOrNull(r.credentials_enc),
    siteType: String(r.site_type),
    address: textOrNull(r.address),
    lat: numberOrNull(r.lat),
    lon: numberOrNull(r.lon),
    ownerUnit: textOrNull(r.owner_unit),
    governmentFunded: Number(r.government_funded) === 1,
    signageInstalled: Number(r.signage_installed) === 1,
    commissionedAt: textOrNull(r.commissioned_at),
    removedAt: textOrNull(r.removed_at),
    enabled: Number(r.enabled) === 1,
    pushTargets: parseStringArray(r.push_targets),
    masks: parseMasks(r.masks),
    masksVersion: Number(r.masks_version ?? 0),
    sharedEncoder: parseObject(r.shared_encoder) as SharedEncoderOverride,
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    desensitize:
      r.desensitize === null || r.desensitize === undefined ? null : (parseObject(r.desensitize) as unknown as DesensitizeSetting),
  };
}

export class SqlCameraRepository implements CameraRepository {
  constructor(
    private readonly db: SqlExecutor,
    /** Whose lock orders serial reads across processes (see maxSerial). */
    private readonly serialiser?: Pick<AuditSerialiser, 'lockSql'>,
  ) {}

  async insert(camera: CameraRecord): Promise<void> {
    try {
      await this.db.run(INSERT_CAMERA, cameraToRow(camera));
    } catch (err) {
      if (this.db.isUniqueViolation(err)) {
        throw new GatewayError('CAMERA_EXISTS', `a camera with id ${camera.id} already exists`, {
          hint: 'Choose another GB/T 28181 id, or leave id out to have one generated.',
          details: { id: camera.id },
          cause: err,
        });
      }
      throw err;
    }
  }

  async replace(camera: CameraRecord): Promise<void> {
    const [id, ...rest] = cameraToRow(camera);
    const changed = await this.db.run(UPDATE_CAMERA, [...rest, id ?? null]);
    if (changed === 0) throw notFound(camera.id);
  }

  async get(id: string): Promise<CameraRecord | undefined> {
    const rows = await this.db.all(`${SELECT_CAMERAS} WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : rowToCamera(rows[0]);
  }

  async list(query: CameraListQuery = {}): Promise<CameraRecord[]> {
    const limit = checkCount('limit', query.limit);
    const offset = checkCount('offset', query.offset) ?? 0;
    const params: SqlValue[] = [];
    let sql = `${SELECT_CAMERAS} ORDER BY id`;
    if (limit !== undefined) {
      sql += ' LIMIT ?';
      params.push(limit);
    }
    if (offset > 0) {
      // SQLite takes OFFSET only after a LIMIT; a huge LIMIT stands in for "all" on both dialects.
      if (limit === undefined) sql += ` LIMIT ${Number.MAX_SAFE_INTEGER}`;
      sql += ' OFFSET ?';
      params.push(offset);
    }
    const rows = await this.db.all(sql, params);
    return rows.map(rowToCamera);
  }

  async count(): Promise<number> {
    const rows = await this.db.all('SELECT COUNT(*) AS n FROM cameras');
    return Number(rows[0]?.n ?? 0);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM cameras WHERE id = ?', [id])) > 0;
  }

  async maxSerial(prefix14: string): Promise<number> {
    if (!/^\d{14}$/.test(prefix14)) {
      throw new GatewayError('VALIDATION_FAILED', `an ID prefix must be 14 digits (got "${prefix14}")`);
    }
    // Nodes sharing PostgreSQL read the serial one at a time: the audit log's lock, which a
    // camera create takes anyway in the same transaction for its audit entry, is taken first.
    // (SQLite's IMMEDIATE transactions already serialise writers.)
    const lock = this.serialiser?.lockSql;
    if (lock !== undefined) await this.db.all(lock);
    // A range on the primary key instead of LIKE: uses the index on both dialects.
    const rows = await this.db.all(
      'SELECT MAX(CAST(substr(id, 15, 6) AS INTEGER)) AS serial FROM cameras WHERE id >= ? AND id <= ? AND length(id) = 20',
      [`${prefix14}000000`, `${prefix14}999999`],
    );
    const serial = rows[0]?.serial;
    return serial === null || serial === undefined ? 0 : Number(serial);
  }
}

/**
 * Runs audit appends one at a time: `work` gets an executor inside a transaction in which
 * `lockSql` (when the dialect needs one) has been run, so seq has no holes or twins.
 */
export interface AuditSerialiser {
  serial<T>(work: (db: SqlExecutor) => Promise<T>): Promise<T>;
  /** A statement that makes concurrent appenders queue (PostgreSQL: a transaction advisory lock). */
  lockSql?: string;
}

const AUDIT_COLUMNS = 'id, at, actor, action, camera_id, outcome, details, seq, prev_hash, entry_hash';

export class SqlAuditRepository implements AuditRepository {
  constructor(
    private readonly db: SqlExecutor,
    private readonly serialiser: AuditSerialiser,
  ) {}

  async append(entry: AuditEntry): Promise<void> {
    // What the row will read back as: details through JSON, as stored.
    const stored: AuditEntry = { ...entry, details: JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown> };
    await this.serialiser.serial(async (db) => {
      if (this.serialiser.lockSql !== undefined) await db.all(this.serialiser.lockSql);
      const headRows = await db.all('SELECT seq, prev_hash, entry_hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1');
      let head: Link | undefined =
        headRows[0] === undefined
          ? undefined
          : { seq: Number(headRows[0].seq), prevHash: String(headRows[0].prev_hash), entryHash: String(headRows[0].entry_hash) };
      // Rows from before the chain existed get chained first, in id order.
      for (const row of await db.all(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id`)) {
        head = linkAuditEntry(head, rowToAudit(row));
        await db.run('UPDATE audit_log SET seq = ?, prev_hash = ?, entry_hash = ? WHERE id = ? AND seq IS NULL', [
          head.seq,
          head.prevHash,
          head.entryHash,
          Number(row.id),
        ]);
      }
      const link = linkAuditEntry(head, stored);
      await db.run(
        'INSERT INTO audit_log (at, actor, action, camera_id, outcome, details, seq, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          stored.at,
          stored.actor,
          stored.action,
          stored.cameraId,
          stored.outcome,
          JSON.stringify(stored.details),
          link.seq,
          link.prevHash,
          link.entryHash,
        ],
      );
    });
  }

  async addCheckpoint(c: Checkpoint, after?: Checkpoint | null): Promise<boolean> {
    // Under the appenders' lock: nodes signing the head at once, the later one sees the first one's checkpoint.
    return this.serialiser.serial(async (db) => {
      if (this.serialiser.lockSql !== undefined) await db.all(this.serialiser.lockSql);
      if (after !== undefined) {
        const [newest] = await db.all('SELECT seq, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1');
        const seen = newest === undefined ? null : `${String(newest.seq)} ${String(newest.signature)}`;
        if (seen !== (after === null ? null : `${after.seq} ${after.signature}`)) return false;
      }
      await db.run(
        'INSERT INTO audit_checkpoints (seq, head_hash, signed_at, prev_hash, key_fingerprint, signature) VALUES (?, ?, ?, ?, ?, ?)',
        [c.seq, c.headHash, c.signedAt, c.prevHash ?? '', c.keyFingerprint ?? '', c.signature],
      );
      return true;
    });
  }

  async checkpoints(): Promise<Checkpoint[]> {
    const rows = await this.db.all(
      'SELECT seq, head_hash, signed_at, prev_hash, key_fingerprint, signature FROM audit_checkpoints ORDER BY seq',
    );
    return rows.map((r) => ({
      cameraId: AUDIT_CHAIN_ID,
      seq: Number(r.seq),
      headHash: String(r.head_hash),
      signedAt: String(r.signed_at),
      version: 2,
      prevHash: String(r.prev_hash),
      keyFingerprint: String(r.key_fingerprint),
      signature: String(r.signature),
    }));
  }

  async chain(query: { from?: string; to?: string } = {}): Promise<AuditEntry[]> {
    const [sql, params] = listQuery(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log`,
      [when('at >= ?', query.from), when('at <= ?', query.to)],
      'id',
      undefined,
    );
    return (await this.db.all(sql, params)).map(rowToAudit);
  }

  /** Newest first. */
  async list(query: { cameraId?: string; action?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const [sql, params] = listQuery(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log`,
      [when('camera_id = ?', query.cameraId), when('action = ?', query.action)],
      'id DESC',
      query.limit,
    );
    const rows = await this.db.all(sql, params);
    return rows.map(rowToAudit);
  }
}

function rowToAudit(r: Record<string, unknown>): AuditEntry {
  const entry: AuditEntry = {
    id: Number(r.id),
    at: String(r.at),
    actor: String(r.actor),
    action: String(r.action),
    cameraId: textOrNull(r.camera_id),
    outcome: String(r.outcome) as AuditEntry['outcome'],
    details: parseObject(r.details),
  };
  if (r.seq !== null && r.seq !== undefined) entry.seq = Number(r.seq);
  if (r.prev_hash !== null && r.prev_hash !== undefined) entry.prevHash = String(r.prev_hash);
  if (r.entry_hash !== null && r.entry_hash !== undefined) entry.entryHash = String(r.entry_hash);
  return entry;
}

export class SqlSettingsRepository implements SettingsRepository {
  constructor(private readonly db: SqlExecutor) {}

  async get(key: string): Promise<string | undefined> {
    const rows = await this.db.all('SELECT value FROM settings WHERE key = ?', [key]);
    return rows[0] === undefined ? undefined : String(rows[0].value);
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      key,
      value,
    ]);
  }
}

function notFound(id: string): GatewayError {
  return new GatewayError('CAMERA_NOT_FOUND', `no camera with id ${id}`, {
    hint: 'List the cameras to see their ids.',
    details: { id },
  });
}

/** One AND-ed condition of a list query and its parameter. */
export type Condition = readonly [sql: string, value: SqlValue];

/** The condition, when its value is given (a list filter left unset is no condition). */
export function when(sql: string, value: SqlValue | undefined): Condition | undefined {
  return value === undefined ? undefined : [sql, value];
}

/** `select` narrowed by the conditions given, in `orderBy` order, at most `limit` rows when set. */
export function listQuery(
  select: string,
  conditions: ReadonlyArray<Condition | undefined>,
  orderBy: string,
  limit: number | undefined,
): [sql: string, params: SqlValue[]] {
  const present = conditions.filter((c): c is Condition => c !== undefined);
  let sql = select;
  if (present.length > 0) sql += ` WHERE ${present.map(([c]) => c).join(' AND ')}`;
  sql += ` ORDER BY ${orderBy}`;
  const params = present.map(([, v]) => v);
  const checked = checkCount('limit', limit);
  if (checked !== undefined) {
    sql += ' LIMIT ?';
    params.push(checked);
  }
  return [sql, params];
}

/** A change's fields as [column, value] pairs, by a field → column map (unset fields have value undefined). */
export function columnsOf<K extends string>(
  change: Partial<Record<NoInfer<K>, SqlValue>>,
  columns: Readonly<Record<K, string>>,
): Array<readonly [string, SqlValue | undefined]> {
  return (Object.entries(columns) as Array<[K, string]>).map(([key, column]) => [column, change[key]]);
}

/**
 * Compare-and-set on a row's state: sets the columns whose value is given only while the row
 * is still in state `from`, so two deciders racing cannot both win. True when it was (or
 * when there was nothing to set).
 */
export async function updateInState(
  db: SqlExecutor,
  table: string,
  id: string,
  from: string,
  columns: ReadonlyArray<readonly [column: string, value: SqlValue | undefined]>,
): Promise<boolean> {
  const sets = columns.filter((c): c is readonly [string, SqlValue] => c[1] !== undefined);
  if (sets.length === 0) return true;
  const sql = `UPDATE ${table} SET ${sets.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ? AND state = ?`;
  return (await db.run(sql, [...sets.map(([, v]) => v), id, from])) === 1;
}

export function checkCount(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new GatewayError('VALIDATION_FAILED', `${name} must be a non-negative integer (got ${String(value)})`);
  }
  return value;
}

export function textOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function numberOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function parseStringArray(v: unknown): string[] {
  if (typeof v !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Stored masks were validated on write; kept as they are (never dropped: they protect privacy). */
function parseMasks(v: unknown): Mask[] {
  if (typeof v !== 'string') return [];
  const parsed: unknown = JSON.parse(v);
  return Array.isArray(parsed) ? (parsed as Mask[]) : [];
}

export function parseObject(v: unknown): Record<string, unknown> {
  if (typeof v !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
