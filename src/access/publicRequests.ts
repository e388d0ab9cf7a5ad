/**
 * Public requests: filed by staff for an applicant, decided by a police officer other than
 * the filer, closed with a result. No footage leaves under one unless the decision is
 * `release`, and then only as an export under the approved export access request it names
 * (that request carries the watermark, the register entry and the signed manifest).
 * Every transition, and every refused decision, is audited, without the applicant's
 * identity document or contact.
 */
import { randomUUID } from 'node:crypto';
import type { JurisdictionProfile } from '../config/index.js';
import { maskNumber, type AuditEntry, type Principal, type PublicRequest, type PublicRequestState } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { PublicRequestTransition, Store, StoreRepositories } from '../store/index.js';
import { decide, type Action } from './policy.js';
import { validateDecision, validatePublicRequest, validateResult } from './publicRequestInput.js';

/** Seals and opens text at rest (cameras' TextBox): the identity document numbers. */
export interface TextSealer {
  seal(text: string): string;
  open(box: string): string;
}

export interface PublicRequestServiceOptions {
  store: Store;
  profile: JurisdictionProfile;
  /** The store keeps an identity document number sealed, beside its masked form (which reports and the dossier print). */
  idDocuments: TextSealer;
  now?: () => number;
}

export class PublicRequestService {
  readonly #store: Store;
  readonly #profile: JurisdictionProfile;
  readonly #now: () => number;
  readonly #idDocuments: TextSealer;

  constructor(opts: PublicRequestServiceOptions) {
    this.#store = opts.store;
    this.#profile = opts.profile;
    this.#idDocuments = opts.idDocuments;
    this.#now = opts.now ?? Date.now;
  }

  async file(principal: Principal, body: unknown): Promise<PublicRequest> {
    this.#require(principal, 'publicRequests.create');
    const input = validatePublicRequest(body);
    await this.#requireCameras(input.cameraIds);
    const request: PublicRequest = {
      id: randomUUID(),
      category: input.category,
      applicant: input.applicant,
      reason: input.reason,
      cameraIds: input.cameraIds,
      from: new Date(input.fromMs).toISOString(),
      to: new Date(input.toMs).toISOString(),
      profile: this.#profile.name,
      state: 'filed',
      filedBy: { userId: principal.userId, username: principal.username },
      filedAt: this.#iso(),
      decision: null,
      decidedBy: null,
      decidedAt: null,
      decisionReason: null,
      accessRequestId: null,
      result: null,
      resultNotes: null,
      resultBy: null,
      resultAt: null,
    };
    const { type, number } = input.applicant.idDocument;
    const stored: PublicRequest = {
      ...request,
      applicant: { ...request.applicant, idDocument: { type, number: maskNumber(number), sealed: this.#idDocuments.seal(number) } },
    };
    await this.#store.transaction(async (tx) => {
      await tx.publicRequests.insert(stored);
      await this.#audit(tx, principal, 'public_request.file', 'ok', request, {});
    });
    return request;
  }

  async get(principal: Principal, id: string): Promise<PublicRequest> {
    this.#require(principal, 'publicRequests.read');
    return this.#viewFor(principal, await this.#load(id));
  }

  /** Newest first; `from`/`to` bound the filing time. */
  async list(principal: Principal, query: { from?: Date; to?: Date } = {}): Promise<PublicRequest[]> {
    this.#require(principal, 'publicRequests.read');
    const all = await this.#store.publicRequests.list({ from: query.from?.toISOString(), to: query.to?.toISOString() });
    return all.map((r) => this.#viewFor(principal, r));
  }

  /** Who only reads (the auditor) sees the identity document masked: the full number is for those who handle the request. */
  #viewFor(principal: Principal, r: PublicRequest): PublicRequest {
    const { type, number, sealed } = r.applicant.idDocument;
    const handles = decide(principal, 'publicRequests.create', { profile: this.#profile }).allowed;
    const shown = handles && sealed !== undefined ? this.#idDocuments.open(sealed) : maskNumber(number);
    return { ...r, applicant: { ...r.applicant, idDocument: { type, number: shown } } };
  }

  /** A police officer other than the filer decides; a release names an approved export request covering the cameras. */
  async decide(principal: Principal, id: string, body: unknown): Promise<PublicRequest> {
    const request = await this.#load(id);
    const verdict = decide(principal, 'publicRequests.decide', {
      profile: this.#profile,
      request: { filedBy: request.filedBy, staffCredentialNos: [] },
    });
    if (!verdict.allowed) {
      await this.#audit(this.#store, principal, 'public_request.decide', 'refused', request, { reason: verdict.reason });
      throw new GatewayError('FORBIDDEN', verdict.reason, { hint: 'A police officer who did not file it decides it.' });
    }
    const input = validateDecision(body);
    if (request.state !== 'filed') throw notIn(request, 'filed', 'decided');
    if (input.accessRequestId !== null) await this.#requireReleaseRequest(request, input.accessRequestId);
    return this.#transition(principal, request, 'filed', 'public_request.decide', {
      state: 'decided',
      decision: input.decision,
      decidedBy: principal.username,
      decidedAt: this.#iso(),
      decisionReason: input.reason,
      accessRequestId: input.accessRequestId,
    });
  }

