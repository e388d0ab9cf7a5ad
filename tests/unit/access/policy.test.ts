import { describe, expect, it } from 'vitest';
import { ACTIONS, decide, FOOTAGE_ACTIONS, type Action, type CoveringCandidate, type Decision } from '../../../src/access/policy.js';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../../src/config/profiles.js';
import { ROLES, type Principal, type Role } from '../../../src/domain/access.js';

const NOW = Date.parse('2026-05-01T10:00:00Z');
const HOUR = 3600_000;
const CAMERA = 'cam-1';

const principal = (role: Role, extra: Partial<Principal> = {}): Principal => ({
  kind: 'user',
  userId: `u-${role}`,
  username: role,
  roles: [role],
  ...extra,
});

/** What each role may do outright: the table the policy must reproduce (footage aside). */
const EXPECTED_GRANTS: Record<Role, readonly Action[]> = {
  // Public requests are decided by the police, not the admin who files them at the desk.
  admin: ACTIONS.filter(
    (a) => !(FOOTAGE_ACTIONS as readonly string[]).includes(a) && a !== 'metrics.read' && a !== 'publicRequests.decide',
  ),
  maintainer: [
    'system.read',
    'cameras.read',
    'cameras.write',
    'masks.write',
    'diagnostics.read',
    'onvif.read',
    'onvif.onboard',
    'incidents.read',
    'maintenance.read',
    'maintenance.write',
    'changes.read',
    'changes.withdraw',
    'platforms.read',
  ],
  operator: ['system.read', 'cameras.read', 'live.shared', 'incidents.read', 'maintenance.read'],
  // The recordings list is metadata: playing what it lists is recorded.view, under a request.
  police: [
    'system.read',
    'cameras.read',
    'live.shared',
    'recordings.list',
    'requests.create',
    'requests.read',
    'requests.revoke',
    'publicRequests.create',
    'publicRequests.read',
    'publicRequests.decide',
    'publicRequests.result',
  ],
  agency: ['system.read', 'cameras.read', 'live.shared', 'recordings.list', 'requests.create', 'requests.read', 'requests.revoke'],
  approver: ['system.read', 'cameras.read', 'requests.read', 'requests.readAll', 'requests.approve', 'requests.reject', 'requests.revoke'],
  auditor: [
    'system.read',
    'cameras.read',
    'holds.read',
    'verify',
    'incidents.read',
    'maintenance.read',
    'filings.read',
    'reports.read',
    'requests.read',
    'requests.readAll',
    'register.read',
    'audit.read',
    'dossier.read',
    'changes.read',
    'publicRequests.read',
    'platforms.read',
  ],
};

const RETRIEVERS: readonly Role[] = ['admin', 'operator', 'police', 'agency'];
const NON_FOOTAGE = ACTIONS.filter((a) => !(FOOTAGE_ACTIONS as readonly string[]).includes(a));

function approved(kind: CoveringCandidate['kind'], over: Partial<CoveringCandidate> = {}): CoveringCandidate {
  return {
    id: `req-${kind}`,
    kind,
    state: 'approved',
    cameraIds: [CAMERA],
    fromMs: NOW - 2 * HOUR,
    toMs: NOW + 2 * HOUR,
    validFromMs: NOW - HOUR,
    validUntilMs: NOW + HOUR,
    ...over,
  };
}

const ALL_APPROVED = [approved('view_live_raw'), approved('view_recorded'), approved('export')];
const tierOf = (a: Action): 'shared' | 'raw' | undefined => (a === 'live.shared' ? 'shared' : a === 'live.raw' ? 'raw' : undefined);

function footage(role: Role, action: Action, profile: ProfileName, requests: readonly CoveringCandidate[]): Decision {
  return decide(principal(role), action, {
    profile: PROFILES[profile],
    tier: tierOf(action),
    cameraId: CAMERA,
    fromMs: NOW - HOUR,
    toMs: NOW - HOUR / 2,
    ...(action === 'live.raw' ? { fromMs: undefined, toMs: undefined, atMs: NOW } : {}),
    requests,
    nowMs: NOW,
  });
}

describe('policy: API keys', () => {
  const ctx = (keyOwner?: string) => ({ profile: PROFILES.strict, nowMs: NOW, ...(keyOwner === undefined ? {} : { keyOwner }) });
  for (const role of ROLES) {
    it(`${role}: manages their own keys; someone else's only with users.manage`, () => {
      expect(decide(principal(role), 'apiKeys.manage', ctx()).allowed).toBe(true);
      expect(decide(principal(role), 'apiKeys.manage', ctx(role)).allowed).toBe(true);
      const other = decide(principal(role), 'apiKeys.manage', ctx('someone-else'));
      expect(other.allowed).toBe(role === 'admin');
      if (!other.allowed) expect(other.reason).toContain('users.manage');
    });
  }
});

