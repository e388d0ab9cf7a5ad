/** The access register (see domain/accessRegister.ts), over the shared SQL executor: insert and list, nothing else. */
import type { NewRegisterEntry, RegisterEntry, RegisterRetriever } from '../domain/index.js';
import { insertReturningId } from './healthRepositories.js';
import type { AccessRegisterRepository, RegisterQuery } from './store.js';
import { listQuery, textOrNull, when, type SqlExecutor, type SqlValue } from './sqlRepositories.js';

const COLUMNS = [
  'method',
  'tier',
  'recorder',
  'retriever',
  'started_at',
  'ended_at',
  'purpose',
  'destination',
  'camera_ids',
  'footage_from',
  'footage_to',
  'bytes',
  'request_id',
  'exemption',
  'protocol',
  'client_address',
] as const;

function toRow(e: NewRegisterEntry): SqlValue[] {
  return [
    e.method,
    e.tier,
    e.recorder,
    JSON.stringify(e.retriever),
    e.startedAt,
    e.endedAt,
    e.purpose,
    e.destination,
    JSON.stringify(e.cameraIds),
    e.footageFrom,
    e.footageTo,
    e.bytes,
    e.requestId,
    e.exemption,
    e.protocol,
    e.clientAddress,
  ];
}

function fromRow(r: Record<string, unknown>): RegisterEntry {
  return {
    id: Number(r.id),
    method: String(r.method) as RegisterEntry['method'],
    tier: String(r.tier) as RegisterEntry['tier'],
    recorder: String(r.recorder),
    retriever: JSON.parse(String(r.retriever)) as RegisterRetriever,
    startedAt: String(r.started_at),
    endedAt: String(r.ended_at),
    purpose: textOrNull(r.purpose),
    destination: textOrNull(r.destination),
    cameraIds: JSON.parse(String(r.camera_ids)) as string[],
    footageFrom: String(r.footage_from),
    footageTo: String(r.footage_to),
    bytes: Number(r.bytes),
    requestId: textOrNull(r.request_id),
    exemption: textOrNull(r.exemption),
    protocol: textOrNull(r.protocol),
    clientAddress: textOrNull(r.client_address),
  };
}

export class SqlAccessRegisterRepository implements AccessRegisterRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(entry: NewRegisterEntry): Promise<RegisterEntry> {
    const sql = `INSERT INTO access_register (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;
    const id = await insertReturningId(this.db, sql, toRow(entry));
    return { id, ...entry };
  }

  async list(query: RegisterQuery = {}): Promise<RegisterEntry[]> {
    // ISO-8601 UTC text compares in time order. camera_ids is a JSON array of strings: match the quoted id, LIKE's wildcards escaped.
    const camera = query.cameraId === undefined ? undefined : `%${JSON.stringify(query.cameraId).replace(/[%_!]/g, '!$&')}%`;
    const [sql, params] = listQuery(
      `SELECT id, ${COLUMNS.join(', ')} FROM access_register`,
      [when('ended_at >= ?', query.from), when('started_at <= ?', query.to), when("camera_ids LIKE ? ESCAPE '!'", camera)],
      'started_at, id',
      query.limit,
    );
    return (await this.db.all(sql, params)).map(fromRow);
  }
}
