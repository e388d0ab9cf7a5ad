import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessRequestService, DEFAULT_WINDOW_MS } from '../../../src/access/requestsService.js';
import { PROFILES, type ProfileName } from '../../../src/config/profiles.js';
import type { Principal, Role } from '../../../src/domain/index.js';
import { GatewayError } from '../../../src/errors.js';
import { SqliteStore } from '../../../src/store/sqlite.js';
import { camera } from '../store/storeContract.js';

const HOUR = 3600_000;
const T0 = Date.parse('2026-05-01T10:00:00Z');
const CAM_A = camera(1).id;
const CAM_B = camera(2).id;

const person = (username: string, roles: Role[], credentialNo?: string): Principal => ({
  kind: 'user',
  userId: `u-${username}`,
  username,
  roles,
  ...(credentialNo === undefined ? {} : { credentialNo }),
});
const admin = person('admin', ['admin']);
const approver = person('chief', ['approver'], 'GA-900');
const police = person('officer', ['police'], 'GA-101');

const STAFF = [
  { name: '张伟', unit: '城东派出所', credentialNo: 'GA-101' },
  { name: '李娜', unit: '城东派出所', credentialNo: 'GA-102' },
];
const ALL_DOCUMENTS = {
  workCertificate: 'WC-2026-7',
  enforcementCertificate: 'EC-44-0193',
  approvalDocumentNo: '城公（2026）118号',
  unitCertificate: 'UC-2026-31',
};

function body(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'view_recorded',
    cameraIds: [CAM_A],
    from: new Date(T0 - 2 * HOUR).toISOString(),
    to: new Date(T0 - HOUR).toISOString(),
    purpose: 'theft case 2026-118',
    destination: 'viewed on site, nothing copied',
    staff: STAFF,
    documents: ALL_DOCUMENTS,
    ...over,
  };
}

function without(field: string): Record<string, unknown> {
  if (field === 'staff') return body({ staff: STAFF.slice(0, 1) });
  const documents: Record<string, string> = { ...ALL_DOCUMENTS };
  for (const f of field.split('+')) delete documents[f.replace('documents.', '')];
  return body({ documents });
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

let dir: string;
let store: SqliteStore;
let now: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'psvgw-requests-'));
  store = new SqliteStore(join(dir, 'psvgw.db'));
  await store.migrate();
  await store.cameras.insert(camera(1));
  await store.cameras.insert(camera(2));
  now = T0;
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const service = (profile: ProfileName = 'strict') => new AccessRequestService({ store, profile: PROFILES[profile], now: () => now });

