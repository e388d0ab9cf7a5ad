import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../../src/domain/index.js';
import type { ApiError } from '../../helpers/cameraSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

const STAFF = [
  { name: 'Zhang Wei', unit: 'Chengdong station', credentialNo: 'GA-7340101' },
  { name: 'Li Na', unit: 'Chengdong station', credentialNo: 'GA-7340102' },
];

/** A request complete under hubei-2013 (Art. 16: two staff, enforcement certificate, police approval). */
function request(cameraId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'view_recorded',
    cameraIds: [cameraId],
    from: new Date(Date.now() - 2 * 3600_000).toISOString(),
    to: new Date(Date.now() - 3600_000).toISOString(),
    purpose: 'theft case 2026-118',
    destination: 'viewed on site, nothing copied',
    staff: STAFF,
    documents: { enforcementCertificate: 'EC-42-0193', approvalDocumentNo: 'WH-PSB-2026-118' },
    ...over,
  };
}

describe('access requests against the running gateway (hubei profile, admin token files)', () => {
  let gw: GatewayProcess;
  let cameraId: string;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    gw = await GatewayProcess.start({ configYaml: 'profile: hubei' });
    // Disabled: the requests name a camera; no video is needed to file or decide them.
    const created = await gw.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
      name: 'Gate east',
      rtspUrl: 'rtsp://127.0.0.1:9/stream',
      siteType: 'school_gate',
      enabled: false,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    cameraId = created.body.id;
  }, 60_000);

  afterAll(async () => {
    await stopAllGateways();
  });

  it('refuses a request with one staff member, naming staff and hubei-2013 Art. 16(1)', async () => {
    const res = await gw.api<ApiError>('POST', '/api/v1/access-requests', request(cameraId, { staff: STAFF.slice(0, 1) }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('staff: 2 staff members');
    expect(res.body.error.message).toContain('hubei-2013 Art. 16(1)');
  });

  it('refuses a request without the police approval document, naming the field and hubei-2013 Art. 16(3)', async () => {
    const res = await gw.api<ApiError>(
      'POST',
      '/api/v1/access-requests',
      request(cameraId, { documents: { enforcementCertificate: 'EC-1' } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('documents.approvalDocumentNo is required (hubei-2013 Art. 16(3))');
    expect(res.body.error.message).not.toContain('enforcementCertificate');
  });

  it('files a complete request; its filer may not approve it (403 naming why); it stays pending', async () => {
    const filed = await gw.api<AccessRequest>('POST', '/api/v1/access-requests', request(cameraId));
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body).toMatchObject({ state: 'pending', profile: 'hubei', filedBy: { username: 'admin' } });

    const approval = await gw.api<ApiError>('POST', `/api/v1/access-requests/${filed.body.id}/approve`, { reason: 'looks fine' });
    expect(approval.status).toBe(403);
    expect(approval.body.error.message).toContain('admin filed this request');

    const read = await gw.api<AccessRequest>('GET', `/api/v1/access-requests/${filed.body.id}`);
    expect(read.body.state).toBe('pending');
    const list = await gw.api<{ items: AccessRequest[] }>('GET', '/api/v1/access-requests');
    expect(list.body.items.map((r) => r.id)).toContain(filed.body.id);
  });

  it('refuses the raw tier to the admin without an approved request, naming what is missing', async () => {
    const res = await gw.api<ApiError>('GET', `/api/v1/cameras/${cameraId}/snapshot?tier=raw`);
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('needs an approved access request of kind view_live_raw');
  });

  it('keeps the admin its administration, the diagnostics routes (guarded on their path) included', async () => {
    for (const path of ['/api/v1/system', `/api/v1/cameras/${cameraId}`, `/api/v1/cameras/${cameraId}/diagnostics`, '/api/v1/holds']) {
      const res = await gw.api('GET', path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
  });

  it('writes no credential number into its log', () => {
    for (const s of STAFF) expect(gw.logs.filter((line) => line.includes(s.credentialNo))).toEqual([]);
  });
});
