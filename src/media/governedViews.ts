import type { PlayGrant } from './playToken.js';

/** Tiers whose viewer tokens must name a viewer and a request (or an exemption): unmasked footage. */
export const GOVERNED_TIERS: ReadonlySet<string> = new Set(['raw', 'recording']);

/** Whether an access request is approved and inside its window now (kept in memory by its owner: hooks are synchronous). */
export type RequestActive = (requestId: string) => boolean;

/**
 * Why a viewer grant may not play now, or null. The token's signature and expiry are
 * checked before; this adds what the policy bound into it: a governed tier needs a
 * viewer binding, and a named request must still be active.
 */
export function refusalOf(grant: PlayGrant, requestActive: RequestActive): string | null {
  if (grant.purpose !== 'view') return null;
  if (GOVERNED_TIERS.has(grant.tier) && grant.binding === undefined) {
    return `a ${grant.tier}-tier token must name its viewer and access request; get one from the API`;
  }
  const requestId = grant.binding?.requestId;
  if (requestId != null && !requestActive(requestId)) {
    return `access request ${requestId} is no longer approved or is outside its window`;
  }
  return null;
}

/**
 * Running sessions that play under an access request, so that a revoked or expired
 * request ends them: `sweep` closes every one whose request is no longer active.
 */
export class GovernedSessions<S> {
  readonly #byRequest = new Map<S, string>();

  constructor(
    private readonly requestActive: RequestActive,
    private readonly close: (session: S, requestId: string) => void,
  ) {}

  track(session: S, grant: PlayGrant): void {
    const requestId = grant.binding?.requestId;
    if (requestId != null) this.#byRequest.set(session, requestId);
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
    for (const [session, requestId] of this.#byRequest) {
      if (this.requestActive(requestId)) continue;
      this.#byRequest.delete(session);
      this.close(session, requestId);
      closed += 1;
    }
    return closed;
  }
}
