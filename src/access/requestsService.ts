/**
 * Access requests: filed, decided by a second person, used within their window, revoked
 * or expired. Every transition (and every refused decision) goes into the audit log.
 */
import { randomUUID } from 'node:crypto';
import type { JurisdictionProfile } from '../config/index.js';
import type { AccessRequest, AccessRequestKind, AccessRequestState, AuditEntry, Principal } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { Store, StoreRepositories } from '../store/index.js';
import { coveringAmong, decide, KIND_OF_ACTION, type CoveringCandidate, type FootageAction } from './policy.js';
import { requiredDocumentFields, requiredStaff, validateAccessRequest, type MissingField } from './requests.js';

/** Without an expiry from the approver, a request for recorded footage or an export may be used this long. */
export const DEFAULT_WINDOW_MS = 24 * 3600_000;
/** No approval lasts longer: a long investigation files again. */
export const MAX_WINDOW_MS = 7 * 24 * 3600_000;

const ACTION_OF_KIND = Object.fromEntries(Object.entries(KIND_OF_ACTION).map(([action, kind]) => [kind, action])) as Readonly<
  Record<AccessRequestKind, FootageAction>
>;

export type CoverQuery = { kind: AccessRequestKind; cameraId: string } & ({ at?: Date } | { from: Date; to: Date });

export interface AccessRequestServiceOptions {
  store: Store;
  profile: JurisdictionProfile;
  now?: () => number;
  /** Awaited after every state change (e.g. ActiveRequests.refresh, so a revocation reaches the play hook before the answer). */
  onTransition?: () => Promise<void>;
}

export class AccessRequestService {
  readonly #store: Store;
  readonly #profile: JurisdictionProfile;
  readonly #now: () => number;
  readonly #onTransition: () => Promise<void>;