describe('access requests: decisions, window and coverage (real SQLite)', () => {
  it('refuses approval by one of its staff (same credential number), and keeps it pending', async () => {
    const s = service();
    const req = await s.file(admin, body());
    const staffApprover = person('deputy', ['approver'], 'GA-102');
    const err = await refusal(s.approve(staffApprover, req.id, { reason: 'ok' }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain('one of its staff');
    expect((await s.get(admin, req.id)).state).toBe('pending');
    const refused = await store.audit.list({ action: 'access_request.approve' });
    expect(refused.map((e) => [e.actor, e.outcome])).toEqual([['deputy', 'refused']]);
  });

  it('refuses approval by the filer, even an admin', async () => {
    const s = service();
    const req = await s.file(admin, body());
    const err = await refusal(s.approve(admin, req.id, { reason: 'mine' }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain('filed this request');
  });

  it('approved by another approver, it covers only its cameras, range and window', async () => {
    const s = service();
    const req = await s.file(police, body());
    const done = await s.approve(approver, req.id, { reason: 'case 2026-118 approved by the station head' });
    expect(done).toMatchObject({ state: 'approved', decidedBy: 'chief', validFrom: new Date(T0).toISOString() });
    expect(done.validUntil).toBe(new Date(T0 + DEFAULT_WINDOW_MS).toISOString());

    const inRange = { from: new Date(T0 - 2 * HOUR + 60_000), to: new Date(T0 - HOUR - 60_000) };
    const cover = (p: Principal, q: Partial<{ cameraId: string; from: Date; to: Date }> = {}) =>
      s.coveringRequest(p, { kind: 'view_recorded', cameraId: CAM_A, ...inRange, ...q });
    expect((await cover(police))?.id).toBe(req.id);
    // The second staff member, by credential number.
    expect((await cover(person('partner', ['police'], 'GA-102')))?.id).toBe(req.id);
    expect(await cover(person('stranger', ['police'], 'GA-555'))).toBeNull();
    expect(await cover(police, { cameraId: CAM_B })).toBeNull();
    expect(await cover(police, { from: new Date(T0 - 3 * HOUR) })).toBeNull();
    expect(await s.coveringRequest(police, { kind: 'export', cameraId: CAM_A, ...inRange })).toBeNull();

    now = T0 + DEFAULT_WINDOW_MS - 1;
    expect((await cover(police))?.id).toBe(req.id);
    now = T0 + DEFAULT_WINDOW_MS;
    expect(await cover(police)).toBeNull();
    expect((await s.get(police, req.id)).state).toBe('expired');
    const actions = (await store.audit.list()).map((e) => `${e.actor} ${e.action} ${e.outcome}`).reverse();
    expect(actions).toEqual(['officer access_request.file ok', 'chief access_request.approve ok', 'system access_request.expire ok']);
  });

  it('a live raw request lasts until its end at most; an approver expiry shortens it', async () => {
    const s = service();
    const live = await s.file(
      police,
      body({ kind: 'view_live_raw', from: new Date(T0).toISOString(), to: new Date(T0 + 2 * HOUR).toISOString() }),
    );
    const expiresAt = new Date(T0 + HOUR).toISOString();
    expect((await s.approve(approver, live.id, { reason: 'ok', expiresAt })).validUntil).toBe(expiresAt);
    now = T0 + 30 * 60_000;
    expect((await s.coveringRequest(police, { kind: 'view_live_raw', cameraId: CAM_A }))?.id).toBe(live.id);
    now = T0 + HOUR;
    expect(await s.coveringRequest(police, { kind: 'view_live_raw', cameraId: CAM_A })).toBeNull();
  });

  it('revoked, it covers nothing; rejected, it never did; each transition audited without credential numbers', async () => {
    const s = service();
    const a = await s.file(police, body());
    await s.approve(approver, a.id, { reason: 'ok' });
    const revoked = await s.revoke(approver, a.id, { reason: 'case closed' });
    expect(revoked).toMatchObject({ state: 'revoked', revokedBy: 'chief', revokeReason: 'case closed' });
    expect(await s.coveringRequest(police, { kind: 'view_recorded', cameraId: CAM_A, at: new Date(T0 - 90 * 60_000) })).toBeNull();
    const b = await s.file(police, body());
    expect((await s.reject(approver, b.id, { reason: 'no case number' })).state).toBe('rejected');
    expect((await refusal(s.approve(person('other', ['approver']), b.id, { reason: 'late' }))).code).toBe('REQUEST_STATE');
    const entries = await store.audit.list();
    expect(entries.map((e) => e.action).sort()).toEqual(
      ['access_request.approve', 'access_request.file', 'access_request.file', 'access_request.reject', 'access_request.revoke'].sort(),
    );
    expect(JSON.stringify(entries)).not.toContain('GA-10');
  });

  it('lists all requests to approvers and auditors, only their own to police', async () => {
    const s = service();
    const mine = await s.file(police, body());
    await s.file(admin, body({ staff: [STAFF[1], { name: '王强', unit: '城西派出所', credentialNo: 'GA-300' }] }));
    expect((await s.list(approver)).length).toBe(2);
    expect((await s.list(person('audit', ['auditor']))).length).toBe(2);
    expect((await s.list(police)).map((r) => r.id)).toEqual([mine.id]);
    expect((await refusal(s.get(police, (await s.list(approver)).find((r) => r.id !== mine.id)!.id))).code).toBe('NOT_FOUND');
  });

  it('refuses unknown cameras and filers without the role', async () => {
    const s = service();
    expect((await refusal(s.file(police, body({ cameraIds: ['nope'] })))).message).toContain('nope');
    expect((await refusal(s.file(person('watch', ['operator']), body()))).code).toBe('FORBIDDEN');
  });
});

/** Per profile: the fields it makes mandatory, each with its article; and what it does not ask for. */
const MANDATORY: Record<ProfileName, { required: [string, string][]; optional: string[] }> = {
  hubei: {
    required: [
      ['staff', 'hubei-2013 Art. 16(1)'],
      ['documents.enforcementCertificate', 'hubei-2013 Art. 16(2)'],
      ['documents.approvalDocumentNo', 'hubei-2013 Art. 16(3)'],
    ],
    optional: ['documents.workCertificate', 'documents.unitCertificate'],
  },
  qingdao: {
    required: [
      ['staff', 'qingdao-2020 Art. 24(1)'],
      ['documents.workCertificate', 'qingdao-2020 Art. 24(2)'],
      ['documents.approvalDocumentNo', 'qingdao-2020 Art. 23 ¶1, 24(2)'],
    ],
    optional: ['documents.enforcementCertificate', 'documents.unitCertificate'],
  },
  zhuzhou: {
    required: [['staff', 'zhuzhou-2023 Art. 13 ¶2 sets no number; the gateway requires 2']],
    optional: ['documents.workCertificate+enforcementCertificate+approvalDocumentNo+unitCertificate'],
  },
  yunnan: {
    required: [
      ['staff', 'yunnan-2016 Art. 17(1)'],
      ['documents.workCertificate', 'yunnan-2016 Art. 17(2)'],
      ['documents.unitCertificate', 'yunnan-2016 Art. 17(2)'],
    ],
    optional: ['documents.enforcementCertificate', 'documents.approvalDocumentNo'],
  },
  guangdong: {
    required: [
      ['staff', 'guangdong-2025 Art. 23(1)'],
      ['documents.workCertificate', 'guangdong-2025 Art. 23(2)'],
      ['documents.approvalDocumentNo+unitCertificate', 'guangdong-2025 Art. 23(3)'],
    ],
    optional: ['documents.approvalDocumentNo', 'documents.unitCertificate', 'documents.enforcementCertificate'],
  },
  strict: {
    required: [
      ['staff', 'strict: hubei-2013 Art. 16(1)'],
      ['documents.workCertificate', 'strict: qingdao-2020 Art. 24(2)'],
      ['documents.enforcementCertificate', 'strict: hubei-2013 Art. 16(2)'],
      ['documents.approvalDocumentNo', 'strict: hubei-2013 Art. 16(3)'],
      ['documents.unitCertificate', 'strict: yunnan-2016 Art. 17(2)'],
    ],
    optional: [],
  },
};

describe('access requests: each jurisdiction profile enforces its mandatory fields', () => {
  for (const [profile, rules] of Object.entries(MANDATORY) as [ProfileName, (typeof MANDATORY)[ProfileName]][]) {
    it(`${profile}`, async () => {
      const s = service(profile);
      for (const [field, article] of rules.required) {
        const err = await refusal(s.file(admin, without(field)));
        expect(err.code).toBe('VALIDATION_FAILED');
        // 'documents.a+b' (one of a, b) names both fields.
        const names =
          field === 'staff'
            ? ['staff']
            : field
                .replace('documents.', '')
                .split('+')
                .map((f) => `documents.${f}`);
        for (const name of names) expect(err.message).toContain(name);
        expect(err.message).toContain(article);
      }
      for (const field of rules.optional) expect((await s.file(admin, without(field))).state).toBe('pending');
      expect((await s.file(admin, body())).state).toBe('pending');
    });
  }

  it('reports every missing field at once', async () => {
    const err = await refusal(service('hubei').file(admin, body({ staff: STAFF.slice(0, 1), documents: {} })));
    expect((err.details as { missing: { field: string }[] }).missing.map((m) => m.field)).toEqual([
      'staff',
      'documents.enforcementCertificate',
      'documents.approvalDocumentNo',
    ]);
  });

  it('guangdong: police viewing need no approval document (Art. 23 ¶2), but exporting does', async () => {
    const s = service('guangdong');
    const noApproval = body({ documents: { workCertificate: 'WC-1' } });
    expect((await s.file(police, noApproval)).state).toBe('pending');
    expect((await refusal(s.file(police, { ...noApproval, kind: 'export' }))).message).toContain('guangdong-2025 Art. 23(3)');
    expect((await refusal(s.file(person('inspector', ['agency'], 'AG-1'), noApproval))).message).toContain('guangdong-2025 Art. 23(3)');
  });

  it('names malformed fields too', async () => {
    const err = await refusal(service('zhuzhou').file(admin, body({ kind: 'peek', to: 'yesterday', documents: { badge: 'x' } })));
    expect(err.message).toMatch(/kind must be one of view_live_raw, view_recorded, export/);
    expect(err.message).toContain('to must be an ISO 8601 time');
    expect(err.message).toContain('documents.badge is not a known document');
  });
});
