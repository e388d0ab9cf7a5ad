import type { PlayGrant } from './playToken.js';

/** Tiers whose viewer tokens must name a viewer and a request (or an exemption): unmasked footage. */
export const GOVERNED_TIERS: ReadonlySet<string> = new Set(['raw', 'recording']);

/** Whether an access request is approved and inside its window now (kept in memory by its owner: hooks are synchronous). */
export type RequestActive = (requestId: string) => boolean;

/**
 * Whether a user may still view under the profile's exemption (no request): enabled and
 * still holding an exempt role. Absent: always (a gateway that does not track users).
 */
export type ExemptionActive = (userId: string) => boolean;
const ALWAYS: ExemptionActive = () => true;

/**
 * Why a viewer grant may not play now, or null. The token's signature and expiry are
 * checked before; this adds what the policy bound into it: a governed tier needs a
 * viewer binding, and a named request must still be active.
 */
export function refusalOf(grant: PlayGrant, requestActive: RequestActive, exemptionActive: ExemptionActive = ALWAYS): string | null {
  if (grant.purpose !== 'view') return null;
  if (GOVERNED_TIERS.has(grant.tier) && grant.binding === undefined) {
    return `a ${grant.tier}-tier token must name its viewer and access request; get one from the API`;
  }
  const requestId = grant.binding?.requestId;
  if (requestId != null && !requestActive(requestId)) {
    return `access request ${requestId} is no longer approved or is outside its window`;
  }
  if (grant.binding !== undefined && requestId === null && !exemptionActive(grant.binding.userId)) {
    return `the viewer no longer holds a role the profile exempts from approval (disabled or role changed)`;
  }
  return null;
}

/**
 * Running sessions that play under an access request or a profile's exemption, so that a
 * revoked or expired request, or a viewer disabled or stripped of the exempt role, ends
 * them: `sweep` closes every one whose request or exemption is no longer active.
 */
export class GovernedSessions<S> {
  readonly #byRequest = new Map<S, { requestId: string | null; userId: string }>();

  constructor(
    private readonly requestActive: RequestActive,
    /** `requestId` null: the session played under an exemption. */
    private readonly close: (session: S, requestId: string | null) => void,
    private readonly exemptionActive: ExemptionActive = ALWAYS,
  ) {}

  track(session: S, grant: PlayGrant): void {
    const binding = grant.binding;
    if (binding !== undefined) this.#byRequest.set(session, { requestId: binding.requestId, userId: binding.userId });
  }

  forget(session: S): void {
    this.#byRequest.delete(session);
  }

  get size(): number {
    return this.#byRequest.size;
  }

  /** Closes the sessions whose request ended; returns how many. */
  sweep(): number {
    let closed = 0;
    for (const [session, { requestId, userId }] of this.#byRequest) {
      if (requestId === null ? this.exemptionActive(userId) : this.requestActive(requestId)) continue;
      this.#byRequest.delete(session);
      this.close(session, requestId);
      closed += 1;
    }
    return closed;
  }
}
