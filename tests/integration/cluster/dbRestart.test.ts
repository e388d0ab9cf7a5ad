import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../../helpers/cameraFleet.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { listNodes, startClusterNode, until, verifySharedRecordings } from '../../helpers/clusterNodes.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { startOwnPostgres, type OwnPostgres } from '../../helpers/ownPostgres.js';
import { descendants } from '../../helpers/processes.js';
import { recordingList } from '../../helpers/recordings.js';

/**
 * PostgreSQL restarted under load (issue 16, Must show 5): two nodes on a server of the
 * test's own, stopped for longer than the lease and started again. The nodes keep their
 * ingests running and recording, reconnect, renew their leases at their own epochs and
 * index what they recorded meanwhile: no camera changes owner, the index has no hole over
 * the outage and `psvgw verify` passes. The nodes share one recordings directory, so one
 * verify run checks every camera's chain and files.
 */
const CAMERAS = 4;
const LEASE_SECONDS = 6;
const SEGMENT_SECONDS = 2;
const OUTAGE_MS = 8_500;

/** Ingest ffmpegs of a node, by camera: the ffmpeg whose argv writes into the camera's recordings directory. */
function ingestPids(node: number, cameraIds: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of descendants(node)) {
    const id = cameraIds.find((c) => p.argv.some((a) => a.includes(`/${c}/.incoming/`)));
    if (id !== undefined && p.argv[0]?.includes('ffmpeg') === true) out.set(id, p.pid);
  }
  return out;
}

describe('cluster mode: PostgreSQL restarted under load', { timeout: 180_000 }, () => {
  let server: OwnPostgres;
  let fleet: CameraFleet;
  let shared: string;
  const nodes: GatewayProcess[] = [];

  beforeAll(async () => {
    server = await startOwnPostgres();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-dbrestart-'));
    fleet = await startCameraFleet({ count: CAMERAS });
    for (const name of ['n1', 'n2']) {
      nodes.push(
        await startClusterNode({
          name,
          dbUrl: server.url,
          sharedDir: shared,
          configYaml: `recording:\n  segmentSeconds: ${SEGMENT_SECONDS}\n  checkpointSeconds: 5\n  dir: ${join(shared, 'recordings')}\ncluster:\n  leaseSeconds: ${LEASE_SECONDS}`,
        }),
      );
    }
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllCameraFleets();
    await server?.destroy();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it('nodes keep recording through the restart, renew their own leases and index everything recorded meanwhile', async () => {
    const [n1, n2] = nodes as [GatewayProcess, GatewayProcess];
    const ids = await Promise.all(fleet.urls.map(async (url, i) => (await addCamera(i % 2 === 0 ? n1 : n2, url, `Fleet ${i + 1}`)).id));
    const owners = await until(
      'every camera owned, 2/2',
      async () => {
        const list = await listNodes(n1);
        const held = list.flatMap((n) => n.cameraIds);
        return held.length === CAMERAS && list.every((n) => n.cameraIds.length === CAMERAS / 2) ? list : undefined;
      },
      30_000,
    );
    const byName = new Map([
      ['n1', n1],
      ['n2', n2],
    ]);
    const ownerOf = new Map(owners.flatMap((n) => n.cameraIds.map((id) => [id, byName.get(n.name)!])));
    // Every camera recording, with a few segments indexed, before the server goes away.
    for (const id of ids) {
      await until(
        `${id} recording`,
        async () => ((await recordingList(ownerOf.get(id)!, id)).segments.length >= 2 ? true : undefined),
        30_000,
      );
    }
    const pidsBefore = nodes.map((gw) => ingestPids(gw.pid, ids));
    expect([...pidsBefore[0]!.keys(), ...pidsBefore[1]!.keys()].sort()).toEqual([...ids].sort());

    const stoppedAt = Date.now();
    await server.stop();
    // Down past the self-stop (4 s) and the lease (6 s).
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await server.start();
    const startedAt = Date.now();
    console.log(`[cluster] PostgreSQL down for ${((startedAt - stoppedAt) / 1000).toFixed(1)} s`);

    // The index catches up: every camera has segments from after the restart, none missing over the outage.
    for (const id of ids) {
      const owner = ownerOf.get(id)!;
      await until(
        `${id} indexed past the restart`,
        async () => ((await recordingList(owner, id)).segments.some((s) => Date.parse(s.start) > startedAt + 1000) ? true : undefined),
        45_000,
      ).catch(async (err: unknown) => {
        // What the owner indexed and logged for the camera, so that a failure here explains itself.
        const starts = (await recordingList(owner, id).catch(() => ({ segments: [] }))).segments.map((s) => s.start).slice(-3);
        const lines = owner.logs.filter((l) => l.includes(id) || /database|lease|index/.test(l)).slice(-30);
        throw new Error(
          `${String(err)}; restarted at ${new Date(startedAt).toISOString()}, last segments ${starts.join(', ')}; ${owners.find((n) => n.cameraIds.includes(id))?.name} logged:\n${lines.join('\n')}`,
        );
      });
      console.log(`[cluster] ${id} indexed past the restart ${((Date.now() - startedAt) / 1000).toFixed(1)} s after it`);
    }
    for (const id of ids) {
      const segments = (await recordingList(ownerOf.get(id)!, id)).segments
        .map((s) => ({ start: Date.parse(s.start), end: Date.parse(s.end) }))
        .sort((a, b) => a.start - b.start);
      const window = segments.filter((s) => s.end >= stoppedAt - SEGMENT_SECONDS * 1000 && s.start <= startedAt + SEGMENT_SECONDS * 1000);
      expect(window[0]!.start).toBeLessThanOrEqual(stoppedAt);
      expect(window.at(-1)!.end).toBeGreaterThanOrEqual(startedAt);
      const holes = window.slice(1).map((s, i) => s.start - window[i]!.end);
      expect(Math.max(...holes), `${id}: largest hole in the index over the outage (ms)`).toBeLessThanOrEqual(SEGMENT_SECONDS * 1000);
    }
    // The same ingest processes ran throughout, on the same nodes.
    expect(nodes.map((gw) => ingestPids(gw.pid, ids))).toEqual(pidsBefore);
    for (const gw of nodes) {
      const logs = gw.logs.join('\n');
      expect(logs).not.toMatch(/leases not renewed in time|indexing failed|lease fence refused/);
      expect(logs).toMatch(/database unreachable: the cameras keep recording here/);
      expect(logs).toMatch(/database reachable again/);
    }
    expect(ids.filter((id) => existsSync(join(shared, 'recordings', id, '.fenced')))).toEqual([]);

    // No camera changed hands: one claim each, by the node that holds it now.
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const rows = (
        await client.query<{ camera_id: string; node: string; event: string }>(
          'SELECT camera_id, node, event FROM camera_lease_history ORDER BY id',
        )
      ).rows;
      for (const id of ids) {
        const owner = owners.find((n) => n.cameraIds.includes(id))!.name;
        expect(rows.filter((r) => r.camera_id === id).map((r) => [r.node, r.event])).toEqual([[owner, 'claimed']]);
      }
    } finally {
      await client.end();
    }

    await Promise.all(nodes.map((gw) => gw.stop()));
    const { status, report } = await verifySharedRecordings({ dataDir: n1.dataDir, dbUrl: server.url, sharedDir: shared });
    console.log(`[cluster] verify after the restart: ${report.cameras} cameras, ${report.segments} segments`);
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.cameras).toBe(CAMERAS);
    expect(status).toBe(0);
  });
});
