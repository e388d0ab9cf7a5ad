/**
 * Four eyes on changes that weaken protection: one person (or the config file) proposes,
 * a second admin approves or rejects, the proposer may withdraw, and a change nobody
 * decides expires. Who may decide is the policy's four-eyes rule (the one access requests
 * use); what an approval does is an applier per kind, registered by whoever owns the thing
 * changed. Every step is audited.
 */
import { randomUUID } from 'node:crypto';
import { decide, type Action } from '../access/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import type { AuditEntry, PendingChange, PendingChangeKind, PendingChangeState, Principal } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { PendingChangeTransition, Store, StoreRepositories } from '../store/index.js';

/** The proposer of a weakening found in the config file at start. */
export const CONFIG_FILE_PROPOSER = { userId: 'config-file', username: 'config file' } as const;

export const DEFAULT_PENDING_DAYS = 7;

/** What a kind's approval does; it runs before the change is marked approved, so a failure leaves it pending. */
export type ChangeApplier = (change: PendingChange, approver: Principal) => Promise<void>;

export interface Proposal {
  kind: PendingChangeKind;
  subject: string;
  summary: string;
  current: unknown;
  proposed: unknown;
  /** The camera it concerns, for the audit entry. */
  cameraId?: string | null;
}

export interface PendingChangesOptions {
  store: Store;
  profile: JurisdictionProfile;
  /** Days a change waits for its decision before it expires. */
  pendingDays?: number;
  now?: () => number;
}

export class PendingChanges {
  readonly #store: Store;
  readonly #profile: JurisdictionProfile;
  readonly #pendingMs: number;
  readonly #now: () => number;
  readonly #appliers = new Map<PendingChangeKind, ChangeApplier>();
  /** Decisions run one at a time: an approval applies the change, then marks it, and two must not interleave. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(opts: PendingChangesOptions) {
    this.#store = opts.store;
    this.#profile = opts.profile;
    this.#pendingMs = (opts.pendingDays ?? DEFAULT_PENDING_DAYS) * 86400_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Registers what approving a kind does. */
  onApprove(kind: PendingChangeKind, applier: ChangeApplier): void {
    this.#appliers.set(kind, applier);
  }

  /**
   * Files a change as pending; a pending change of the same kind and subject proposing the
   * same is returned instead of a second one (a restart with the same config files nothing new).
   */
  async propose(proposer: { userId: string; username: string }, p: Proposal): Promise<PendingChange> {
    const open = (await this.list({ state: 'pending' })).find((c) => c.kind === p.kind && c.subject === p.subject);
    if (open !== undefined && JSON.stringify(open.proposed) === JSON.stringify(p.proposed)) return open;
    const now = this.#now();
    const change: PendingChange = {
      id: randomUUID(),
      kind: p.kind,
      subject: p.subject,
      summary: p.summary,
      current: p.current,
      proposed: p.proposed,
      proposedBy: { userId: proposer.userId, username: proposer.username },
      proposedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.#pendingMs).toISOString(),
      state: 'pending',
      decidedBy: null,
      decidedAt: null,
      decisionReason: null,
    };
    await this.#store.transaction(async (tx) => {
      // A newer proposal for the same thing replaces the older one: only one waits per subject.
      if (open !== undefined && (await tx.pendingChanges.transition(open.id, 'pending', this.#decision('superseded', proposer.username)))) {
        await audit(tx, proposer.username, 'pending_change.supersede', open, { by: change.id }, this.#iso());
      }
      await tx.pendingChanges.insert(change);
      await audit(tx, proposer.username, 'pending_change.propose', change, {}, this.#iso(), p.cameraId);
    });
    return change;
  }

  /** Marks pending changes of a kind and subject as superseded (the config went back to its approved value). */
  async supersede(kind: PendingChangeKind, subject: string, by: string): Promise<void> {
    for (const c of await this.list({ state: 'pending' })) {
      if (c.kind !== kind || c.subject !== subject) continue;
      await this.#store.transaction(async (tx) => {
        if (await tx.pendingChanges.transition(c.id, 'pending', this.#decision('superseded', by))) {
          await audit(tx, by, 'pending_change.supersede', c, {}, this.#iso());
        }
      });
    }
  }

  async list(query: { state?: PendingChangeState; limit?: number } = {}): Promise<PendingChange[]> {
    const all = await Promise.all((await this.#store.pendingChanges.list({ limit: query.limit })).map((c) => this.#expireIfDue(c)));
    return all.filter((c) => query.state === undefined || c.state === query.state);
  }

  async get(id: string): Promise<PendingChange> {
    return this.#expireIfDue(await this.#load(id));
  }

  /** Applies the change (its kind's applier), then marks it approved; refused to its proposer (four eyes). */
  approve(principal: Principal, id: string, body: unknown): Promise<PendingChange> {
    return this.#serially(async () => {
      const reason = reasonOf(body, false);
      const change = await this.#decidable(principal, id, 'changes.approve');
      const applier = this.#appliers.get(change.kind);
      if (applier === undefined) throw new Error(`no applier registered for pending changes of kind ${change.kind}`);
      await applier(change, principal);
      return this.#transition(principal, change, 'pending_change.approve', this.#decision('approved', principal.username, reason));
    });
  }

  reject(principal: Principal, id: string, body: unknown): Promise<PendingChange> {
    return this.#serially(async () => {
      const reason = reasonOf(body, true);
      const change = await this.#decidable(principal, id, 'changes.reject');
      return this.#transition(principal, change, 'pending_change.reject', this.#decision('rejected', principal.username, reason));
    });
  }

