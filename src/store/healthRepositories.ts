/**
 * The outage ledger, maintenance windows, alert outbox and filings, over the same SQL
 * executor as the camera repositories. Times are ISO-8601 UTC text (`toISOString()`),
 * which orders correctly as text on both dialects.
 */
import { parseObject, textOrNull, type SqlExecutor, type SqlValue } from './sqlRepositories.js';
import type {
  AlertOutboxRepository,
  DeliveryFailure,
  FilingRecord,
  FilingRepository,
  MaintenanceRepository,
  MaintenanceWindow,
  OutageQuery,
  OutageRecord,
  OutageRepository,
  OutboxEntry,
  PlatformOutageRecord,
  PlatformOutageRepository,
} from './store.js';

export async function insertReturningId(db: SqlExecutor, sql: string, params: readonly SqlValue[]): Promise<number> {
  const rows = await db.all(`${sql} RETURNING id`, params);
  return Number(rows[0]?.id);
}

const OUTAGE_COLUMNS = 'id, camera_id, kind, cause, started_at, ended_at, planned, details';

function rowToOutage(r: Record<string, unknown>): OutageRecord {
  return {
    id: Number(r.id),
    cameraId: String(r.camera_id),
    kind: String(r.kind),
    cause: String(r.cause),
    startedAt: String(r.started_at),
    endedAt: textOrNull(r.ended_at),
    planned: Number(r.planned) === 1,
    details: parseObject(r.details),
  };
}

/** `[from, to)` overlap conditions on a table with a start and a nullable (open) end column. */
function overlap(startCol: string, endCol: string, q: { from?: string; to?: string }): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.to !== undefined) {
    where.push(`${startCol} < ?`);
    params.push(q.to);
  }
  if (q.from !== undefined) {
    where.push(`(${endCol} IS NULL OR ${endCol} > ?)`);
    params.push(q.from);
  }
  return { where, params };
}

/** Rows of a ledger table (`started_at`, nullable `ended_at`) overlapping the range, of one subject when given, oldest first. */
function ledgerRows(
  db: SqlExecutor,
  table: string,
  columns: string,
  q: { from?: string; to?: string },
  subject: readonly [column: string, value: string | undefined],
): Promise<Record<string, unknown>[]> {
  const { where, params } = overlap('started_at', 'ended_at', q);
  if (subject[1] !== undefined) {
    where.push(`${subject[0]} = ?`);
    params.push(subject[1]);
  }
  return db.all(`SELECT ${columns} FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at, id`, params);
}

