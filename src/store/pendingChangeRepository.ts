/** Pending changes that weaken protection (see changes/pendingChanges.ts), over the shared SQL executor. */
import type { PendingChange, PendingChangeState } from '../domain/index.js';
import type { PendingChangeQuery, PendingChangeRepository, PendingChangeTransition } from './store.js';
import { listQuery, textOrNull, updateInState, when, type SqlExecutor, type SqlValue } from './sqlRepositories.js';

const COLUMNS = [
  'id',
  'kind',
  'subject',
  'summary',
  'current_value',
  'proposed_value',
  'proposed_by_user_id',
  'proposed_by_username',
  'proposed_at',
  'expires_at',
  'state',
  'decided_by',
  'decided_at',
  'decision_reason',
] as const;

const SELECT = `SELECT ${COLUMNS.join(', ')} FROM pending_changes`;

function toRow(c: PendingChange): SqlValue[] {
  return [
    c.id,
    c.kind,
    c.subject,
    c.summary,
    JSON.stringify(c.current ?? null),
    JSON.stringify(c.proposed ?? null),
    c.proposedBy.userId,
    c.proposedBy.username,
    c.proposedAt,
    c.expiresAt,
    c.state,
    c.decidedBy,
    c.decidedAt,
    c.decisionReason,
  ];
}

function fromRow(r: Record<string, unknown>): PendingChange {
  return {
    id: String(r.id),
    kind: String(r.kind) as PendingChange['kind'],
    subject: String(r.subject),
    summary: String(r.summary),
    current: JSON.parse(String(r.current_value)) as unknown,
    proposed: JSON.parse(String(r.proposed_value)) as unknown,
    proposedBy: { userId: String(r.proposed_by_user_id), username: String(r.proposed_by_username) },
    proposedAt: String(r.proposed_at),
    expiresAt: String(r.expires_at),
    state: String(r.state) as PendingChangeState,
    decidedBy: textOrNull(r.decided_by),
    decidedAt: textOrNull(r.decided_at),
    decisionReason: textOrNull(r.decision_reason),
  };
}

export class SqlPendingChangeRepository implements PendingChangeRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(change: PendingChange): Promise<void> {
    await this.db.run(`INSERT INTO pending_changes (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`, toRow(change));
  }

  async get(id: string): Promise<PendingChange | undefined> {
    const rows = await this.db.all(`${SELECT} WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  /** Newest first. */
  async list(query: PendingChangeQuery = {}): Promise<PendingChange[]> {
    const [sql, params] = listQuery(SELECT, [when('state = ?', query.state)], 'proposed_at DESC, id DESC', query.limit);
    return (await this.db.all(sql, params)).map(fromRow);
  }

  /** Compare-and-set on the state, so two deciders racing cannot both win. */
  async transition(id: string, from: PendingChangeState, change: PendingChangeTransition): Promise<boolean> {
    return updateInState(this.db, 'pending_changes', id, from, [
      ['state', change.state],
      ['decided_by', change.decidedBy ?? null],
      ['decided_at', change.decidedAt ?? null],
      ['decision_reason', change.decisionReason ?? null],
    ]);
  }
}
