import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterNodeView } from '../../src/api/contract.js';
import { runCli } from './cli.js';
import { GatewayProcess } from './gateway.js';

/** The master secret every node of a test cluster shares (play tokens work across nodes). */
export const CLUSTER_TEST_SECRET = 'cluster-test-secret-key-0123456789abcdef';

/**
 * Starts one node of a test cluster: the shared PostgreSQL database, the node's name and the
 * shared secret; `configYaml` adds the test's own settings (e.g. a recordings directory in
 * `sharedDir`). Each node makes its own signing key in its data directory and registers it.
 */
export function startClusterNode(opts: {
  name: string;
  dbUrl: string;
  sharedDir: string;
  configYaml: string;
  /** A restart: the data directory (and recordings) of the node's earlier process. */
  dataDir?: string;
}): Promise<GatewayProcess> {
  return GatewayProcess.start({
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    env: clusterNodeEnv(opts),
    configYaml: opts.configYaml,
    readyTimeoutMs: 45_000,
  });
}

/** The environment of a test cluster's node (its CLI commands, e.g. psvgw verify, run with it too). */
export function clusterNodeEnv(opts: { name: string; dbUrl: string }): Record<string, string> {
  return {
    PSVGW_STORE_DRIVER: 'postgres',
    PSVGW_POSTGRES_URL: opts.dbUrl,
    PSVGW_NODE_NAME: opts.name,
    PSVGW_SECRET_KEY: CLUSTER_TEST_SECRET,
  };
}

/** GET /api/v1/nodes through one node. */
export async function listNodes(via: GatewayProcess): Promise<ClusterNodeView[]> {
  return (await via.api<{ items: ClusterNodeView[] }>('GET', '/api/v1/nodes')).body.items;
}

/** Polls `probe` every 200 ms until it gives a value (undefined or a throw: not yet); fails naming `what` and the last throw after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let failure = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      failure = `: ${String(err)}`;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${failure}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface ClusterVerifyReport {
  ok: boolean;
  cameras: number;
  segments: number;
  findings: unknown[];
}

/**
 * `psvgw verify --json` over the recordings the nodes share (`sharedDir/recordings`) and the
 * cluster's database (its registry of the nodes' keys); `dataDir` is one node's data directory.
 */
export async function verifySharedRecordings(opts: {
  dataDir: string;
  dbUrl: string;
  sharedDir: string;
}): Promise<{ status: number | null; report: ClusterVerifyReport }> {
  const config = join(opts.sharedDir, 'verify.yaml');
  writeFileSync(
    config,
    `dataDir: ${join(opts.dataDir, 'data')}\nstore:\n  driver: postgres\n  postgresUrl: ${opts.dbUrl}\nrecording:\n  dir: ${join(opts.sharedDir, 'recordings')}\n  checkpointSeconds: 5\n`,
  );
  const verify = await runCli(['verify', '--config', config, '--json'], { timeoutMs: 60_000 });
  return { status: verify.status, report: JSON.parse(verify.stdout) as ClusterVerifyReport };
}
