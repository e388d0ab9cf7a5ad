import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../../helpers/cameraFleet.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { httpFlvStart } from '../../helpers/httpFlv.js';
import { listNodes, startClusterNode, until } from '../../helpers/clusterNodes.js';

/**
 * Two real nodes on one PostgreSQL database: a viewer asking either node for any camera
 * gets play URLs of the node running it and plays them; a camera whose node is dead and
 * that no node may take over is reported as unreachable, naming the dead node.
 */

interface Streams {
  shared: { httpFlv: string; wsFlv: string };
}

describe('cluster mode: any node hands out play URLs of the owning node', { timeout: 90_000 }, () => {
  let db: TestDatabase;
  let fleet: CameraFleet;
  let shared: string;
  const nodes = new Map<string, GatewayProcess>();
  const cameraIds: string[] = [];

  const startNode = (name: string) =>
    startClusterNode({ name, dbUrl: db.url, sharedDir: shared, configYaml: 'cluster:\n  leaseSeconds: 6' }).then(
      (gw) => (nodes.set(name, gw), gw),
    );
  const node = (name: string) => nodes.get(name) as GatewayProcess;
  const list = (via: GatewayProcess) => listNodes(via);
  const ownerOf = async (via: GatewayProcess, cameraId: string) =>
    (await list(via)).find((n) => n.alive && n.cameraIds.includes(cameraId))?.name;
  const waitFor = until;
  /** The camera's owner, once its shared tier is up there. */
  const liveOwner = (via: GatewayProcess, cameraId: string, timeoutMs = 30_000) =>
    waitFor(
      `camera ${cameraId} live on its owner`,
      async () => {
        const owner = await ownerOf(via, cameraId);
        if (owner === undefined) throw new Error(`no live node holds ${cameraId}: ${JSON.stringify(await list(via))}`);
        const up = await node(owner).metric('psvgw_camera_up', { camera_id: cameraId });
        if (up !== 1) throw new Error(`psvgw_camera_up is ${up} on ${owner}\n${node(owner).log.tail(15)}`);
        return owner;
      },
      timeoutMs,
    );
  /** The shared tier's FLV header, read from the URL a node handed out (the stream may take a moment to be served). */
  const plays = (url: string) =>
    waitFor(
      `FLV from ${url}`,
      async () => {
        const r = await httpFlvStart(url, 3);
        return r.status === 200 && r.head === 'FLV' ? r : undefined;
      },
      15_000,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-cluster-play-'));
    fleet = await startCameraFleet({ count: 2 });
    await startNode('p1');
    await startNode('p2');
    await waitFor('two live nodes', async () => ((await list(node('p1'))).filter((n) => n.alive).length === 2 ? true : undefined), 15_000);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllCameraFleets();
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it("either node answers with the owner's media URL, and the viewer plays it", async () => {
    for (const [i, url] of fleet.urls.entries()) cameraIds.push((await addCamera(node('p1'), url, `Play ${i + 1}`)).id);
    await waitFor(
      'one camera on each node',
      async () => ((await list(node('p1'))).every((n) => n.cameraIds.length === 1) ? true : undefined),
      20_000,
    );
    for (const id of cameraIds) {
      const owner = await liveOwner(node('p1'), id);
      for (const via of nodes.values()) {
        const res = await via.api<Streams>('GET', `/api/v1/cameras/${id}/streams`);
        expect(res.status).toBe(200);
        const http = new URL(res.body.shared.httpFlv);
        expect(Number(http.port)).toBe(node(owner).ports.flv);
        expect(new URL(res.body.shared.wsFlv).port).toBe(http.port);
        expect((await plays(res.body.shared.httpFlv)).status).toBe(200);
      }
    }
  });

  it('a camera of a dead node no other node may take is unreachable, naming the node; once taken over it plays again', async () => {
    const id = cameraIds.find((c) => c !== undefined) as string;
    const owner = await liveOwner(node('p1'), id);
    const other = owner === 'p1' ? 'p2' : 'p1';
    // The survivor is cordoned: it keeps its own camera but takes none of the dead node's.
    expect((await node(other).api('POST', `/api/v1/nodes/${other}/cordon`)).status).toBeLessThan(300);
    await node(owner).stop('SIGKILL');
    nodes.delete(owner);
    const refused = await waitFor(
      'the dead owner reported',
      async () => {
        const res = await node(other).api<{ error?: { message?: string } }>('GET', `/api/v1/cameras/${id}/streams`);
        return res.status === 503 ? res : undefined;
      },
      15_000,
    );
    expect(JSON.stringify(refused.body)).toMatch(new RegExp(`node ${owner}\\b[^"]*not alive`));

    expect((await node(other).api('POST', `/api/v1/nodes/${other}/uncordon`)).status).toBeLessThan(300);
    expect(await liveOwner(node(other), id)).toBe(other);
    const res = await node(other).api<Streams>('GET', `/api/v1/cameras/${id}/streams`);
    expect(res.status).toBe(200);
    expect(Number(new URL(res.body.shared.httpFlv).port)).toBe(node(other).ports.flv);
    expect((await plays(res.body.shared.httpFlv)).status).toBe(200);
  });
});
