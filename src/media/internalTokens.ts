import { randomBytes } from 'node:crypto';
import { isLoopbackPeer, signPlayToken, verifyPlayToken, type TokenCheck } from './playToken.js';

/**
 * Play tokens for the gateway's own readers (masking, sampler, snapshot and push ffmpegs).
 * They sit in those processes' command lines, where any local user can read them, so:
 * signed with a key made at start and kept in memory only (a restart revokes them all,
 * PSVGW_SECRET_KEY is never involved), valid for minutes, and accepted only from a
 * loopback peer. Renewal is minting again: every (re)start of a reader asks for a fresh
 * URL. The token is checked when a connection starts playing, never again after, so a
 * reader that authenticated once is not cut when its token later expires.
 */
export class InternalTokens {
  readonly #key = randomBytes(32);

  constructor(
    readonly lifetimeSeconds: number,
    private readonly nowSeconds: () => number = () => Date.now() / 1000,
  ) {
    if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0) {
      throw new RangeError(`internal token lifetime must be a positive whole number of seconds, got ${lifetimeSeconds}`);
    }
  }

  /** `reader`: signed in for the register (a platform push names its target). */
  mint(tier: string, cameraId: string, reader?: string): string {
    const expiresAt = Math.floor(this.nowSeconds()) + this.lifetimeSeconds;
    return signPlayToken({ cameraId, tier, expiresAt, purpose: 'internal', ...(reader === undefined ? {} : { reader }) }, this.#key);
  }

  /** `peer` as node-media-server gives it (`address:port`). */
  check(token: unknown, stream: { cameraId: string; tier: string }, peer: string): TokenCheck {
    if (!isLoopbackPeer(peer)) return { ok: false, reason: 'internal token used from outside loopback' };
    return verifyPlayToken(token, { ...stream, purpose: 'internal' }, this.#key, this.nowSeconds());
  }
}
