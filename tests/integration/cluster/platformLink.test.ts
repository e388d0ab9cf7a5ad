import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../bench/stats.js';
import { parseRtpPacket } from '../../../src/platform/gb28181/media/rtp.js';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../../helpers/cameraFleet.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { approvedBySecondAdmin } from '../../helpers/changeSteps.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { listNodes, startClusterNode } from '../../helpers/clusterNodes.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { freePorts } from '../../helpers/ports.js';
import { PushReceiver, stopAllPushReceivers } from '../../helpers/pushReceiver.js';
import { cityLinkYaml, PLATFORM_DOMAIN, PLATFORM_ID, SipPlatform } from '../../helpers/sipPlatform.js';

/**
 * Two real nodes on one PostgreSQL database with one configured GB/T 28181 upper platform
 * (a UDP platform in the test process): only the node holding the link's lease registers,
 * the catalog lists every camera of the cluster once, an INVITE for a camera the other node
 * runs plays (the link node reads the owner's shared tier), a drain of the link node hands
 * it to the other (one REGISTER source at a time, no unregister), and after kill -9 of the
 * link node the other registers within lease + heartbeat + register time.
 */

const DEVICE_ID = '34020000001180000001';
const LEASE_S = 6;

describe('cluster mode: one node holds the GB/T 28181 platform link', { timeout: 150_000 }, () => {
  let db: TestDatabase;
  let fleet: CameraFleet;
  let shared: string;
  let platform: SipPlatform;
  let rtp: Socket;
  const nodes = new Map<string, GatewayProcess>();
  /** Node name → its SIP source (host:port) as the platform sees it. */
  const sipOf = new Map<string, string>();
  const cameraIds: string[] = [];

  const node = (name: string) => nodes.get(name) as GatewayProcess;
  const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) => {
    const took = await pollUntil(check, timeoutMs, 100);
    if (took === null) throw new Error(`${what} not reached in ${timeoutMs} ms`);
    return took;
  };
  const holder = () => [...sipOf].find(([, source]) => source === platform.registeredSource())?.[0];
  const linkState = async (name: string) => (await node(name).api<{ state: string }>('GET', '/api/v1/platforms/city')).body.state;

  beforeAll(async () => {
    db = await createTestDatabase();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-cluster-link-'));
    fleet = await startCameraFleet({ count: 3 });
    platform = await SipPlatform.start();
    rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
    const sipPorts = await freePorts(2);
    for (const [i, name] of ['l1', 'l2'].entries()) {
      const sipPort = sipPorts[i] as number;
      const configYaml = [
        'cluster:',
        `  leaseSeconds: ${LEASE_S}`,
        ...cityLinkYaml({ sipPort, platform, deviceId: DEVICE_ID, password: 'link-test-secret', keepaliveSeconds: 5 }),
      ].join('\n');
      nodes.set(name, await startClusterNode({ name, dbUrl: db.url, sharedDir: shared, configYaml }));
      sipOf.set(name, `127.0.0.1:${sipPort}`);
    }
    await until('two live nodes', async () => (await listNodes(node('l1'))).filter((n) => n.alive).length === 2, 15_000);
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllCameraFleets();
    await stopAllPushReceivers();
    platform?.close();
    rtp?.close();
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it('registers from one node only and lists each camera of the cluster once', async () => {
    for (const [i, url] of fleet.urls.slice(0, 2).entries()) cameraIds.push((await addCamera(node('l1'), url, `Link ${i + 1}`)).id);
    await until('one camera on each node', async () => (await listNodes(node('l1'))).every((n) => n.cameraIds.length === 1), 30_000);
    await until('the link registered', () => holder() !== undefined, 20_000);
    const linkNode = holder() as string;
    const other = linkNode === 'l1' ? 'l2' : 'l1';
    // Both nodes have been up and beating for several lease renewals: the other stands by, never registers.
    await until(
      `${linkNode} registered, ${other} standing by`,
      async () => {
        return (await linkState(linkNode)) === 'registered' && (await linkState(other)) === 'standby';
      },
      15_000,
    );
    expect(new Set(platform.registers.map((r) => r.source))).toEqual(new Set([sipOf.get(linkNode)]));

    const channels = await platform.catalog(DEVICE_ID);
    expect([...channels].sort()).toEqual([...cameraIds].sort());
  });

  it("plays a camera the other node runs: the link node reads the owner's shared tier", async () => {
    const linkNode = holder() as string;
    const remote = (await listNodes(node(linkNode))).find((n) => n.name !== linkNode)?.cameraIds[0];
    expect(remote, 'the other node runs a camera').toBeDefined();
    await until(
      `camera ${remote} up on its owner`,
      async () => {
        const owner = linkNode === 'l1' ? 'l2' : 'l1';
        return (await node(owner).metric('psvgw_camera_up', { camera_id: remote as string })) === 1;
      },
      30_000,
    );
    const ssrc = '0100000001';
    let packets = 0;
    rtp.on('message', (buf) => {
      if (parseRtpPacket(buf).ssrc === Number(ssrc)) packets += 1;
    });
    const call = await platform.invite(remote as string, rtp.address().port, ssrc);
    expect(call.status).toBe(200);
    await until('RTP of the remote camera', () => packets > 50, 20_000);
    await call.bye();
  });

  it("pushes a camera to its RTMP target from the camera's owner only", async () => {
    const receiver = await PushReceiver.rtmp('live', 'cluster-push');
    const id = (await addCamera(node('l2'), fleet.urls[2] as string, 'Link push', { pushTargets: [receiver.url] })).id;
    cameraIds.push(id);
    // Every node's push metrics, sampled until the target has had a few seconds of video: only the owner ever pushes.
    const pushing = new Set<string>();
    const sample = async () => {
      for (const [name, gw] of nodes) if ((await gw.metrics()).includes(`psvgw_push_up{camera_id="${id}"`)) pushing.add(name);
    };
    await until('the pushed camera at its target', async () => (await sample(), receiver.frames >= 75), 40_000);
    const owner = (await listNodes(node('l1'))).find((n) => n.cameraIds.includes(id))?.name;
    expect(owner).toBeDefined();
    expect([...pushing]).toEqual([owner]);
  });

  it('a platform added through one node runs on one node, and removing it through any node unregisters it', async () => {
    const county = await SipPlatform.start();
    try {
      const res = await node('l1').api<{ pendingChange: unknown }>('POST', '/api/v1/platforms', {
        kind: 'gb28181',
        name: 'county',
        serverId: PLATFORM_ID,
        serverDomain: PLATFORM_DOMAIN,
        host: '127.0.0.1',
        port: county.port,
        transport: 'udp',
        deviceId: '34020000001180000002',
        password: 'county-secret',
        cameraIds: 'all',
        keepaliveSeconds: 5,
        registerExpiresSeconds: 3600,
      });
      await approvedBySecondAdmin(node('l1'), { status: res.status, body: res.body.pendingChange });
      const state = async (name: string) =>
        (await node(name).api<{ state?: string }>('GET', '/api/v1/platforms/county')).body.state ?? 'absent';
      // Both nodes know it: one runs it, the other stands by (and takes it over, like a config-file platform).
      await until(
        'county registered from one node, known to both',
        async () => [await state('l1'), await state('l2')].sort().join() === 'registered,standby',
        20_000,
      );
      const countyNode = (await state('l1')) === 'registered' ? 'l1' : 'l2';
      expect(new Set(county.registers.map((r) => r.source))).toEqual(new Set([sipOf.get(countyNode)]));
      // Removed through the node that does not run it: the one that does unregisters (Expires 0).
      const other = countyNode === 'l1' ? 'l2' : 'l1';
      expect((await node(other).api('DELETE', '/api/v1/platforms/county')).status).toBe(204);
      await until(
        `an unregister from ${countyNode}`,
        () => county.registers.some((r) => r.expires === 0 && r.source === sipOf.get(countyNode)),
        15_000,
      );
      await until('county gone from both nodes', async () => (await state('l1')) === 'absent' && (await state('l2')) === 'absent', 15_000);
    } finally {
      county.close();
    }
  });

  it('drain of the link node: the other registers, the platform never sees two sources or an unregister', async () => {
    const linkNode = holder() as string;
    const other = linkNode === 'l1' ? 'l2' : 'l1';
    const [seen, heard] = [platform.registers.length, platform.messages.length];
    const drainedAt = Date.now();
    expect((await node(other).api('POST', `/api/v1/nodes/${linkNode}/drain`)).status).toBeLessThan(300);
    await until(
      `a REGISTER from ${other}`,
      () => platform.registers.slice(seen).some((r) => r.source === sipOf.get(other) && r.expires > 0),
      20_000,
    );
    const took = (platform.registers.slice(seen).find((r) => r.source === sipOf.get(other))?.at ?? 0) - drainedAt;
    await until(`${linkNode} standing by`, async () => (await linkState(linkNode)) === 'standby', 10_000);
    const handedAt = platform.registers.slice(seen).find((r) => r.source === sipOf.get(other))?.at as number;
    const lastOld = [...platform.registers.slice(seen), ...platform.messages.slice(heard)]
      .filter((m) => m.source === sipOf.get(linkNode))
      .reduce((at, m) => Math.max(at, m.at), 0);
    console.log(`platform link drain: ${took} ms from the drain to the next node's REGISTER`);
    // The drained node stopped without unregistering (the new REGISTER replaces its registration) and sent nothing
    // once the next one registered.
    expect(platform.registers.slice(seen).filter((r) => r.source === sipOf.get(linkNode))).toEqual([]);
    expect(lastOld).toBeLessThanOrEqual(handedAt);
    expect(platform.registeredSource()).toBe(sipOf.get(other));
    expect(await linkState(other)).toBe('registered');
    // Back in service for the next case.
    expect((await node(other).api('POST', `/api/v1/nodes/${linkNode}/uncordon`)).status).toBeLessThan(300);
  });

  it('kill -9 of the link node: the other node registers within lease + heartbeat + register time', async () => {
    const linkNode = holder() as string;
    const other = linkNode === 'l1' ? 'l2' : 'l1';
    const seen = platform.registers.length;
    const killedAt = Date.now();
    await node(linkNode).stop('SIGKILL');
    nodes.delete(linkNode);
    await until(
      `a REGISTER from ${other}`,
      () => platform.registers.slice(seen).some((r) => r.source === sipOf.get(other) && r.expires > 0),
      30_000,
    );
    const took = (platform.registers.slice(seen).find((r) => r.source === sipOf.get(other))?.at ?? 0) - killedAt;
    console.log(`platform link failover: ${took} ms from kill -9 to the survivor's REGISTER (lease ${LEASE_S} s)`);
    // Lease time (from the dead node's last renewal, up to a heartbeat before the kill), the next beat's claim, one
    // REGISTER: 7 s and a round trip; up to 15 s (the failover target) on a loaded machine.
    expect(took).toBeLessThan(15_000);
    expect(await linkState(other)).toBe('registered');
    const channels = await platform.catalog(DEVICE_ID);
    expect([...channels].sort()).toEqual([...cameraIds].sort());
  });
});
