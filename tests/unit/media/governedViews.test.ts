import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GovernedSessions, refusalOf } from '../../../src/media/governedViews.js';
import { signPlayToken, verifyPlayToken, type PlayGrant } from '../../../src/media/playToken.js';

const KEY = randomBytes(32);
const NOW = 1_800_000_000;
const base = { cameraId: 'cam-1', expiresAt: NOW + 60, purpose: 'view' } as const;
const active = new Set(['req-live']);
const isActive = (id: string) => active.has(id);

describe('play tokens bound to a viewer and a request', () => {
  it('carry the binding through signing; a changed binding breaks the signature', () => {
    const grant: PlayGrant = { ...base, tier: 'raw', binding: { userId: 'u-1', requestId: 'req-live' } };
    const token = signPlayToken(grant, KEY);
    expect(verifyPlayToken(token, { cameraId: 'cam-1', tier: 'raw', purpose: 'view' }, KEY, NOW)).toEqual({ ok: true, grant });
    const exempt: PlayGrant = { ...grant, binding: { userId: 'u-1', requestId: null } };
    expect(verifyPlayToken(signPlayToken(exempt, KEY), { cameraId: 'cam-1', tier: 'raw', purpose: 'view' }, KEY, NOW)).toEqual({
      ok: true,
      grant: exempt,
    });
    const ranged: PlayGrant = { ...grant, tier: 'recording', binding: { userId: 'u-1', requestId: 'r', range: { fromMs: 1, toMs: 2 } } };
    expect(verifyPlayToken(signPlayToken(ranged, KEY), { cameraId: 'cam-1', tier: 'recording', purpose: 'view' }, KEY, NOW)).toEqual({
      ok: true,
      grant: ranged,
    });
    const [payload, signature] = token.split('.');
    const other = Buffer.from(JSON.stringify(['cam-1', 'raw', NOW + 60, 'view', 'u-2', 'req-live'])).toString('base64url');
    expect(payload).not.toBe(other);
    expect(verifyPlayToken(`${other}.${signature}`, { cameraId: 'cam-1', tier: 'raw', purpose: 'view' }, KEY, NOW)).toMatchObject({
      ok: false,
      reason: 'bad signature',
    });
  });
});

describe('refusalOf: what the play hook adds to a valid signature', () => {
  it('refuses a raw-tier or recording token that names no viewer and request', () => {
    for (const tier of ['raw', 'recording']) {
      expect(refusalOf({ ...base, tier }, isActive)).toContain('must name its viewer and access request');
    }
  });
  it('lets the shared tier and the gateway’s own readers through without a binding', () => {
    expect(refusalOf({ ...base, tier: 'shared' }, isActive)).toBeNull();
    expect(refusalOf({ ...base, tier: 'raw', purpose: 'internal' }, isActive)).toBeNull();
  });
  it('refuses a token whose request is no longer active; an exemption (no request) passes', () => {
    expect(refusalOf({ ...base, tier: 'raw', binding: { userId: 'u', requestId: 'req-live' } }, isActive)).toBeNull();
    expect(refusalOf({ ...base, tier: 'raw', binding: { userId: 'u', requestId: 'req-gone' } }, isActive)).toContain(
      'access request req-gone is no longer approved',
    );
    expect(refusalOf({ ...base, tier: 'raw', binding: { userId: 'u', requestId: null } }, isActive)).toBeNull();
  });
});

describe('GovernedSessions', () => {
  it('closes exactly the sessions whose request ended, once', () => {
    const live = new Set(['a', 'b']);
    const closed: string[] = [];
    const sessions = new GovernedSessions<string>(
      (id) => live.has(id),
      (s) => closed.push(s),
    );
    sessions.track('viewer-a', { ...base, tier: 'raw', binding: { userId: 'u', requestId: 'a' } });
    sessions.track('viewer-b', { ...base, tier: 'raw', binding: { userId: 'u', requestId: 'b' } });
    sessions.track('exempt', { ...base, tier: 'raw', binding: { userId: 'u', requestId: null } });
    sessions.track('shared', { ...base, tier: 'shared' });
    expect(sessions.size).toBe(3);
    expect(sessions.sweep()).toBe(0);
    live.delete('a');
    expect(sessions.sweep()).toBe(1);
    expect(sessions.sweep()).toBe(0);
    expect(closed).toEqual(['viewer-a']);
    sessions.forget('viewer-b');
    live.delete('b');
    expect(sessions.sweep()).toBe(0);
  });

  it('closes a session under an exemption once its viewer is disabled or loses the exempt role', () => {
    const exempt = new Set(['officer-1', 'officer-2']);
    const closed: Array<[string, string | null]> = [];
    const sessions = new GovernedSessions<string>(
      () => true,
      (s, requestId) => closed.push([s, requestId]),
      (userId) => exempt.has(userId),
    );
    sessions.track('one', { ...base, tier: 'raw', binding: { userId: 'officer-1', requestId: null } });
    sessions.track('two', { ...base, tier: 'raw', binding: { userId: 'officer-2', requestId: null } });
    sessions.track('requested', { ...base, tier: 'raw', binding: { userId: 'officer-1', requestId: 'req' } });
    expect(sessions.sweep()).toBe(0);
    exempt.delete('officer-1');
    expect(sessions.sweep()).toBe(1);
    expect(closed).toEqual([['one', null]]);
  });
});

describe('refusalOf: exemptions', () => {
  it('refuses an exemption token once its viewer no longer holds the exempt role; a request-bound token is not affected', () => {
    const none = () => false;
    expect(refusalOf({ ...base, tier: 'raw', binding: { userId: 'u', requestId: null } }, isActive, none)).toContain(
      'no longer holds a role the profile exempts',
    );
    expect(refusalOf({ ...base, tier: 'raw', binding: { userId: 'u', requestId: 'req-live' } }, isActive, none)).toBeNull();
  });
});