  constructor(opts: AccessRequestServiceOptions) {
    this.#onTransition = opts.onTransition ?? (() => Promise.resolve());
    this.#store = opts.store;
    this.#profile = opts.profile;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * What a request of `kind` by this filer must carry under the profile: the same rules
   * filing checks, so a form can name what is missing before it is sent.
   */
  requirements(
    principal: Principal,
    kind: AccessRequestKind,
  ): {
    profile: string;
    kind: AccessRequestKind;
    staff: { count: number; article: string };
    documents: { all: MissingField[]; anyOf: MissingField[] };
  } {
    this.#require(principal, 'requests.create');
    const docs = requiredDocumentFields(this.#profile, kind, principal);
    // Named as filing names them when missing (documents.<field>).
    const named = (list: MissingField[]) => list.map((d) => ({ ...d, field: `documents.${d.field}` }));
    return {
      profile: this.#profile.name,
      kind,
      staff: requiredStaff(this.#profile),
      documents: { all: named(docs.all), anyOf: named(docs.anyOf) },
    };
  }

  /** Files a request; refused (VALIDATION_FAILED) naming each missing field and its article. */
  async file(principal: Principal, body: unknown): Promise<AccessRequest> {
    this.#require(principal, 'requests.create');
    const input = validateAccessRequest(body, this.#profile, principal);
    const unknown: string[] = [];
    for (const id of input.cameraIds) if ((await this.#store.cameras.get(id)) === undefined) unknown.push(id);
    if (unknown.length > 0) {
      throw new GatewayError('VALIDATION_FAILED', `cameraIds names cameras the gateway does not have: ${unknown.join(', ')}.`, {
        hint: 'GET /api/v1/cameras lists them.',
      });
    }
    const request: AccessRequest = {
      id: randomUUID(),
      kind: input.kind,
      cameraIds: input.cameraIds,
      from: new Date(input.fromMs).toISOString(),
      to: new Date(input.toMs).toISOString(),
      purpose: input.purpose,
      destination: input.destination,
      staff: input.staff,
      documents: input.documents,
      profile: this.#profile.name,
      state: 'pending',
      filedBy: { userId: principal.userId, username: principal.username },
      filedAt: this.#iso(),
      decidedBy: null,
      decidedAt: null,
      decisionReason: null,
      validFrom: null,
      validUntil: null,
      revokedBy: null,
      revokedAt: null,
      revokeReason: null,
    };
    await this.#store.transaction(async (tx) => {
      await tx.accessRequests.insert(request);
      await this.#audit(tx, principal, 'access_request.file', 'ok', request, {});
    });
    return request;
  }

  /** One request, to its filer, its staff, and those who read all requests. */
  async get(principal: Principal, id: string): Promise<AccessRequest> {
    const request = await this.#expireIfDue(await this.#load(id));
    if (!this.#mayRead(principal, request)) {
      throw new GatewayError('NOT_FOUND', `No access request ${id} that user ${principal.username} may read.`);
    }
    return request;
  }

  /** Approvers, admins and auditors see all; everyone else the requests they filed or are staff of. */
  async list(principal: Principal, query: { state?: AccessRequestState; limit?: number } = {}): Promise<AccessRequest[]> {
    this.#require(principal, 'requests.read');
    const all = await Promise.all((await this.#store.accessRequests.list({ limit: query.limit })).map((r) => this.#expireIfDue(r)));
    return all.filter((r) => (query.state === undefined || r.state === query.state) && this.#mayRead(principal, r));
  }

  async approve(principal: Principal, id: string, body: unknown): Promise<AccessRequest> {
    const { reason, expiresAt } = decisionOf(body, true);
    const request = await this.#decidable(principal, id, 'requests.approve');
    const now = this.#now();
    const validUntil = this.#windowEnd(request, now, expiresAt);
    return this.#transition(principal, request, 'pending', 'access_request.approve', {
      state: 'approved',
      decidedBy: principal.username,
      decidedAt: new Date(now).toISOString(),
      decisionReason: reason,
      validFrom: new Date(now).toISOString(),
      validUntil: new Date(validUntil).toISOString(),
    });
  }

  async reject(principal: Principal, id: string, body: unknown): Promise<AccessRequest> {
    const { reason } = decisionOf(body, false);
    const request = await this.#decidable(principal, id, 'requests.reject');
    return this.#transition(principal, request, 'pending', 'access_request.reject', {
      state: 'rejected',
      decidedBy: principal.username,
      decidedAt: this.#iso(),
      decisionReason: reason,
    });
  }

  async revoke(principal: Principal, id: string, body: unknown): Promise<AccessRequest> {
    const { reason } = decisionOf(body, false);
    const request = await this.#expireIfDue(await this.#load(id));
    const decision = decide(principal, 'requests.revoke', { profile: this.#profile, request: this.#decided(request) });
    if (!decision.allowed) throw new GatewayError('FORBIDDEN', decision.reason);
    if (request.state !== 'approved') throw notIn(request, 'approved', 'revoked');
    return this.#transition(principal, request, 'approved', 'access_request.revoke', {
      state: 'revoked',
      revokedBy: principal.username,
      revokedAt: this.#iso(),
      revokeReason: reason,
    });
  }

  /**
   * The approved, unexpired request under which `principal` (its filer, or one of its staff
   * by credential number) may retrieve this camera's footage at `at` (live; default now) or
   * over `from`–`to` (recordings, exports); null when there is none.
   */
  async coveringRequest(principal: Principal, query: CoverQuery): Promise<AccessRequest | null> {
    const mine = (await this.#store.accessRequests.list({ state: 'approved' })).filter((r) => this.#isRequester(principal, r));
    const ctx = {
      profile: this.#profile,
      cameraId: query.cameraId,
      nowMs: this.#now(),
      ...('from' in query ? { fromMs: query.from.getTime(), toMs: query.to.getTime() } : { atMs: query.at?.getTime() }),
    };
    const hit = coveringAmong(mine.map(candidateOf), ACTION_OF_KIND[query.kind], ctx);
    return hit === null ? null : (mine.find((r) => r.id === hit.id) ?? null);
  }

  /** The principal's approved requests, as the policy's context wants them. */
  async candidatesFor(principal: Principal): Promise<CoveringCandidate[]> {
    const approved = await this.#store.accessRequests.list({ state: 'approved' });
    return approved.filter((r) => this.#isRequester(principal, r)).map(candidateOf);
  }

  async #decidable(principal: Principal, id: string, action: 'requests.approve' | 'requests.reject'): Promise<AccessRequest> {
    const request = await this.#load(id);
    const decision = decide(principal, action, { profile: this.#profile, request: this.#decided(request) });
    if (!decision.allowed) {
      await this.#audit(this.#store, principal, `access_request.${action.slice('requests.'.length)}`, 'refused', request, {
        reason: decision.reason,
      });
      throw new GatewayError('FORBIDDEN', decision.reason, {
        hint: 'Another approver, neither the filer nor one of the staff, decides it.',
      });
    }
    if (request.state !== 'pending') throw notIn(request, 'pending', 'decided');
    return request;
  }

  async #transition(
    principal: Principal,
    request: AccessRequest,
    from: AccessRequestState,
    action: string,
    change: Parameters<Store['accessRequests']['transition']>[2],
  ): Promise<AccessRequest> {
    await this.#store.transaction(async (tx) => {
      if (!(await tx.accessRequests.transition(request.id, from, change))) {
        throw notIn({ ...request, state: (await tx.accessRequests.get(request.id))?.state ?? request.state }, from, change.state);
      }
      await this.#audit(tx, principal, action, 'ok', request, {
        from,
        to: change.state,
        reason: change.decisionReason ?? change.revokeReason,
      });
    });
    await this.#onTransition();
    return this.#load(request.id);
  }

  /** approved → expired once its window has passed; audited as the system's doing. */
  async #expireIfDue(request: AccessRequest): Promise<AccessRequest> {
    if (request.state !== 'approved' || request.validUntil === null || Date.parse(request.validUntil) > this.#now()) return request;
    await this.#store.transaction(async (tx) => {
      if (await tx.accessRequests.transition(request.id, 'approved', { state: 'expired' })) {
        await tx.audit.append(entry('system', 'access_request.expire', 'ok', request, { validUntil: request.validUntil }, this.#iso()));
      }
    });
    await this.#onTransition();
    return { ...request, state: 'expired' };
  }

  /** Live footage ends at `to`; recorded footage and exports get the approver's expiry or a day; never more than a week. */
  #windowEnd(request: AccessRequest, now: number, expiresAt: number | undefined): number {
    const cap = now + MAX_WINDOW_MS;
    if (expiresAt !== undefined && expiresAt <= now) {
      throw new GatewayError('VALIDATION_FAILED', 'expiresAt must be in the future.');
    }
    const natural = request.kind === 'view_live_raw' ? Date.parse(request.to) : now + DEFAULT_WINDOW_MS;
    const end = Math.min(expiresAt ?? natural, cap);
    return request.kind === 'view_live_raw' ? Math.min(end, Date.parse(request.to)) : end;
  }

  async #load(id: string): Promise<AccessRequest> {
    const request = await this.#store.accessRequests.get(id);
    if (request === undefined) throw new GatewayError('NOT_FOUND', `No access request ${id}.`);
    return request;
  }

  #require(principal: Principal, action: 'requests.create' | 'requests.read'): void {
    const decision = decide(principal, action, { profile: this.#profile });
    if (!decision.allowed) throw new GatewayError('FORBIDDEN', decision.reason);
  }

  #mayRead(principal: Principal, request: AccessRequest): boolean {
    return decide(principal, 'requests.readAll', { profile: this.#profile }).allowed || this.#isRequester(principal, request);
  }

  #isRequester(principal: Principal, request: AccessRequest): boolean {
    if (request.filedBy.userId === principal.userId) return true;
    return principal.credentialNo !== undefined && request.staff.some((s) => s.credentialNo === principal.credentialNo);
  }

  #decided(request: AccessRequest) {
    return { filedBy: request.filedBy, staffCredentialNos: request.staff.map((s) => s.credentialNo) };
  }

  #audit(
    repos: Pick<StoreRepositories, 'audit'>,
    principal: Principal,
    action: string,
    outcome: AuditEntry['outcome'],
    request: AccessRequest,
    extra: Record<string, unknown>,
  ): Promise<void> {
    return repos.audit.append(entry(principal.username, action, outcome, request, extra, this.#iso()));
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

/** Staff are named by name and unit only: credential numbers stay out of the audit details. */
function entry(
  actor: string,
  action: string,
  outcome: AuditEntry['outcome'],
  r: AccessRequest,
  extra: Record<string, unknown>,
  at: string,
): AuditEntry {
  return {
    at,
    actor,
    action,
    cameraId: r.cameraIds.length === 1 ? (r.cameraIds[0] ?? null) : null,
    outcome,
    details: {
      requestId: r.id,
      kind: r.kind,
      cameraIds: r.cameraIds,
      from: r.from,
      to: r.to,
      staff: r.staff.map((s) => ({ name: s.name, unit: s.unit })),
      ...extra,
    },
  };
}

export function candidateOf(r: AccessRequest): CoveringCandidate {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    cameraIds: r.cameraIds,
    fromMs: Date.parse(r.from),
    toMs: Date.parse(r.to),
    validFromMs: r.validFrom === null ? null : Date.parse(r.validFrom),
    validUntilMs: r.validUntil === null ? null : Date.parse(r.validUntil),
  };
}

function decisionOf(body: unknown, approving: boolean): { reason: string; expiresAt?: number } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.reason !== 'string' || b.reason.trim() === '' || b.reason.length > 500) {
    throw new GatewayError('VALIDATION_FAILED', 'reason must be a non-empty text of at most 500 characters.', {
      hint: 'Say why, e.g. {"reason": "case 2026-118, approved by the station head"}.',
    });
  }
  if (!approving || b.expiresAt === undefined) return { reason: b.reason.trim() };
  const expiresAt = typeof b.expiresAt === 'string' ? Date.parse(b.expiresAt) : NaN;
  if (!Number.isFinite(expiresAt)) throw new GatewayError('VALIDATION_FAILED', 'expiresAt must be an ISO 8601 time.');
  return { reason: b.reason.trim(), expiresAt };
}

function notIn(request: AccessRequest, expected: AccessRequestState, wanted: string): GatewayError {
  return new GatewayError('REQUEST_STATE', `Access request ${request.id} is ${request.state}, not ${expected}, so it cannot be ${wanted}.`);
}
