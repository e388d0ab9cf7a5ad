import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';

export type TokenPurpose = 'view' | 'internal';

export interface PlayGrant {
  cameraId: string;
  tier: string;
  /** Unix seconds after which the token is refused. */
  expiresAt: number;
  /**
   * 'internal' grants are the gateway's own readers (masking, sampler, snapshot, pushes):
   * not viewers, signed with a per-run key (see InternalTokens), never the playback key.
   */
  purpose: TokenPurpose;
  /**
   * Footage under the policy (raw live, recordings): the viewer and the access request it
   * was granted under (null: a profile's exemption, e.g. guangdong-2025 Art. 22). Absent on
   * the shared tier and on internal tokens, whose encoding stays as it was.
   */
  binding?: PlayBinding;
  /** Internal tokens only: what the reader is, where the register needs it (a platform push names its target). */
  reader?: string;
}

export interface PlayBinding {
  userId: string;
  requestId: string | null;
  /** Recordings: the footage range (ms) the token may play; the playback routes refuse any other. */
  range?: { fromMs: number; toMs: number };
}

/**
 * Playback tokens: an HMAC-SHA256 over camera, tier, expiry, purpose (and the viewer and
 * request for footage under the policy), so a URL
 * handed to one viewer for one stream can't be widened to another or outlive its time.
 */
export function signPlayToken(grant: PlayGrant, key: Buffer): string {
  const fields: unknown[] = [grant.cameraId, grant.tier, grant.expiresAt, grant.purpose];
  if (grant.binding) fields.push(grant.binding.userId, grant.binding.requestId);
  else if (grant.reader !== undefined) fields.push(grant.reader);
  if (grant.binding?.range) fields.push(grant.binding.range.fromMs, grant.binding.range.toMs);
  const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
  return `${payload}.${mac(payload, key)}`;
}

export type TokenCheck = { ok: true; grant: PlayGrant } | { ok: false; reason: string };

export function verifyPlayToken(
  token: unknown,
  expected: { cameraId: string; tier: string; purpose: TokenPurpose },
  key: Buffer,
  nowSeconds: number,
): TokenCheck {
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
  if (grant.purpose !== expected.purpose) return { ok: false, reason: 'token is for another purpose' };
  if (grant.cameraId !== expected.cameraId || grant.tier !== expected.tier) return { ok: false, reason: 'token is for another stream' };
  if (grant.expiresAt < nowSeconds) return { ok: false, reason: 'token expired' };
  return { ok: true, grant };
}

/**
 * The purpose a token claims, read without checking its signature: only to pick the key
 * that must have signed it (verifyPlayToken then checks). Null when it does not parse.
 */
export function claimedPurpose(token: unknown): TokenPurpose | null {
  if (typeof token !== 'string') return null;
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return null;
  return decode(payload)?.purpose ?? null;
}

/**
 * Whether a peer, as node-media-server gives it (`address:port`), is on this host's
 * loopback: 127.0.0.0/8, ::1 or an IPv4-mapped 127.x. Anything unparsable is not.
 */
export function isLoopbackPeer(peer: string): boolean {
  const address = peer.replace(/:\d+$/, '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return (isIPv4(address) && address.startsWith('127.')) || address === '::1';
}

function mac(payload: string, key: Buffer): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

function decode(payload: string): PlayGrant | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (!Array.isArray(value) || ![4, 5, 6, 8].includes(value.length)) return null;
    const [cameraId, tier, expiresAt, purpose, userId, requestId, fromMs, toMs] = value as unknown[];
    if (typeof cameraId !== 'string' || typeof tier !== 'string' || typeof expiresAt !== 'number') return null;
    if (purpose !== 'view' && purpose !== 'internal') return null;
    if (value.length === 4) return { cameraId, tier, expiresAt, purpose };
    if (value.length === 5) return typeof userId === 'string' ? { cameraId, tier, expiresAt, purpose, reader: userId } : null;
    if (typeof userId !== 'string' || (typeof requestId !== 'string' && requestId !== null)) return null;
    if (value.length === 6) return { cameraId, tier, expiresAt, purpose, binding: { userId, requestId } };
    if (typeof fromMs !== 'number' || typeof toMs !== 'number') return null;
    return { cameraId, tier, expiresAt, purpose, binding: { userId, requestId, range: { fromMs, toMs } } };
  } catch {
    return null;
  }
}
