import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { secondAdmin, type PendingChangeBody as PendingChange } from '../../helpers/changeSteps.js';
import { addCamera, streamUrls, type ApiError } from '../../helpers/cameraSteps.js';
import { grayFrame, regionStats, type Region } from '../../helpers/frames.js';
import { ADMIN_TOKEN, CLI_PATH, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SIZE = { width: 640, height: 360 };
const CONFIG = (retentionDays: number) =>
  `ingest:\n  backoff:\n    initialMs: 300\n    maxMs: 2000\nrecording:\n  retentionDays: ${retentionDays}`;
const MASKED: Region = { x: 0.05, y: 0.1, w: 0.3, h: 0.4 };
const OUTSIDE: Region = { x: 0.55, y: 0.55, w: 0.4, h: 0.35 };

interface Hold {
  id: number;
  liftedAt: string | null;
  liftedBy: string | null;
}

describe('four eyes on changes that weaken protection (Must show 8)', () => {
  let gw: GatewayProcess;
  let cameraId: string;
  let adminB: string;

  /** Edge energy in the masked region relative to an unmasked one, on the shared tier now (snow: 1 where nothing hides it). */
  const sharedDetail = async (): Promise<number> => {
    const urls = await streamUrls(gw, cameraId, adminB);
    const frame = await grayFrame(urls.shared.httpFlv, SIZE);
    return regionStats(frame, MASKED).edge / regionStats(frame, OUTSIDE).edge;
  };
  const pending = async (token?: string) =>
    (await gw.api<{ items: PendingChange[] }>('GET', '/api/v1/pending-changes?state=pending', undefined, token)).body.items;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const camera = await TestCamera.start({ ...SIZE, fps: 25, pattern: 'snow' });
    gw = await GatewayProcess.start({ configYaml: CONFIG(60) });
    cameraId = (await addCamera(gw, camera.url, 'Masked gate', { masks: [{ shape: 'rect', ...MASKED, mode: 'fill' }] })).id;
    adminB = await secondAdmin(gw);
    await gw.waitFor(
      'psvgw_shared_tier_up == 1',
      async () => (await gw.metric('psvgw_shared_tier_up', { camera_id: cameraId })) === 1,
      20_000,
    );
  }, 60_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
  });

  it('removing the masks is pending: the shared tier stays masked, the proposer cannot approve, a second admin does and the masks are gone', async () => {
    expect(await sharedDetail()).toBeLessThan(0.1);

    const removal = await gw.api<PendingChange | ApiError>('PATCH', `/api/v1/cameras/${cameraId}`, { masks: [] });
    expect(removal.status).toBe(202);
    const change = removal.body as PendingChange;
    expect(change).toMatchObject({
      kind: 'camera.masks',
      subject: cameraId,
      state: 'pending',
      proposed: [],
      proposedBy: { username: 'admin' },
    });
    expect(change.current).toEqual([{ shape: 'rect', ...MASKED, mode: 'fill' }]);

    // Listed as pending with who, when, what, the current and the proposed value; the camera keeps its mask.
    const listed = (await pending(adminB)).find((c) => c.id === change.id);
    expect(listed).toMatchObject({ proposedBy: { username: 'admin' }, current: change.current, proposed: [] });
    expect(Date.parse(listed!.proposedAt)).toBeGreaterThan(Date.now() - 60_000);
    const camera = await gw.api<{ masks: unknown[] }>('GET', `/api/v1/cameras/${cameraId}`);
    expect(camera.body.masks).toHaveLength(1);
    expect(await sharedDetail()).toBeLessThan(0.1);

    // The proposer approving their own change is refused, naming the rule.
    const own = await gw.api<ApiError>('POST', `/api/v1/pending-changes/${change.id}/approve`, { reason: 'mine' });
    expect(own.status).toBe(403);
    expect(own.body.error.message).toContain('Four-eyes rule');
    expect((await pending()).map((c) => c.id)).toContain(change.id);

    // A second admin approves: the shared tier loses the mask.
    const approve = await gw.api<PendingChange>(
      'POST',
      `/api/v1/pending-changes/${change.id}/approve`,
      { reason: 'the site was rebuilt' },
      adminB,
    );
    expect(approve.status).toBe(200);
    expect(approve.body.state).toBe('approved');
    expect((await gw.api<{ masks: unknown[] }>('GET', `/api/v1/cameras/${cameraId}`)).body.masks).toEqual([]);
    let ratio = 0;
    await gw.waitFor(
      'the shared tier without the mask',
      async () => {
        ratio = await sharedDetail().catch(() => 0);
        return ratio > 0.5;
      },
      30_000,
      500,
    );
    expect(ratio).toBeGreaterThan(0.5);
  }, 60_000);

  it('adding a mask applies at once (strengthening never waits)', async () => {
    const add = await gw.api<{ masks: unknown[] }>('PATCH', `/api/v1/cameras/${cameraId}`, {
      masks: [{ shape: 'rect', ...MASKED, mode: 'blur' }],
    });
    expect(add.status).toBe(200);
    expect(add.body.masks).toHaveLength(1);
  });

  it('lifting an evidence hold waits for a second admin; the audit log has every step', async () => {
    const now = Date.now();
    const placed = await gw.api<Hold>('POST', '/api/v1/holds', {
      cameraIds: [cameraId],
      from: new Date(now - 600_000).toISOString(),
      to: new Date(now).toISOString(),
      reason: 'case 2026-118',
    });
    expect(placed.status).toBe(201);
    const lift = await gw.api<PendingChange>('POST', `/api/v1/holds/${placed.body.id}/lift`, { reason: 'case closed' });
    expect(lift.status).toBe(202);
    expect(lift.body.kind).toBe('hold.lift');
    const holds = async () => (await gw.api<{ items: Hold[] }>('GET', '/api/v1/holds')).body.items.find((h) => h.id === placed.body.id);
    expect((await holds())?.liftedAt).toBeNull();

    // From the CLI: the queue lists it, and the second admin approves it there.
    const cli = (token: string, ...args: string[]) =>
      spawnSync(process.execPath, [CLI_PATH, 'changes', ...args], {
        env: { ...process.env, PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: token },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const list = cli(ADMIN_TOKEN, 'list');
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain(lift.body.id);
    expect(list.stdout).toContain('hold.lift');
    const approve = cli(adminB, 'approve', lift.body.id, '--reason', 'case file checked');
    expect(approve.stderr).toBe('');
    expect(approve.stdout).toContain(`change ${lift.body.id}`);
    expect(approve.stdout).toContain('is approved');
    expect(await holds()).toMatchObject({ liftedBy: 'admin' });
    expect((await holds())?.liftedAt).not.toBeNull();

    const audit = await gw.api<{ items: Array<{ actor: string; action: string; outcome: string }> }>('GET', '/api/v1/audit?limit=200');
    const steps = (audit.body.items ?? []).map((e) => `${e.actor} ${e.action} ${e.outcome}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        'admin pending_change.propose ok',
        'admin pending_change.approve refused',
        'admin-b pending_change.approve ok',
        'admin camera.masks ok',
        'admin hold.lift ok',
      ]),
    );
  });

  it('a start whose config lowers the retention keeps the approved one and files the change as pending', async () => {
    await gw.stop();
    gw = await GatewayProcess.start({ dataDir: gw.dataDir, configYaml: CONFIG(45) });
    const list = await gw.api<{ retentionDays: number }>(
      'GET',
      `/api/v1/cameras/${cameraId}/recordings?from=${Date.now() - 60_000}&to=${Date.now()}`,
    );
    expect(list.status).toBe(200);
    expect(list.body.retentionDays).toBe(60);
    const change = (await pending()).find((c) => c.kind === 'config.retention');
    expect(change).toMatchObject({ subject: 'default', current: 60, proposed: 45, proposedBy: { username: 'config file' } });
    expect(gw.logs.some((l) => l.includes('the config weakens protection') && l.includes(change!.id))).toBe(true);
  }, 40_000);
});
