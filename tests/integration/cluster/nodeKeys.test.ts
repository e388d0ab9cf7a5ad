import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditVerifyResult } from '../../../src/api/contract.js';
import type { ChainEntry } from '../../../src/domain/index.js';
import { ChainSigner, GENESIS_CHECKPOINT } from '../../../src/recording/index.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { runCli } from '../../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { startCameraFleet, stopAllCameraFleets, type CameraFleet } from '../../helpers/cameraFleet.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { CLUSTER_TEST_SECRET, listNodes, startClusterNode } from '../../helpers/clusterNodes.js';
import { freePorts } from '../../helpers/ports.js';
import { rewriteEntry } from '../../helpers/recordings.js';

/**
 * Two real nodes on one PostgreSQL database, each with the signing key it made in its own
 * data directory: both register their key, both record, every chain entry and checkpoint
 * names the node and key that wrote it, and `psvgw verify` passes run from either node's
 * data directory (the recordings directory is shared storage). A node started with another
 * node's key is refused; an entry re-signed with an unregistered key is reported.
 */
const FINGERPRINT = /SHA256:[A-Za-z0-9+/]{43}/;

describe('cluster mode: per-node signing keys', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let fleet: CameraFleet;
  let shared: string;
  let n1: GatewayProcess;
  let n2: GatewayProcess;
  const recordings = () => join(shared, 'recordings');

  const startNode = (name: string) =>
    startClusterNode({
      name,
      dbUrl: db.url,
      sharedDir: shared,
      configYaml: `recording:\n  segmentSeconds: 2\n  checkpointSeconds: 5\n  dir: ${recordings()}\ncluster:\n  leaseSeconds: 8`,
    });

  /** A config for the CLI that reads `node`'s data directory (its key file) and the shared recordings. */
  const cliConfig = (node: GatewayProcess, name: string) => {
    const file = join(shared, `${name}.yaml`);
    writeFileSync(
      file,
      `dataDir: ${join(node.dataDir, 'data')}\nstore:\n  driver: postgres\n  postgresUrl: ${db.url}\nrecording:\n  dir: ${recordings()}\n  checkpointSeconds: 5\n`,
    );
    return file;
  };

  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-nodekeys-'));
    fleet = await startCameraFleet({ count: 2 });
    n1 = await startNode('k1');
    n2 = await startNode('k2');
  });

  afterAll(async () => {
    await stopAllGateways();
    await stopAllCameraFleets();
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it("both nodes record; entries and checkpoints name each node's registered key; verify passes on either node", async () => {
    const keys = await query<{ fingerprint: string; node: string; retired_at: string | null }>(
      'SELECT fingerprint, node, retired_at FROM signing_keys ORDER BY node',
    );
    expect(keys.map((k) => k.node)).toEqual(['k1', 'k2']);
    expect(keys.every((k) => FINGERPRINT.test(k.fingerprint) && k.retired_at === null)).toBe(true);
    const fp = Object.fromEntries(keys.map((k) => [k.node, k.fingerprint]));
    expect(fp.k1).not.toBe(fp.k2);
    // Each node logs its own fingerprint, the one it registered.
    expect(n1.logs.join('\n')).toContain(`signing key of node k1: register`);
    expect(n1.logs.join('\n')).toContain(`recording signing key ${fp.k1}`);
    expect(n2.logs.join('\n')).toContain(`recording signing key ${fp.k2}`);

    await Promise.all(fleet.urls.map((url, i) => addCamera(i === 0 ? n1 : n2, url, `Keyed ${i + 1}`)));
    // One camera each; both record a few segments and sign checkpoints over them.
    let owners: Record<string, string[]> = {};
    await n1.waitFor(
      'one camera on each node',
      async () => {
        owners = Object.fromEntries((await listNodes(n1)).map((n) => [n.name, n.cameraIds]));
        return owners.k1?.length === 1 && owners.k2?.length === 1;
      },
      40_000,
      250,
    );
    await n1.waitFor(
      'three segments and a checkpoint by each node',
      async () => {
        const rows = await query<{ node: string; n: string }>(
          "SELECT node, COUNT(*) AS n FROM recording_entries WHERE kind = 'segment' GROUP BY node",
        );
        const cps = await query<{ node: string }>('SELECT DISTINCT node FROM recording_checkpoints');
        const seg = Object.fromEntries(rows.map((r) => [r.node, Number(r.n)]));
        return (seg.k1 ?? 0) >= 3 && (seg.k2 ?? 0) >= 3 && cps.length === 2;
      },
      60_000,
      250,
    );

    const entries = await query<{ camera_id: string; node: string | null; key_fingerprint: string | null }>(
      'SELECT camera_id, node, key_fingerprint FROM recording_entries',
    );
    for (const e of entries) {
      const owner = owners.k1?.includes(e.camera_id) ? 'k1' : 'k2';
      expect([e.camera_id, e.node, e.key_fingerprint]).toEqual([e.camera_id, owner, fp[owner]]);
    }
    const checkpoints = await query<{ node: string | null; key_fingerprint: string | null }>(
      'SELECT node, key_fingerprint FROM recording_checkpoints',
    );
    for (const c of checkpoints) expect(c.key_fingerprint).toBe(fp[c.node ?? '']);

    // The audit chain, whose head both nodes sign with their own keys, verifies through either node's API.
    for (const node of [n1, n2]) {
      const audit = await node.api<AuditVerifyResult>('GET', '/api/v1/audit/verify');
      expect(audit.body).toMatchObject({ ok: true, problems: 0 });
    }

    await Promise.all([n1.stop(), n2.stop()]);
    for (const [node, name] of [
      [n1, 'k1'],
      [n2, 'k2'],
    ] as const) {
      const verify = await runCli(['verify', '--config', cliConfig(node, name), '--json'], { timeoutMs: 60_000 });
      const report = JSON.parse(verify.stdout) as { ok: boolean; cameras: number; findings: unknown[]; keys: { trusted: string[] } };
      expect(report.findings).toEqual([]);
      expect(report.cameras).toBe(2);
      expect(report.keys.trusted).toEqual(expect.arrayContaining([fp.k1, fp.k2]));
      expect(verify.status).toBe(0);
      // Pinned to both nodes' keys, it passes too; pinned to one, the other node's checkpoints are untrusted.
      const both = await runCli(['verify', '--config', cliConfig(node, name), '--trust', fp.k1!, '--trust', fp.k2!], { timeoutMs: 60_000 });
      expect(both.status).toBe(0);
    }
    const one = await runCli(['verify', '--config', cliConfig(n1, 'k1'), '--trust', fp.k1!], { timeoutMs: 60_000 });
    expect(one.status).toBe(1);
    expect(one.stdout).toContain(`checkpoint of`);
    expect(one.stdout).toContain(`is signed by ${fp.k2}, which is neither pinned`);

    const listed = await runCli(['keys', 'list', '--config', cliConfig(n1, 'k1')]);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(`${fp.k1}  k1  registered`);
    expect(listed.stdout).toContain(`${fp.k2}  k2  registered`);
  });

  it("a node started with another node's key file is refused, naming both", async () => {
    const [http, rtmp, flv] = (await freePorts(3)) as [number, number, number];
    const dataDir = mkdtempSync(join(shared, 'k3-'));
    const res = await runCli(['start'], {
      env: {
        PSVGW_STORE_DRIVER: 'postgres',
        PSVGW_POSTGRES_URL: db.url,
        PSVGW_NODE_NAME: 'k3',
        PSVGW_SECRET_KEY: CLUSTER_TEST_SECRET,
        PSVGW_SIGNING_KEY_FILE: join(n1.dataDir, 'data', 'keys', 'recording-ed25519.pem'),
        PSVGW_DATA_DIR: dataDir,
        PSVGW_HTTP_PORT: String(http),
        PSVGW_RTMP_PORT: String(rtmp),
        PSVGW_MEDIA_HTTP_PORT: String(flv),
        PSVGW_ADMIN_TOKEN: 'nodekeys-test-admin-token-0123456789',
      },
      timeoutMs: 60_000,
    });
    expect(res.status).not.toBe(0);
    expect(`${res.stdout}\n${res.stderr}`).toMatch(/the signing key SHA256:\S+ is registered to node k1, not to k3/);
    expect((await query('SELECT fingerprint FROM signing_keys')).length).toBe(2);
  });

  it('an entry re-signed with an unregistered key: verify reports the entry, its file and the key', async () => {
    const store: Store = await openStore({ driver: 'postgres', sqlitePath: '', postgresUrl: db.url });
    const forger = ChainSigner.generate();
    let cameraId: string;
    let target: ChainEntry;
    try {
      [cameraId] = (await store.recordings.cameraIds()) as [string];
      const entries = await store.recordings.entries({ cameraId });
      target = entries[1]!;
      // The forger rewrites entry 2 as its own and rehashes the chain after it, then re-signs the
      // checkpoints with its key, naming the node that wrote the entry.
      const forged = rewriteEntry(entries, 2, { keyFingerprint: forger.fingerprint });
      await query('DELETE FROM recording_entries WHERE camera_id = $1', [cameraId]);
      await query('DELETE FROM recording_checkpoints WHERE camera_id = $1', [cameraId]);
      for (const e of forged) await store.recordings.append(e);
      const head = forged.at(-1)!;
      const cp = {
        ...forger.sign({
          cameraId,
          seq: head.seq,
          headHash: head.entryHash,
          signedAt: new Date().toISOString(),
          prevHash: GENESIS_CHECKPOINT,
        }),
        node: target.node ?? null,
      };
      await store.recordings.addCheckpoint(cp);
    } finally {
      await store.close();
    }
    const res = await runCli(['verify', '--config', cliConfig(n2, 'k2')], { timeoutMs: 60_000 });
    expect(res.status).toBe(1);
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(res.stdout).toMatch(
      new RegExp(
        `UNREGISTERED_KEY\\s+${cameraId}\\s+entry 2\\s+${esc(target.path)}: entry 2 \\(segment ${esc(target.path)}\\) names node ${target.node} and key ${esc(forger.fingerprint)}, which is not a registered key`,
      ),
    );
    expect(res.stdout).toMatch(
      new RegExp(
        `UNREGISTERED_KEY\\s+${cameraId}\\s+entry \\d+: checkpoint of .* names node ${target.node} and key ${esc(forger.fingerprint)}`,
      ),
    );
  });
});