  /** Only its proposer withdraws a change. */
  withdraw(principal: Principal, id: string, body: unknown): Promise<PendingChange> {
    return this.#serially(async () => {
      const reason = reasonOf(body, false);
      const change = await this.get(id);
      if (change.proposedBy.userId !== principal.userId) {
        throw new GatewayError(
          'FORBIDDEN',
          `Only its proposer (${change.proposedBy.username}) withdraws pending change ${id}; an admin rejects it instead.`,
        );
      }
      if (change.state !== 'pending') throw notPending(change, 'withdrawn');
      return this.#transition(principal, change, 'pending_change.withdraw', this.#decision('withdrawn', principal.username, reason));
    });
  }

  async #decidable(principal: Principal, id: string, action: Action): Promise<PendingChange> {
    const change = await this.get(id);
    const request = { filedBy: change.proposedBy, staffCredentialNos: [] };
    const decision = decide(principal, action, { profile: this.#profile, request });
    if (!decision.allowed) {
      await audit(
        this.#store,
        principal.username,
        action.replace('changes.', 'pending_change.'),
        change,
        { reason: decision.reason },
        this.#iso(),
        null,
        'refused',
      );
      throw new GatewayError('FORBIDDEN', decision.reason, { hint: 'Another admin, not the one who proposed it, decides it.' });
    }
    if (change.state !== 'pending') throw notPending(change, 'decided');
    return change;
  }

  async #transition(
    principal: Principal,
    change: PendingChange,
    action: string,
    decision: PendingChangeTransition,
  ): Promise<PendingChange> {
    await this.#store.transaction(async (tx) => {
      if (!(await tx.pendingChanges.transition(change.id, 'pending', decision))) {
        throw notPending({ ...change, state: (await tx.pendingChanges.get(change.id))?.state ?? change.state }, decision.state);
      }
      await audit(tx, principal.username, action, change, { reason: decision.decisionReason }, this.#iso());
    });
    return this.#load(change.id);
  }

  /** pending → expired once its time has passed; audited as the system's doing. */
  async #expireIfDue(change: PendingChange): Promise<PendingChange> {
    if (change.state !== 'pending' || Date.parse(change.expiresAt) > this.#now()) return change;
    await this.#store.transaction(async (tx) => {
      if (await tx.pendingChanges.transition(change.id, 'pending', { state: 'expired', decidedBy: 'system', decidedAt: this.#iso() })) {
        await audit(tx, 'system', 'pending_change.expire', change, { expiresAt: change.expiresAt }, this.#iso());
      }
    });
    return { ...change, state: 'expired', decidedBy: 'system' };
  }

  #decision(state: PendingChangeState, by: string, reason?: string): PendingChangeTransition {
    return { state, decidedBy: by, decidedAt: this.#iso(), ...(reason === undefined || reason === '' ? {} : { decisionReason: reason }) };
  }

  async #load(id: string): Promise<PendingChange> {
    const change = await this.#store.pendingChanges.get(id);
    if (change === undefined)
      throw new GatewayError('NOT_FOUND', `No pending change ${id}.`, { hint: 'GET /api/v1/pending-changes lists them.' });
    return change;
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(work, work);
    this.#turn = run.catch(() => undefined);
    return run;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

function audit(
  repos: Pick<StoreRepositories, 'audit'>,
  actor: string,
  action: string,
  c: PendingChange,
  extra: Record<string, unknown>,
  at: string,
  cameraId: string | null = null,
  outcome: AuditEntry['outcome'] = 'ok',
): Promise<void> {
  return repos.audit.append({
    at,
    actor,
    action,
    cameraId: cameraId ?? (c.kind === 'camera.masks' || c.kind === 'camera.desensitize' ? c.subject : null),
    outcome,
    details: {
      changeId: c.id,
      kind: c.kind,
      subject: c.subject,
      summary: c.summary,
      current: c.current,
      proposed: c.proposed,
      proposedBy: c.proposedBy.username,
      ...extra,
    },
  });
}

/** A reason is required to reject; optional (but kept) to approve or withdraw. */
function reasonOf(body: unknown, required: boolean): string {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (b.reason === undefined && !required) return '';
  if (typeof b.reason !== 'string' || b.reason.trim() === '' || b.reason.length > 500) {
    throw new GatewayError('VALIDATION_FAILED', 'reason must be a non-empty text of at most 500 characters.', {
      hint: 'Say why, e.g. {"reason": "the mask still hides the neighbour\'s window"}.',
    });
  }
  return b.reason.trim();
}

function notPending(change: PendingChange, wanted: string): GatewayError {
  return new GatewayError('REQUEST_STATE', `Pending change ${change.id} is ${change.state}, not pending, so it cannot be ${wanted}.`, {
    hint: 'GET /api/v1/pending-changes lists those still waiting.',
  });
}