describe('policy: role × action × tier × profile', () => {
  for (const profile of PROFILE_NAMES) {
    describe(`profile ${profile}`, () => {
      for (const role of ROLES) {
        it(`${role}: every non-footage action as the grant table says`, () => {
          for (const action of NON_FOOTAGE) {
            const d = decide(principal(role), action, { profile: PROFILES[profile], tier: tierOf(action), nowMs: NOW });
            const own = action === 'session.own' || action === 'apiKeys.manage';
            const expected = action === 'metrics.read' || own || EXPECTED_GRANTS[role].includes(action);
            expect({ action, allowed: d.allowed }).toEqual({ action, allowed: expected });
            if (!d.allowed) expect(d.reason).toContain(action);
          }
        });

        it(`${role}: footage without a request`, () => {
          for (const action of FOOTAGE_ACTIONS) {
            const d = footage(role, action, profile, []);
            const exempt = profile === 'guangdong' && role === 'police' && action !== 'export';
            expect({ action, allowed: d.allowed }).toEqual({ action, allowed: exempt });
            if (d.allowed) expect(d).toEqual({ allowed: true, exemption: { article: 'guangdong-2025 Art. 22 ¶1, 23 ¶2' } });
            else expect(d.reason).toMatch(RETRIEVERS.includes(role) ? /needs an approved access request/ : /footage is retrieved only by/);
          }
        });

        it(`${role}: footage under approved requests`, () => {
          for (const action of FOOTAGE_ACTIONS) {
            const d = footage(role, action, profile, ALL_APPROVED);
            expect({ action, allowed: d.allowed }).toEqual({ action, allowed: RETRIEVERS.includes(role) });
          }
        });
      }
    });
  }

  it('the tier must match the live action', () => {
    const ctx = { profile: PROFILES.strict, nowMs: NOW };
    expect(decide(principal('operator'), 'live.shared', { ...ctx, tier: 'shared' }).allowed).toBe(true);
    const wrong = decide(principal('operator'), 'live.shared', { ...ctx, tier: 'raw' });
    expect(wrong).toEqual({ allowed: false, reason: expect.stringContaining('raw tier is live.raw') });
    expect(decide(principal('operator'), 'live.raw', { ...ctx, tier: 'shared', requests: ALL_APPROVED }).allowed).toBe(false);
  });
});

describe('policy: a request covers only its kind, cameras, range and window', () => {
  const police = principal('police');
  const base = { profile: PROFILES.strict, cameraId: CAMERA, nowMs: NOW };

  it('names the covering request and the end of its window (no grant made under it may outlive it)', () => {
    expect(decide(police, 'recorded.view', { ...base, fromMs: NOW - HOUR, toMs: NOW, requests: ALL_APPROVED })).toEqual({
      allowed: true,
      requestId: 'req-view_recorded',
      untilMs: NOW + HOUR,
    });
  });

  it.each([
    ['another kind', [approved('export')]],
    ['another camera', [approved('view_recorded', { cameraIds: ['cam-2'] })]],
    ['a range outside it', [approved('view_recorded', { toMs: NOW - 3 * HOUR + 1, fromMs: NOW - 4 * HOUR })]],
    ['before its window', [approved('view_recorded', { validFromMs: NOW + 1 })]],
    ['after its window', [approved('view_recorded', { validUntilMs: NOW })]],
    ['a pending one', [approved('view_recorded', { state: 'pending' })]],
    ['a revoked one', [approved('view_recorded', { state: 'revoked' })]],
  ])('refuses %s', (_what, requests) => {
    const d = decide(police, 'recorded.view', { ...base, fromMs: NOW - HOUR, toMs: NOW, requests });
    expect(d.allowed).toBe(false);
  });

  it('live raw at an instant inside the approved range', () => {
    const live = [approved('view_live_raw')];
    expect(decide(police, 'live.raw', { ...base, tier: 'raw', requests: live }).allowed).toBe(true);
    expect(decide(police, 'live.raw', { ...base, tier: 'raw', atMs: NOW + 3 * HOUR, requests: live }).allowed).toBe(false);
  });
});

describe('policy: four eyes on decisions', () => {
  const request = { filedBy: { userId: 'u-police', username: 'police' }, staffCredentialNos: ['GA-001', 'GA-002'] };
  const ctx = { profile: PROFILES.strict, request };

  it('allows an approver who is neither filer nor staff', () => {
    expect(decide(principal('approver', { credentialNo: 'GA-999' }), 'requests.approve', ctx)).toEqual({ allowed: true });
  });

  it('refuses the filer, naming why', () => {
    const d = decide(principal('approver', { userId: 'u-police', username: 'police' }), 'requests.approve', ctx);
    expect(d).toEqual({ allowed: false, reason: expect.stringContaining('filed this request') });
  });

  it('refuses one of the staff (same credential number), on approve and reject', () => {
    for (const action of ['requests.approve', 'requests.reject'] as const) {
      const d = decide(principal('approver', { credentialNo: 'GA-002' }), action, ctx);
      expect(d).toEqual({ allowed: false, reason: expect.stringContaining('one of its staff') });
    }
  });

  it('lets police revoke only their own request', () => {
    expect(decide(principal('police'), 'requests.revoke', ctx).allowed).toBe(true);
    expect(decide(principal('police', { userId: 'u-other', username: 'other' }), 'requests.revoke', ctx).allowed).toBe(false);
  });
});

describe('policy: public request decisions', () => {
  const request = { filedBy: { userId: 'u-desk', username: 'desk' }, staffCredentialNos: [] };
  const ctx = { profile: PROFILES.zhuzhou, request };

  it('a police officer who did not file it decides; the filer, an admin and an operator do not', () => {
    expect(decide(principal('police'), 'publicRequests.decide', ctx)).toEqual({ allowed: true });
    const filer = decide(principal('police', { userId: 'u-desk', username: 'desk' }), 'publicRequests.decide', ctx);
    expect(filer).toEqual({ allowed: false, reason: expect.stringContaining('filed this request') });
    for (const role of ['admin', 'operator', 'approver'] as const) {
      const d = decide(principal(role), 'publicRequests.decide', ctx);
      expect(d).toEqual({ allowed: false, reason: expect.stringContaining('publicRequests.decide needs one of the roles police') });
    }
  });
});
