/** Export jobs (see exports/), over the shared SQL executor. */
import type { ExportJob, ExportJobState } from '../domain/index.js';
import type { ExportJobChange, ExportJobQuery, ExportJobRepository } from './store.js';
import { columnsOf, listQuery, textOrNull, updateInState, when, type SqlExecutor, type SqlValue } from './sqlRepositories.js';

const COLUMNS = [
  'id',
  'request_id',
  'camera_id',
  'from_at',
  'to_at',
  'user_id',
  'username',
  'state',
  'progress',
  'clip',
  'manifest',
  'clip_bytes',
  'clip_sha256',
  'error',
  'created_at',
  'started_at',
  'finished_at',
  'node',
] as const;

const SELECT = `SELECT ${COLUMNS.join(', ')} FROM export_jobs`;

/** Only these change after a job is created. */
const CHANGE_COLUMNS: Record<keyof ExportJobChange, string> = {
  state: 'state',
  progress: 'progress',
  clip: 'clip',
  manifest: 'manifest',
  clipBytes: 'clip_bytes',
  clipSha256: 'clip_sha256',
  error: 'error',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

function toRow(j: ExportJob): SqlValue[] {
  return [
    j.id,
    j.requestId,
    j.cameraId,
    j.from,
    j.to,
    j.userId,
    j.username,
    j.state,
    j.progress,
    j.clip,
    j.manifest,
    j.clipBytes,
    j.clipSha256,
    j.error,
    j.createdAt,
    j.startedAt,
    j.finishedAt,
    j.node ?? null,
  ];
}

function numberOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function fromRow(r: Record<string, unknown>): ExportJob {
  return {
    id: String(r.id),
    requestId: String(r.request_id),
    cameraId: String(r.camera_id),
    from: String(r.from_at),
    to: String(r.to_at),
    userId: String(r.user_id),
    username: String(r.username),
    state: String(r.state) as ExportJobState,
    progress: Number(r.progress),
    clip: textOrNull(r.clip),
    manifest: textOrNull(r.manifest),
    clipBytes: numberOrNull(r.clip_bytes),
    clipSha256: textOrNull(r.clip_sha256),
    error: textOrNull(r.error),
    createdAt: String(r.created_at),
    startedAt: textOrNull(r.started_at),
    finishedAt: textOrNull(r.finished_at),
    ...(typeof r.node === 'string' && r.node !== '' ? { node: r.node } : {}),
  };
}

export class SqlExportJobRepository implements ExportJobRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(job: ExportJob): Promise<void> {
    await this.db.run(`INSERT INTO export_jobs (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`, toRow(job));
  }

  async get(id: string): Promise<ExportJob | undefined> {
    const rows = await this.db.all(`${SELECT} WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /** Oldest first (the queue's order). */
  async list(query: ExportJobQuery = {}): Promise<ExportJob[]> {
    const [sql, params] = listQuery(
      SELECT,
      [when('user_id = ?', query.userId), when('state = ?', query.state), when('(node IS NULL OR node = ?)', query.runnableBy)],
      'created_at, id',
      query.limit,
    );
    return (await this.db.all(sql, params)).map(fromRow);
  }

  /** Compare-and-set on the state, so a job is started or finished once. */
  async update(id: string, from: ExportJobState, change: ExportJobChange): Promise<boolean> {
    return updateInState(this.db, 'export_jobs', id, from, columnsOf(change, CHANGE_COLUMNS));
  }
}
