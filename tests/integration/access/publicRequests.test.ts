import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry, PublicRequest } from '../../../src/domain/index.js';
import { decideRequest, fileRequest, userWithRole } from '../../helpers/accessSteps.js';
import { addCamera, waitForUp, type ApiError } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';
import { openWsFlv } from '../../helpers/wsFlv.js';

const ID_NUMBER = '430202198001015678';
const CONTACT = '+86 731 5550 4321';
const HOUR = 3600_000;

interface Report {
  totals: Record<string, number>;
  rows: { id: string; idDocument: string; decision: string | null; accessRequestId: string | null; result: string | null }[];
}

// guangdong: its exemption (police view without approval, Art. 22) is what the last test ends early.
describe('public requests and exempt viewers against the running gateway (guangdong profile)', () => {
  let gw: GatewayProcess;
  let cams: [string, string];
  let liveCam: string;
  let t: Record<'officer1' | 'officer2' | 'approver' | 'op' | 'aud', string>;
  const range = { from: new Date(Date.now() - 3 * HOUR), to: new Date(Date.now() - HOUR) };

  const body = (over: Record<string, unknown> = {}) => ({
    category: 'missing_person',
    applicant: { name: 'Wang Fang', contact: CONTACT, relationship: 'daughter', idDocument: { type: 'resident_id', number: ID_NUMBER } },
    reason: 'Her father (78, dementia) left home at 07:30; last seen near the east gate.',
    cameraIds: [cams[0]],
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    ...over,
  });
  const file = (token: string | undefined, over: Record<string, unknown> = {}) =>
    gw.api<PublicRequest | ApiError>('POST', '/api/v1/public-requests', body(over), token);
  const decision = (id: string, token: string, b: Record<string, unknown>) =>
    gw.api<PublicRequest | ApiError>('POST', `/api/v1/public-requests/${id}/decide`, b, token);
  const message = (res: { body: unknown }) => (res.body as ApiError).error.message;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start();
    gw = await GatewayProcess.start({ configYaml: 'profile: guangdong' });
    liveCam = (await addCamera(gw, camera.url, 'Gate north')).id;
    // Disabled camera records: requests name cameras; no video is needed to file or decide them.
    const ids: string[] = [];
    for (const name of ['Gate east', 'Gate west']) {
      const created = await gw.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
        name,
        rtspUrl: 'rtsp://127.0.0.1:9/stream',
        siteType: 'road',
        enabled: false,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.push(created.body.id);
    }
    cams = [ids[0] ?? '', ids[1] ?? ''];
    t = {
      officer1: await userWithRole(gw, 'officer1', 'police'),
      officer2: await userWithRole(gw, 'officer2', 'police'),
      approver: await userWithRole(gw, 'approver1', 'approver'),
      op: await userWithRole(gw, 'op', 'operator'),
      aud: await userWithRole(gw, 'aud', 'auditor'),
    };
    await waitForUp(gw, liveCam, 1, 30_000);
  }, 90_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('refuses an incomplete intake naming each field, unknown cameras, and filers without the role', async () => {
    const incomplete = await gw.api<ApiError>('POST', '/api/v1/public-requests', { category: 'missing_person', applicant: { name: 'x' } });
    expect(incomplete.status).toBe(400);
    for (const named of ['applicant.contact', 'applicant.relationship', 'applicant.idDocument', 'reason', 'cameraIds', 'from', 'to']) {
      expect(incomplete.body.error.message).toContain(named);
    }
    const unknown = await file(undefined, { cameraIds: ['no-such-camera'] });
    expect(unknown.status).toBe(400);
    expect(message(unknown)).toContain('cameraIds names cameras the gateway does not have: no-such-camera');
    for (const who of [t.op, t.aud]) {
      const refused = await file(who);
      expect(refused.status).toBe(403);
      expect(message(refused)).toContain('publicRequests.create needs one of the roles admin, police');
    }
  });

  it('admin files, police decide (not the filer, not the admin); release needs an approved export request covering the cameras', async () => {
    const filed = await file(undefined);
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    const id = (filed.body as PublicRequest).id;
    expect(filed.body).toMatchObject({ state: 'filed', decision: null, profile: 'guangdong', filedBy: { username: 'admin' } });

    const byAdmin = await decision(id, 'test-admin-token-0123456789abcdef', { decision: 'refuse', reason: 'x' });
    expect(byAdmin.status).toBe(403);
    expect(message(byAdmin)).toContain('publicRequests.decide needs one of the roles police');

    const noExport = await decision(id, t.officer1, { decision: 'release', reason: 'guardian verified' });
    expect(noExport.status).toBe(400);
    expect(message(noExport)).toContain('accessRequestId is required for release');
    const invented = await decision(id, t.officer1, { decision: 'release', reason: 'ok', accessRequestId: 'no-such-request' });
    expect(invented.status).toBe(400);
    expect(message(invented)).toContain('names no access request');

    // A view request, a pending export, and an approved export for the other camera cannot carry it.
    const view = await fileRequest(gw, t.officer1, 'view_recorded', [cams[0]], range);
    await decideRequest(gw, t.approver, view, 'approve');
    const pending = await fileRequest(gw, t.officer1, 'export', [cams[0]], range);
    const otherCamera = await fileRequest(gw, t.officer1, 'export', [cams[1]], range);
    await decideRequest(gw, t.approver, otherCamera, 'approve');
    for (const [accessRequestId, why] of [
      [view, 'of kind view_recorded, not export'],
      [pending, 'it is pending, not approved'],
      [otherCamera, `does not cover the cameras asked for: ${cams[0]}`],
    ] as const) {
      const res = await decision(id, t.officer1, { decision: 'release', reason: 'ok', accessRequestId });
      expect(res.status, why).toBe(400);
      expect(message(res)).toContain(why);
    }
    expect(((await gw.api<PublicRequest>('GET', `/api/v1/public-requests/${id}`)).body as PublicRequest).state).toBe('filed');

    const exportRequest = await fileRequest(gw, t.officer1, 'export', [cams[0], cams[1]], range);
    await decideRequest(gw, t.approver, exportRequest, 'approve');
    const released = await decision(id, t.officer1, { decision: 'release', reason: 'guardian verified', accessRequestId: exportRequest });
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    expect(released.body).toMatchObject({ state: 'decided', decision: 'release', decidedBy: 'officer1', accessRequestId: exportRequest });
    const again = await decision(id, t.officer2, { decision: 'refuse', reason: 'second thoughts' });
    expect(again.status).toBe(409);
    expect(message(again)).toContain('is decided, not filed');

    const result = await gw.api<PublicRequest>(
      'POST',
      `/api/v1/public-requests/${id}/result`,
      { result: 'handed_over', notes: 'watermarked clip handed to the applicant' },
      t.officer1,
    );
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body).toMatchObject({ state: 'closed', result: 'handed_over', resultBy: 'officer1' });
  });

  it('an officer does not decide their own filing; a refusal gets no export and cannot end in handed_over', async () => {
    const filed = await file(t.officer1, { category: 'own_rights', applicant: { ...body().applicant, relationship: 'self' } });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    const id = (filed.body as PublicRequest).id;
    const own = await decision(id, t.officer1, { decision: 'refuse', reason: 'x' });
    expect(own.status).toBe(403);
    expect(message(own)).toContain('officer1 filed this request');
    const withExport = await decision(id, t.officer2, { decision: 'refuse', reason: 'private footage', accessRequestId: 'x' });
    expect(withExport.status).toBe(400);
    expect(message(withExport)).toContain('accessRequestId goes only with decision release');
    const refused = await decision(id, t.officer2, { decision: 'refuse', reason: 'the footage shows third parties only' });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ decision: 'refuse', accessRequestId: null });
    const result = (r: string) =>
      gw.api<PublicRequest | ApiError>('POST', `/api/v1/public-requests/${id}/result`, { result: r, notes: 'told by phone' }, t.officer2);
    const handed = await result('handed_over');
    expect(handed.status).toBe(400);
    expect(message(handed)).toContain('needs the decision release');
    expect((await result('informed')).status).toBe(200);
  });

  it('the auditor reads them and the report (json, csv, html zh/en, document masked); the operator does not', async () => {
    const list = await gw.api<{ items: PublicRequest[] }>('GET', '/api/v1/public-requests', undefined, t.aud);
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBe(2);
    // The auditor checks the process, not the person: the identity document is masked for them, whole for those who handle it.
    expect(list.body.items.map((r) => r.applicant.idDocument.number)).toEqual(['****5678', '****5678']);
    const handled = await gw.api<{ items: PublicRequest[] }>('GET', '/api/v1/public-requests', undefined, t.officer2);
    expect(handled.body.items.map((r) => r.applicant.idDocument.number)).toEqual([ID_NUMBER, ID_NUMBER]);
    expect(handled.body.items.every((r) => r.applicant.idDocument.sealed === undefined)).toBe(true);
    // At rest the number is sealed: the database file holds it nowhere in clear, only its masked form.
    const db = new Database(join(gw.dataDir, 'data', 'psvgw.db'), { readonly: true });
    try {
      const stored = db.prepare('SELECT id_document FROM public_requests').all() as Array<{ id_document: string }>;
      expect(stored).toHaveLength(2);
      for (const row of stored) {
        expect(row.id_document).not.toContain(ID_NUMBER);
        expect(JSON.parse(row.id_document)).toMatchObject({
          type: 'resident_id',
          number: '****5678',
          sealed: expect.stringMatching(/^v1\./),
        });
      }
    } finally {
      db.close();
    }
    expect((await gw.api('GET', '/api/v1/public-requests', undefined, t.op)).status).toBe(403);

    const q = `from=${new Date(Date.now() - HOUR).toISOString()}&to=${new Date(Date.now() + HOUR).toISOString()}`;
    const json = await gw.api<Report>('GET', `/api/v1/public-requests/report?${q}`, undefined, t.aud);
    expect(json.status, JSON.stringify(json.body)).toBe(200);
    expect(json.body.totals).toMatchObject({ filed: 2, released: 1, refused: 1, undecided: 0, closed: 2 });
    expect(json.body.rows.every((r) => r.idDocument === 'resident_id ****5678')).toBe(true);
    for (const [format, lang, expected] of [
      ['csv', 'zh', 'id,filed_at,filed_by,category'],
      ['html', 'zh', '群众申请查阅视频图像信息登记表'],
      ['html', 'en', 'Public requests for footage'],
    ] as const) {
      const res = await fetch(`${gw.apiUrl}/api/v1/public-requests/report?${q}&format=${format}&lang=${lang}`, {
        headers: { authorization: `Bearer ${t.aud}` },
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain(expected);
      expect(text).not.toContain(ID_NUMBER);
    }
    const badFormat = await gw.api<ApiError>('GET', `/api/v1/public-requests/report?${q}&format=pdf`, undefined, t.aud);
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.message).toContain('format must be one of json, csv, html');
  });

  it('audits every transition and the refused decision, and no log line or audit entry carries the identity document or contact', async () => {
    const audit = await gw.api<{ items: AuditEntry[] }>('GET', '/api/v1/audit?limit=500', undefined, t.aud);
    const actions = audit.body.items.filter((e) => e.action.startsWith('public_request.')).map((e) => `${e.action}:${e.outcome}`);
    expect(actions.filter((a) => a === 'public_request.file:ok')).toHaveLength(2);
    expect(actions.filter((a) => a === 'public_request.decide:ok')).toHaveLength(2);
    expect(actions.filter((a) => a === 'public_request.result:ok')).toHaveLength(2);
    expect(actions).toContain('public_request.decide:refused');
    const released = audit.body.items.find((e) => e.action === 'public_request.decide' && e.details.decision === 'release');
    expect(released?.details).toMatchObject({
      accessRequestId: expect.any(String),
      applicant: { name: 'Wang Fang', relationship: 'daughter' },
    });
    const everything = [JSON.stringify(audit.body.items), ...gw.logs].join('\n');
    expect(everything).not.toContain(ID_NUMBER);
    expect(everything).not.toContain(CONTACT);
  });

  it('a raw viewer under the exemption is cut off within 5 s once disabled or stripped of the police role', async () => {
    for (const [username, change] of [
      ['exempt1', { disabled: true }],
      ['exempt2', { roles: ['operator'] }],
    ] as const) {
      const token = await userWithRole(gw, username, 'police');
      const streams = await gw.api<{ raw: { wsFlv: string } | { refused: string } }>(
        'GET',
        `/api/v1/cameras/${liveCam}/streams`,
        undefined,
        token,
      );
      expect(streams.status).toBe(200);
      const raw = streams.body.raw;
      if ('refused' in raw) throw new Error(`the exempt officer was refused the raw tier: ${raw.refused}`);
      const viewer = await openWsFlv(raw.wsFlv);
      await gw.waitFor('FLV bytes at the exempt raw viewer', () => Promise.resolve(viewer.bytes > 0), 15_000);
      const patched = await gw.api('PATCH', `/api/v1/users/${username}`, change);
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      const changedAt = Date.now();
      const closed = await Promise.race([viewer.closed, new Promise<null>((r) => setTimeout(() => r(null), 8000))]);
      const cutAfterMs = Date.now() - changedAt;
      await viewer.close();
      expect(closed, `${username}: still playing 8 s after ${JSON.stringify(change)}`).not.toBeNull();
      expect(cutAfterMs).toBeLessThanOrEqual(5000);
      expect(gw.logs.some((l) => l.includes('viewer cut off: its exemption ended'))).toBe(true);
      // And the same URL no longer plays.
      const again = await openWsFlv(raw.wsFlv);
      const refused = await Promise.race([again.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      await again.close();
      expect(refused?.code).toBe(4403);
      expect(refused?.reason).toContain('playback token refused');
    }
  });
});