  async recordResult(principal: Principal, id: string, body: unknown): Promise<PublicRequest> {
    this.#require(principal, 'publicRequests.result');
    const request = await this.#load(id);
    if (request.state !== 'decided') throw notIn(request, 'decided', 'closed with a result');
    const input = validateResult(body, request.decision);
    return this.#transition(principal, request, 'decided', 'public_request.result', {
      state: 'closed',
      result: input.result,
      resultNotes: input.notes,
      resultBy: principal.username,
      resultAt: this.#iso(),
    });
  }

  /** The export request exists, is approved, is of kind export, names every camera asked for and overlaps the range. */
  async #requireReleaseRequest(request: PublicRequest, accessRequestId: string): Promise<void> {
    const access = await this.#store.accessRequests.get(accessRequestId);
    const hint = 'File an access request of kind export for the cameras and range of this public request, have it approved, and name it.';
    if (access === undefined)
      throw new GatewayError('VALIDATION_FAILED', `accessRequestId names no access request (${accessRequestId}).`, { hint });
    const problems: string[] = [];
    if (access.kind !== 'export') problems.push(`it is of kind ${access.kind}, not export`);
    if (access.state !== 'approved') problems.push(`it is ${access.state}, not approved`);
    const missing = request.cameraIds.filter((c) => !access.cameraIds.includes(c));
    if (missing.length > 0) problems.push(`it does not cover the cameras asked for: ${missing.join(', ')}`);
    if (Date.parse(access.to) <= Date.parse(request.from) || Date.parse(request.to) <= Date.parse(access.from)) {
      problems.push(`its range ${access.from}–${access.to} does not overlap the range asked for ${request.from}–${request.to}`);
    }
    if (problems.length > 0) {
      throw new GatewayError('VALIDATION_FAILED', `Access request ${accessRequestId} cannot carry this release: ${problems.join('; ')}.`, {
        hint,
      });
    }
  }

  async #requireCameras(ids: readonly string[]): Promise<void> {
    const unknown: string[] = [];
    for (const id of ids) if ((await this.#store.cameras.get(id)) === undefined) unknown.push(id);
    if (unknown.length > 0) {
      throw new GatewayError('VALIDATION_FAILED', `cameraIds names cameras the gateway does not have: ${unknown.join(', ')}.`, {
        hint: 'GET /api/v1/cameras lists them.',
      });
    }
  }

  async #transition(
    principal: Principal,
    request: PublicRequest,
    from: PublicRequestState,
    action: string,
    change: PublicRequestTransition,
  ): Promise<PublicRequest> {
    await this.#store.transaction(async (tx) => {
      if (!(await tx.publicRequests.transition(request.id, from, change))) {
        throw notIn({ ...request, state: (await tx.publicRequests.get(request.id))?.state ?? request.state }, from, change.state);
      }
      const { state, ...fields } = change;
      await this.#audit(tx, principal, action, 'ok', request, { from, to: state, ...fields });
    });
    return this.#viewFor(principal, await this.#load(request.id));
  }

  async #load(id: string): Promise<PublicRequest> {
    const request = await this.#store.publicRequests.get(id);
    if (request === undefined)
      throw new GatewayError('NOT_FOUND', `No public request ${id}.`, { hint: 'GET /api/v1/public-requests lists them.' });
    return request;
  }

  #require(principal: Principal, action: Action): void {
    const verdict = decide(principal, action, { profile: this.#profile });
    if (!verdict.allowed) throw new GatewayError('FORBIDDEN', verdict.reason);
  }

  #audit(
    repos: Pick<StoreRepositories, 'audit'>,
    principal: Principal,
    action: string,
    outcome: AuditEntry['outcome'],
    r: PublicRequest,
    extra: Record<string, unknown>,
  ): Promise<void> {
    // The applicant by name and relationship only: identity document and contact stay in the request record.
    return repos.audit.append({
      at: this.#iso(),
      actor: principal.username,
      action,
      cameraId: r.cameraIds.length === 1 ? (r.cameraIds[0] ?? null) : null,
      outcome,
      details: {
        publicRequestId: r.id,
        category: r.category,
        applicant: { name: r.applicant.name, relationship: r.applicant.relationship },
        cameraIds: r.cameraIds,
        from: r.from,
        to: r.to,
        ...extra,
      },
    });
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

function notIn(request: PublicRequest, expected: PublicRequestState, wanted: string): GatewayError {
  return new GatewayError('REQUEST_STATE', `Public request ${request.id} is ${request.state}, not ${expected}, so it cannot be ${wanted}.`);
}
