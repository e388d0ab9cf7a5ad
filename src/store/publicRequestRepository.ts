/** Public requests (see access/publicRequests.ts), over the shared SQL executor. */
import type { PublicRequest, PublicRequestState } from '../domain/index.js';
import type { PublicRequestRepository, PublicRequestTransition } from './store.js';
import { columnsOf, listQuery, textOrNull, updateInState, when, type SqlExecutor, type SqlValue } from './sqlRepositories.js';

const COLUMNS = [
  'id',
  'category',
  'applicant_name',
  'applicant_contact',
  'applicant_relationship',
  'id_document',
  'reason',
  'camera_ids',
  'from_at',
  'to_at',
  'profile',
  'state',
  'filed_by_user_id',
  'filed_by_username',
  'filed_at',
  'decision',
  'decided_by',
  'decided_at',
  'decision_reason',
  'access_request_id',
  'result',
  'result_notes',
  'result_by',
  'result_at',
] as const;

const SELECT = `SELECT ${COLUMNS.join(', ')} FROM public_requests`;

function toRow(r: PublicRequest): SqlValue[] {
  return [
    r.id,
    r.category,
    r.applicant.name,
    r.applicant.contact,
    r.applicant.relationship,
    JSON.stringify(r.applicant.idDocument),
    r.reason,
    JSON.stringify(r.cameraIds),
    r.from,
    r.to,
    r.profile,
    r.state,
    r.filedBy.userId,
    r.filedBy.username,
    r.filedAt,
    r.decision,
    r.decidedBy,
    r.decidedAt,
    r.decisionReason,
    r.accessRequestId,
    r.result,
    r.resultNotes,
    r.resultBy,
    r.resultAt,
  ];
}

function fromRow(r: Record<string, unknown>): PublicRequest {
  return {
    id: String(r.id),
    category: String(r.category) as PublicRequest['category'],
    applicant: {
      name: String(r.applicant_name),
      contact: String(r.applicant_contact),
      relationship: String(r.applicant_relationship),
      idDocument: JSON.parse(String(r.id_document)) as PublicRequest['applicant']['idDocument'],
    },
    reason: String(r.reason),
    cameraIds: JSON.parse(String(r.camera_ids)) as string[],
    from: String(r.from_at),
    to: String(r.to_at),
    profile: String(r.profile),
    state: String(r.state) as PublicRequestState,
    filedBy: { userId: String(r.filed_by_user_id), username: String(r.filed_by_username) },
    filedAt: String(r.filed_at),
    decision: textOrNull(r.decision) as PublicRequest['decision'],
    decidedBy: textOrNull(r.decided_by),
    decidedAt: textOrNull(r.decided_at),
    decisionReason: textOrNull(r.decision_reason),
    accessRequestId: textOrNull(r.access_request_id),
    result: textOrNull(r.result) as PublicRequest['result'],
    resultNotes: textOrNull(r.result_notes),
    resultBy: textOrNull(r.result_by),
    resultAt: textOrNull(r.result_at),
  };
}

/** Only these columns change after filing, and only through a state transition. */
const TRANSITION_COLUMNS: Record<keyof Omit<PublicRequestTransition, 'state'>, string> = {
  decision: 'decision',
  decidedBy: 'decided_by',
  decidedAt: 'decided_at',
  decisionReason: 'decision_reason',
  accessRequestId: 'access_request_id',
  result: 'result',
  resultNotes: 'result_notes',
  resultBy: 'result_by',
  resultAt: 'result_at',
};

export class SqlPublicRequestRepository implements PublicRequestRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(request: PublicRequest): Promise<void> {
    await this.db.run(`INSERT INTO public_requests (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`, toRow(request));
  }

  async get(id: string): Promise<PublicRequest | undefined> {
    const rows = await this.db.all(`${SELECT} WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async list(query: { from?: string; to?: string; limit?: number } = {}): Promise<PublicRequest[]> {
    const [sql, params] = listQuery(
      SELECT,
      [when('filed_at >= ?', query.from), when('filed_at < ?', query.to)],
      'filed_at DESC, id DESC',
      query.limit,
    );
    return (await this.db.all(sql, params)).map(fromRow);
  }

  /** Compare-and-set on the state, so two police officers deciding at once cannot both win. */
  async transition(id: string, from: PublicRequestState, change: PublicRequestTransition): Promise<boolean> {
    return updateInState(this.db, 'public_requests', id, from, [['state', change.state], ...columnsOf(change, TRANSITION_COLUMNS)]);
  }
}
