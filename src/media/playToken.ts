import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenPurpose = 'view' | 'internal';

export interface PlayGrant {
  cameraId: string;
  tier: string;
  /** Unix seconds after which the token is refused. */
  expiresAt: number;
  /** 'internal' grants are the gateway's own readers (platform pushes); they are not viewers. */
  purpose: TokenPurpose;
}

/**
 * Playback tokens: an HMAC-SHA256 over camera, tier, expiry and purpose, so a URL
 * handed to one viewer for one stream can't be widened to another or outlive its time.
 */
export function signPlayToken(grant: PlayGrant, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify([grant.cameraId, grant.tier, grant.expiresAt, grant.purpose])).toString('base64url');
  return `${payload}.${mac(payload, key)}`;
}

export type TokenCheck = { ok: true; grant: PlayGrant } | { ok: false; reason: string };

export function verifyPlayToken(token: unknown, expected: { cameraId: string; tier: string }, key: Buffer, nowSeconds: number): TokenCheck {
  if (typeof token !== 'string' || token.length === 0) return { ok: false, reason: 'no token' };
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'malformed token' };
  const expectedSig = Buffer.from(mac(payload, key));
  const givenSig = Buffer.from(signature);
  if (givenSig.length !== expectedSig.length || !timingSafeEqual(givenSig, expectedSig)) {
    return { ok: false, reason: 'bad signature' };
  }
  const grant = decode(payload);
  if (!grant) return { ok: false, reason: 'malformed token' };
  if (grant.cameraId !== expected.cameraId || grant.tier !== expected.tier) return { ok: false, reason: 'token is for another stream' };
  if (grant.expiresAt < nowSeconds) return { ok: false, reason: 'token expired' };
  return { ok: true, grant };
}

function mac(payload: string, key: Buffer): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

function decode(payload: string): PlayGrant | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (!Array.isArray(value) || value.length !== 4) return null;
    const [cameraId, tier, expiresAt, purpose] = value as unknown[];
    if (typeof cameraId !== 'string' || typeof tier !== 'string' || typeof expiresAt !== 'number') return null;
    if (purpose !== 'view' && purpose !== 'internal') return null;
    return { cameraId, tier, expiresAt, purpose };
  } catch {
    return null;
  }
}
