import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InternalTokens } from '../../../src/media/internalTokens.js';
import { signPlayToken, verifyPlayToken } from '../../../src/media/playToken.js';

const STREAM = { cameraId: '44030500001328000001', tier: 'raw' };
const LOOPBACK = '127.0.0.1:40000';
const OUTSIDE = '10.200.0.2:40000';

/** Tokens minted at a clock the test moves. */
function tokens(lifetimeSeconds = 600) {
  let now = 1_800_000_000;
  const issuer = new InternalTokens(lifetimeSeconds, () => now);
  return { issuer, advance: (s: number) => (now += s) };
}

describe('internal play tokens', () => {
  it('are accepted from loopback for the stream they were minted for', () => {
    const { issuer } = tokens();
    const check = issuer.check(issuer.mint(STREAM.tier, STREAM.cameraId), STREAM, LOOPBACK);
    expect(check).toMatchObject({ ok: true, grant: { ...STREAM, purpose: 'internal' } });
    expect(issuer.check(issuer.mint('shared', STREAM.cameraId), STREAM, LOOPBACK)).toEqual({
      ok: false,
      reason: 'token is for another stream',
    });
  });

  it('carry the signed name of a platform push target, for the access register', () => {
    const { issuer } = tokens();
    const token = issuer.mint('shared', STREAM.cameraId, 'rtmp://platform.example/live');
    const shared = { ...STREAM, tier: 'shared' };
    expect(issuer.check(token, shared, LOOPBACK)).toMatchObject({ ok: true, grant: { reader: 'rtmp://platform.example/live' } });
    // The name is under the signature: changing it breaks the token.
    const [payload = '', mac = ''] = token.split('.');
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString()) as unknown[];
    const forged = `${Buffer.from(JSON.stringify([...fields.slice(0, 4), 'elsewhere'])).toString('base64url')}.${mac}`;
    expect(issuer.check(forged, shared, LOOPBACK)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('are refused from any address outside loopback, before anything else is looked at', () => {
    const { issuer } = tokens();
    const token = issuer.mint(STREAM.tier, STREAM.cameraId);
    for (const peer of [OUTSIDE, '::ffff:10.200.0.2:1', '192.168.0.127:1', 'fe80::1:1']) {
      expect(issuer.check(token, STREAM, peer)).toEqual({ ok: false, reason: 'internal token used from outside loopback' });
    }
  });

  it('last minutes, not years: refused after their lifetime', () => {
    const { issuer, advance } = tokens(600);
    const token = issuer.mint(STREAM.tier, STREAM.cameraId);
    advance(599);
    expect(issuer.check(token, STREAM, LOOPBACK).ok).toBe(true);
    advance(2);
    expect(issuer.check(token, STREAM, LOOPBACK)).toEqual({ ok: false, reason: 'token expired' });
    // Renewal is minting again: a restarted reader gets a token valid from now.
    expect(issuer.check(issuer.mint(STREAM.tier, STREAM.cameraId), STREAM, LOOPBACK).ok).toBe(true);
  });

  it('are signed with a key of this run only: another run, or the master-derived key, cannot make one', () => {
    const { issuer } = tokens();
    const other = tokens().issuer;
    expect(issuer.check(other.mint(STREAM.tier, STREAM.cameraId), STREAM, LOOPBACK)).toEqual({ ok: false, reason: 'bad signature' });
    // An old ten-year internal token signed with the playback key derived from PSVGW_SECRET_KEY.
    const masterKey = randomBytes(32);
    const old = signPlayToken({ ...STREAM, expiresAt: 2_100_000_000, purpose: 'internal' }, masterKey);
    expect(issuer.check(old, STREAM, LOOPBACK)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('are no viewer tokens under the playback key', () => {
    const { issuer } = tokens();
    const token = issuer.mint(STREAM.tier, STREAM.cameraId);
    expect(verifyPlayToken(token, { ...STREAM, purpose: 'view' }, randomBytes(32), 1_800_000_000)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it('refuse a lifetime that is not a positive whole number of seconds', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new InternalTokens(bad)).toThrow(/lifetime/);
  });
});
