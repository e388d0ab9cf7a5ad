/** Access requests (see access/requests.ts), over the shared SQL executor. */
import type { AccessRequest, AccessRequestState } from '../domain/index.js';
import type { AccessRequestQuery, AccessRequestRepository, AccessRequestTransition } from './store.js';
import { columnsOf, listQuery, parseObject, textOrNull, updateInState, when, type SqlExecutor, type SqlValue } from './sqlRepositories.js';

const COLUMNS = [
  'id',
  'kind',
  'camera_ids',
  'from_at',
  'to_at',
  'purpose',
  'destination',
  'staff',
  'documents',
  'profile',
  'state',
  'filed_by_user_id',
  'filed_by_username',
  'filed_at',
  'decided_by',
  'decided_at',
  'decision_reason',
  'valid_from',
  'valid_until',
  'revoked_by',
  'revoked_at',
  'revoke_reason',
] as const;

const SELECT = `SELECT ${COLUMNS.join(', ')} FROM access_requests`;

function toRow(r: AccessRequest): SqlValue[] {
  return [
    r.id,
    r.kind,
    JSON.stringify(r.cameraIds),
    r.from,
    r.to,
    r.purpose,
    r.destination,
    JSON.stringify(r.staff),
    JSON.stringify(r.documents),
    r.profile,
    r.state,
    r.filedBy.userId,
    r.filedBy.username,
    r.filedAt,
    r.decidedBy,
    r.decidedAt,
    r.decisionReason,
    r.validFrom,
    r.validUntil,
    r.revokedBy,
    r.revokedAt,
    r.revokeReason,
  ];
}

function fromRow(r: Record<string, unknown>): AccessRequest {
  return {
    id: String(r.id),
    kind: String(r.kind) as AccessRequest['kind'],
    cameraIds: JSON.parse(String(r.camera_ids)) as string[],
    from: String(r.from_at),
    to: String(r.to_at),
    purpose: String(r.purpose),
    destination: String(r.destination),
    staff: JSON.parse(String(r.staff)) as AccessRequest['staff'],
    documents: parseObject(r.documents) as AccessRequest['documents'],
    profile: String(r.profile),
    state: String(r.state) as AccessRequestState,
    filedBy: { userId: String(r.filed_by_user_id), username: String(r.filed_by_username) },
    filedAt: String(r.filed_at),
    decidedBy: textOrNull(r.decided_by),
    decidedAt: textOrNull(r.decided_at),
    decisionReason: textOrNull(r.decision_reason),
    validFrom: textOrNull(r.valid_from),
    validUntil: textOrNull(r.valid_until),
    revokedBy: textOrNull(r.revoked_by),
    revokedAt: textOrNull(r.revoked_at),
    revokeReason: textOrNull(r.revoke_reason),
  };
}

/** Only these columns change after filing, and only through a state transition. */
const TRANSITION_COLUMNS: Record<keyof Omit<AccessRequestTransition, 'state'>, string> = {
  decidedBy: 'decided_by',
  decidedAt: 'decided_at',
  decisionReason: 'decision_reason',
  validFrom: 'valid_from',
  validUntil: 'valid_until',
  revokedBy: 'revoked_by',
  revokedAt: 'revoked_at',
  revokeReason: 'revoke_reason',
};

export class SqlAccessRequestRepository implements AccessRequestRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(request: AccessRequest): Promise<void> {
    await this.db.run(`INSERT INTO access_requests (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`, toRow(request));
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    const rows = await this.db.all(`${SELECT} WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /** Newest first. */
  async list(query: AccessRequestQuery = {}): Promise<AccessRequest[]> {
    const [sql, params] = listQuery(SELECT, [when('state = ?', query.state)], 'filed_at DESC, id DESC', query.limit);
    return (await this.db.all(sql, params)).map(fromRow);
  }

  /** Compare-and-set on the state, so two deciders racing cannot both win. */
  async transition(id: string, from: AccessRequestState, change: AccessRequestTransition): Promise<boolean> {
    return updateInState(this.db, 'access_requests', id, from, [['state', change.state], ...columnsOf(change, TRANSITION_COLUMNS)]);
  }
}