/** Ends a ledger row once; true when it was open. */
async function closeLedgerRow(db: SqlExecutor, table: string, id: number, endedAt: string): Promise<boolean> {
  return (await db.run(`UPDATE ${table} SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, [endedAt, id])) > 0;
}

export class SqlOutageRepository implements OutageRepository {
  constructor(private readonly db: SqlExecutor) {}

  open(o: Omit<OutageRecord, 'id' | 'endedAt'>): Promise<number> {
    return insertReturningId(
      this.db,
      'INSERT INTO outages (camera_id, kind, cause, started_at, ended_at, planned, details) VALUES (?, ?, ?, ?, NULL, ?, ?)',
      [o.cameraId, o.kind, o.cause, o.startedAt, o.planned ? 1 : 0, JSON.stringify(o.details)],
    );
  }

  async setCause(id: number, cause: string): Promise<void> {
    await this.db.run('UPDATE outages SET cause = ? WHERE id = ?', [cause, id]);
  }

  close(id: number, endedAt: string): Promise<boolean> {
    return closeLedgerRow(this.db, 'outages', id, endedAt);
  }

  async openOnes(): Promise<OutageRecord[]> {
    const rows = await this.db.all(`SELECT ${OUTAGE_COLUMNS} FROM outages WHERE ended_at IS NULL ORDER BY started_at, id`);
    return rows.map(rowToOutage);
  }

  async list(query: OutageQuery = {}): Promise<OutageRecord[]> {
    return (await ledgerRows(this.db, 'outages', OUTAGE_COLUMNS, query, ['camera_id', query.cameraId])).map(rowToOutage);
  }
}

const PLATFORM_OUTAGE_COLUMNS = 'id, platform, kind, cause, started_at, ended_at, details';

function rowToPlatformOutage(r: Record<string, unknown>): PlatformOutageRecord {
  return {
    id: Number(r.id),
    platform: String(r.platform),
    kind: String(r.kind),
    cause: String(r.cause),
    startedAt: String(r.started_at),
    endedAt: textOrNull(r.ended_at),
    details: parseObject(r.details),
  };
}

export class SqlPlatformOutageRepository implements PlatformOutageRepository {
  constructor(private readonly db: SqlExecutor) {}

  open(o: Omit<PlatformOutageRecord, 'id' | 'endedAt'>): Promise<number> {
    return insertReturningId(
      this.db,
      'INSERT INTO platform_outages (platform, kind, cause, started_at, ended_at, details) VALUES (?, ?, ?, ?, NULL, ?)',
      [o.platform, o.kind, o.cause, o.startedAt, JSON.stringify(o.details)],
    );
  }

  close(id: number, endedAt: string): Promise<boolean> {
    return closeLedgerRow(this.db, 'platform_outages', id, endedAt);
  }

  async openOnes(): Promise<PlatformOutageRecord[]> {
    const rows = await this.db.all(
      `SELECT ${PLATFORM_OUTAGE_COLUMNS} FROM platform_outages WHERE ended_at IS NULL ORDER BY started_at, id`,
    );
    return rows.map(rowToPlatformOutage);
  }

  async list(query: { from?: string; to?: string; platform?: string } = {}): Promise<PlatformOutageRecord[]> {
    return (await ledgerRows(this.db, 'platform_outages', PLATFORM_OUTAGE_COLUMNS, query, ['platform', query.platform])).map(
      rowToPlatformOutage,
    );
  }
}

const WINDOW_COLUMNS = 'id, camera_id, starts_at, ends_at, reason, created_by, created_at';

function rowToWindow(r: Record<string, unknown>): MaintenanceWindow {
  return {
    id: Number(r.id),
    cameraId: textOrNull(r.camera_id),
    startsAt: String(r.starts_at),
    endsAt: String(r.ends_at),
    reason: String(r.reason),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
  };
}

export class SqlMaintenanceRepository implements MaintenanceRepository {
  constructor(private readonly db: SqlExecutor) {}

  async add(w: Omit<MaintenanceWindow, 'id'>): Promise<MaintenanceWindow> {
    const id = await insertReturningId(
      this.db,
      'INSERT INTO maintenance_windows (camera_id, starts_at, ends_at, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [w.cameraId, w.startsAt, w.endsAt, w.reason, w.createdBy, w.createdAt],
    );
    return { id, ...w };
  }

  async list(query: { from?: string; to?: string } = {}): Promise<MaintenanceWindow[]> {
    const { where, params } = overlap('starts_at', 'ends_at', query);
    const rows = await this.db.all(
      `SELECT ${WINDOW_COLUMNS} FROM maintenance_windows${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY starts_at, id`,
      params,
    );
    return rows.map(rowToWindow);
  }

  async covering(cameraId: string, at: string): Promise<MaintenanceWindow | undefined> {
    const rows = await this.db.all(
      `SELECT ${WINDOW_COLUMNS} FROM maintenance_windows WHERE starts_at <= ? AND ends_at > ? AND (camera_id IS NULL OR camera_id = ?) ORDER BY starts_at, id LIMIT 1`,
      [at, at, cameraId],
    );
    return rows[0] === undefined ? undefined : rowToWindow(rows[0]);
  }

  async remove(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM maintenance_windows WHERE id = ?', [id])) > 0;
  }
}

const OUTBOX_COLUMNS =
  'id, event_id, target, body, created_at, attempts, next_attempt_at, delivered_at, last_error, rejections, dead_at, last_status, last_response';
/** Undelivered and not given up on. */
const OPEN = 'delivered_at IS NULL AND dead_at IS NULL';

function rowToOutboxEntry(r: Record<string, unknown>): OutboxEntry {
  return {
    id: Number(r.id),
    eventId: String(r.event_id),
    target: String(r.target),
    body: String(r.body),
    createdAt: String(r.created_at),
    attempts: Number(r.attempts),
    nextAttemptAt: String(r.next_attempt_at),
    deliveredAt: textOrNull(r.delivered_at),
    lastError: textOrNull(r.last_error),
    rejections: Number(r.rejections ?? 0),
    deadAt: textOrNull(r.dead_at),
    lastStatus: r.last_status === null || r.last_status === undefined ? null : Number(r.last_status),
    lastResponse: textOrNull(r.last_response),
  };
}

/** The failure's columns, cut to a size a row can hold. */
function failureParams(f: DeliveryFailure): SqlValue[] {
  return [f.error.slice(0, 500), f.status, f.response === null ? null : f.response.slice(0, 500)];
}

export class SqlAlertOutboxRepository implements AlertOutboxRepository {
  constructor(private readonly db: SqlExecutor) {}

  async enqueue(e: { eventId: string; target: string; body: string; createdAt: string }): Promise<boolean> {
    // ON CONFLICT DO NOTHING: the same event queued twice for a target (a replayed change) is one delivery.
    const changed = await this.db.run(
      'INSERT INTO alert_outbox (event_id, target, body, created_at, attempts, next_attempt_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (event_id, target) DO NOTHING',
      [e.eventId, e.target, e.body, e.createdAt, e.createdAt],
    );
    return changed > 0;
  }

  async oldestPending(target: string): Promise<OutboxEntry | undefined> {
    return this.#first(`${OPEN} AND rejections = 0 AND target = ? ORDER BY id`, [target]);
  }

  async dueRejected(target: string, now: string): Promise<OutboxEntry | undefined> {
    return this.#first(`${OPEN} AND rejections > 0 AND target = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id`, [target, now]);
  }

  async nextRejectedAt(target: string): Promise<string | undefined> {
    const rows = await this.db.all(`SELECT MIN(next_attempt_at) AS t FROM alert_outbox WHERE ${OPEN} AND rejections > 0 AND target = ?`, [
      target,
    ]);
    return textOrNull(rows[0]?.t) ?? undefined;
  }

  async markDelivered(id: number, at: string): Promise<void> {
    await this.db.run('UPDATE alert_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?', [at, id]);
  }

  async markFailed(id: number, failure: DeliveryFailure, nextAttemptAt: string): Promise<void> {
    await this.db.run(
      'UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?, last_status = ?, last_response = ?, next_attempt_at = ? WHERE id = ?',
      [...failureParams(failure), nextAttemptAt, id],
    );
  }

  async markRejected(id: number, failure: DeliveryFailure, nextAttemptAt: string): Promise<void> {
    await this.db.run(
      'UPDATE alert_outbox SET attempts = attempts + 1, rejections = rejections + 1, last_error = ?, last_status = ?, last_response = ?, next_attempt_at = ? WHERE id = ?',
      [...failureParams(failure), nextAttemptAt, id],
    );
  }

  async markDead(id: number, failure: DeliveryFailure, at: string): Promise<void> {
    await this.db.run(
      'UPDATE alert_outbox SET attempts = attempts + 1, rejections = rejections + 1, last_error = ?, last_status = ?, last_response = ?, dead_at = ? WHERE id = ?',
      [...failureParams(failure), at, id],
    );
  }

  async pendingCount(): Promise<number> {
    const rows = await this.db.all(`SELECT COUNT(*) AS n FROM alert_outbox WHERE ${OPEN}`);
    return Number(rows[0]?.n ?? 0);
  }

  async pendingTargets(): Promise<string[]> {
    const rows = await this.db.all(`SELECT DISTINCT target FROM alert_outbox WHERE ${OPEN} ORDER BY target`);
    return rows.map((r) => String(r.target));
  }

  async deadLetters(query: { target?: string; limit?: number } = {}): Promise<OutboxEntry[]> {
    const params: SqlValue[] = [];
    let sql = `SELECT ${OUTBOX_COLUMNS} FROM alert_outbox WHERE dead_at IS NOT NULL`;
    if (query.target !== undefined) {
      sql += ' AND target = ?';
      params.push(query.target);
    }
    params.push(query.limit ?? 1000);
    const rows = await this.db.all(`${sql} ORDER BY dead_at DESC, id DESC LIMIT ?`, params);
    return rows.map(rowToOutboxEntry);
  }

  async deadLetterCounts(): Promise<Record<string, number>> {
    const rows = await this.db.all(
      'SELECT target, COUNT(*) AS n FROM alert_outbox WHERE dead_at IS NOT NULL GROUP BY target ORDER BY target',
    );
    return Object.fromEntries(rows.map((r) => [String(r.target), Number(r.n)]));
  }

  async prune(cutoffs: { deliveredBefore: string; deadBefore: string }): Promise<number> {
    return this.db.run(
      'DELETE FROM alert_outbox WHERE (delivered_at IS NOT NULL AND delivered_at < ?) OR (dead_at IS NOT NULL AND dead_at < ?)',
      [cutoffs.deliveredBefore, cutoffs.deadBefore],
    );
  }

  async #first(where: string, params: readonly SqlValue[]): Promise<OutboxEntry | undefined> {
    const rows = await this.db.all(`SELECT ${OUTBOX_COLUMNS} FROM alert_outbox WHERE ${where} LIMIT 1`, params);
    return rows[0] === undefined ? undefined : rowToOutboxEntry(rows[0]);
  }
}

export class SqlFilingRepository implements FilingRepository {
  constructor(private readonly db: SqlExecutor) {}

  async add(f: Omit<FilingRecord, 'id'>): Promise<FilingRecord> {
    const id = await insertReturningId(
      this.db,
      'INSERT INTO filings (camera_id, event, filed_at, reference, created_at) VALUES (?, ?, ?, ?, ?)',
      [f.cameraId, f.event, f.filedAt, f.reference, f.createdAt],
    );
    return { id, ...f };
  }

  async list(query: { cameraId?: string } = {}): Promise<FilingRecord[]> {
    const params: SqlValue[] = [];
    let sql = 'SELECT id, camera_id, event, filed_at, reference, created_at FROM filings';
    if (query.cameraId !== undefined) {
      sql += ' WHERE camera_id = ?';
      params.push(query.cameraId);
    }
    const rows = await this.db.all(`${sql} ORDER BY camera_id, filed_at, id`, params);
    return rows.map((r) => ({
      id: Number(r.id),
      cameraId: String(r.camera_id),
      event: String(r.event) as FilingRecord['event'],
      filedAt: String(r.filed_at),
      reference: textOrNull(r.reference),
      createdAt: String(r.created_at),
    }));
  }
}
