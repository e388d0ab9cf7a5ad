import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../../helpers/cameraFleet.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { listNodes, startClusterNode, until, verifySharedRecordings } from '../../helpers/clusterNodes.js';

/**
 * A node paused (SIGSTOP) past its lease: the other node takes its cameras; when it
 * resumes, its index writes are refused by the fencing check in their own transaction,
 * it stops its ffmpegs and lets go. The nodes share one recordings directory (shared
 * storage), so `psvgw verify` afterwards checks every camera's chain and every file.
 */
const CAMERAS = 4;
const LEASE_SECONDS = 6;

/** ffmpeg children of a process, each with its command line and start time (a PID may be reused). */
function ffmpegChildren(parent: number): { key: string; args: string }[] {
  const out: { key: string; args: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      // fields[1] is the parent PID, fields[19] the start time in clock ticks since boot.
      if (Number(fields[1]) === parent && args.includes('ffmpeg')) out.push({ key: `${entry}@${fields[19]}`, args });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

describe('cluster mode: a paused node is fenced off', { timeout: 90_000 }, () => {
  let db: TestDatabase;
  let fleet: CameraFleet;
  let shared: string;
  let n1: GatewayProcess;
  let n2: GatewayProcess;

  const startNode = (name: string) =>
    startClusterNode({
      name,
      dbUrl: db.url,
      sharedDir: shared,
      configYaml: `recording:\n  segmentSeconds: 2\n  checkpointSeconds: 5\n  dir: ${join(shared, 'recordings')}\ncluster:\n  leaseSeconds: ${LEASE_SECONDS}`,
    });
  const list = () => listNodes(n1);
  const owned = async (name: string) => (await list()).find((n) => n.name === name)?.cameraIds ?? [];

  beforeAll(async () => {
    db = await createTestDatabase();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-cluster-'));
    fleet = await startCameraFleet({ count: CAMERAS });
    n1 = await startNode('n1');
    n2 = await startNode('n2');
  });

  afterAll(async () => {
    // Never leave a stopped process behind (it may have exited already).
    if (n2 !== undefined) {
      try {
        process.kill(n2.pid, 'SIGCONT');
      } catch {
        /* exited */
      }
    }
    await stopAllGateways();
    await stopAllCameraFleets();
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it('SIGSTOP past the lease: writes refused by the fence, the node stops and lets go; every chain verifies', async () => {
    await Promise.all(fleet.urls.map((url, i) => addCamera(i % 2 === 0 ? n1 : n2, url, `Fleet ${i + 1}`)));
    await until('2/2', async () => ((await owned('n1')).length === 2 && (await owned('n2')).length === 2 ? true : undefined), 30_000);
    const paused = await owned('n2');
    for (const id of paused)
      await until(`${id} up on n2`, async () => ((await n2.metric('psvgw_camera_up', { camera_id: id })) === 1 ? true : undefined), 30_000);
    // A few segments recorded by n2 under its lease.
    await until('segments on n2', () => (n2.logs.filter((l) => l.includes('segment recorded')).length >= 2 ? true : undefined), 20_000);

    process.kill(n2.pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    await until('n1 holds every camera', async () => ((await owned('n1')).length === CAMERAS ? true : undefined), 20_000);
    for (const id of paused)
      await until(`${id} up on n1`, async () => ((await n1.metric('psvgw_camera_up', { camera_id: id })) === 1 ? true : undefined), 20_000);
    console.log(`[cluster] SIGSTOP: n2's cameras live on n1 after ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`);
    // n2's ffmpegs were not paused: their segments wait for it to wake up.
    await new Promise((r) => setTimeout(r, 2500));
    // The processes n2 ran for those cameras under the lost leases. Once it is back, the balance may
    // hand the same cameras to it again under a new epoch: those are new processes, not these.
    const stale = new Set(
      ffmpegChildren(n2.pid)
        .filter((p) => paused.some((id) => p.args.includes(`/${id}`)))
        .map((p) => p.key),
    );
    expect(stale.size).toBeGreaterThan(0);
    const before = n2.logs.length;
    process.kill(n2.pid, 'SIGCONT');
    const resumedAt = Date.now();

    await n2.waitForLog(/lease fence refused the index write|write was refused by the lease fence/, 20_000);
    await n2.waitForLog(/leases not renewed in time|camera lease lost/, 5_000);
    // It stops its processes for those cameras at once.
    await until(
      'n2 ffmpegs of the paused cameras gone',
      () => (ffmpegChildren(n2.pid).some((p) => stale.has(p.key)) ? undefined : true),
      10_000,
    );
    const claimedAgain = n2.logs.slice(before).filter((l) => l.includes('camera lease claimed')).length;
    console.log(
      `[cluster] n2's ${stale.size} stale ffmpegs gone ${Date.now() - resumedAt} ms after SIGCONT; leases it claimed since: ${claimedAgain}`,
    );
    const after = n2.logs.slice(before).join('\n');
    expect(after).not.toMatch(/indexing failed/);

    // Let both record a little more, then stop them and check every camera's chain and files.
    await new Promise((r) => setTimeout(r, 3000));
    await Promise.all([n1.stop(), n2.stop()]);
    const { status, report } = await verifySharedRecordings({ dataDir: n1.dataDir, dbUrl: db.url, sharedDir: shared });
    console.log(
      `[cluster] verify after the fenced pause: ${report.cameras} cameras, ${report.segments} segments, findings ${JSON.stringify(report.findings)}`,
    );
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.cameras).toBe(CAMERAS);
    expect(status).toBe(0);
  });
});
