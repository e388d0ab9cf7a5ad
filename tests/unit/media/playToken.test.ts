import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { claimedPurpose, isLoopbackPeer, signPlayToken, verifyPlayToken, type PlayGrant } from '../../../src/media/playToken.js';

const KEY = randomBytes(32);
const NOW = 1_800_000_000;
const grant: PlayGrant = { cameraId: '44030500001328000001', tier: 'shared', expiresAt: NOW + 3600, purpose: 'view' };
const stream = { cameraId: grant.cameraId, tier: grant.tier, purpose: 'view' } as const;

/** A token whose signature is valid for `payload`, as only a holder of the key could make. */
function signedPayload(payload: string, key = KEY): string {
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('playback tokens', () => {
  it('verify for the stream they were signed for, returning the grant', () => {
    const token = signPlayToken(grant, KEY);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyPlayToken(token, stream, KEY, NOW)).toEqual({ ok: true, grant });
    const internal = signPlayToken({ ...grant, purpose: 'internal' }, KEY);
    expect(verifyPlayToken(internal, { ...stream, purpose: 'internal' }, KEY, NOW)).toEqual({
      ok: true,
      grant: { ...grant, purpose: 'internal' },
    });
  });

  it('are refused for another purpose: an internal token is no viewer token, nor the reverse', () => {
    const internal = signPlayToken({ ...grant, purpose: 'internal' }, KEY);
    expect(verifyPlayToken(internal, stream, KEY, NOW)).toEqual({ ok: false, reason: 'token is for another purpose' });
    const view = signPlayToken(grant, KEY);
    expect(verifyPlayToken(view, { ...stream, purpose: 'internal' }, KEY, NOW)).toEqual({
      ok: false,
      reason: 'token is for another purpose',
    });
  });

  it('say, unverified, which purpose they claim (to pick the key that must have signed them)', () => {
    expect(claimedPurpose(signPlayToken(grant, KEY))).toBe('view');
    expect(claimedPurpose(signPlayToken({ ...grant, purpose: 'internal' }, randomBytes(32)))).toBe('internal');
    for (const bad of [undefined, '', 'abc', 'a.b', b64(['x', 'y', 1, 'admin']) + '.sig']) expect(claimedPurpose(bad)).toBeNull();
  });

  it('are refused under another key', () => {
    const token = signPlayToken(grant, KEY);
    expect(verifyPlayToken(token, stream, randomBytes(32), NOW)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('are refused when the payload is changed', () => {
    const [, signature] = signPlayToken(grant, KEY).split('.');
    const widened = [
      b64([grant.cameraId, grant.tier, NOW + 10 * 365 * 86400, 'view']),
      b64([grant.cameraId, 'raw', grant.expiresAt, 'view']),
      b64(['44030500001328000002', grant.tier, grant.expiresAt, 'view']),
      b64([grant.cameraId, grant.tier, grant.expiresAt, 'internal']),
    ];
    for (const payload of widened) {
      expect(verifyPlayToken(`${payload}.${signature}`, stream, KEY, NOW)).toEqual({ ok: false, reason: 'bad signature' });
    }
  });

  it('are refused when the signature is changed', () => {
    const token = signPlayToken(grant, KEY);
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(verifyPlayToken(token.slice(0, -1) + last, stream, KEY, NOW)).toEqual({ ok: false, reason: 'bad signature' });
    expect(verifyPlayToken(token.slice(0, -2), stream, KEY, NOW)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('are refused for another camera or the other tier', () => {
    const token = signPlayToken(grant, KEY);
    const other = { ok: false, reason: 'token is for another stream' };
    expect(verifyPlayToken(token, { ...stream, cameraId: '44030500001328000002' }, KEY, NOW)).toEqual(other);
    expect(verifyPlayToken(token, { ...stream, tier: 'raw' }, KEY, NOW)).toEqual(other);
  });

  it('expire after their time, by the injected clock', () => {
    const token = signPlayToken(grant, KEY);
    expect(verifyPlayToken(token, stream, KEY, grant.expiresAt - 1).ok).toBe(true);
    expect(verifyPlayToken(token, stream, KEY, grant.expiresAt).ok).toBe(true);
    expect(verifyPlayToken(token, stream, KEY, grant.expiresAt + 0.5)).toEqual({ ok: false, reason: 'token expired' });
    expect(verifyPlayToken(token, stream, KEY, grant.expiresAt + 86400)).toEqual({ ok: false, reason: 'token expired' });
  });

  it('check the signature before anything else the token claims', () => {
    // An expired token for another stream under a wrong key says only "bad signature".
    const token = signPlayToken({ ...grant, cameraId: 'x', expiresAt: NOW - 10 }, randomBytes(32));
    expect(verifyPlayToken(token, stream, KEY, NOW)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it.each([
    ['missing', undefined, 'no token'],
    ['empty', '', 'no token'],
    ['not a string', ['a.b'], 'no token'],
    ['without a dot', 'abcdef', 'malformed token'],
    ['with three parts', 'a.b.c', 'malformed token'],
    ['with an empty part', '.abc', 'malformed token'],
  ])('are refused when %s', (_what, token, reason) => {
    expect(verifyPlayToken(token, stream, KEY, NOW)).toEqual({ ok: false, reason });
  });

  it.each([
    ['not JSON', Buffer.from('not json').toString('base64url')],
    ['not a list', b64({ cameraId: grant.cameraId })],
    ['a list of the wrong length', b64([grant.cameraId, grant.tier, grant.expiresAt])],
    ['an expiry that is not a number', b64([grant.cameraId, grant.tier, String(grant.expiresAt), 'view'])],
    ['an unknown purpose', b64([grant.cameraId, grant.tier, grant.expiresAt, 'admin'])],
  ])('are refused when correctly signed but %s', (_what, payload) => {
    expect(verifyPlayToken(signedPayload(payload), stream, KEY, NOW)).toEqual({ ok: false, reason: 'malformed token' });
  });
});

describe('isLoopbackPeer', () => {
  it.each(['127.0.0.1:5000', '127.12.3.4:1', '::1:5000', '::ffff:127.0.0.1:5000', '::FFFF:127.9.9.9:80'])('accepts %s', (peer) => {
    expect(isLoopbackPeer(peer)).toBe(true);
  });

  it.each([
    '10.200.0.2:5000',
    '192.168.1.127:5000',
    '::ffff:10.0.0.1:5000',
    'fe80::1:5000',
    '::2:5000',
    '128.0.0.1:1',
    '',
    'undefined:undefined',
    '127.0.0.1.evil:1',
  ])('refuses %s', (peer) => {
    expect(isLoopbackPeer(peer)).toBe(false);
  });
});
