import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

const INSTALL_HINT = 'apt-get install -y postgresql (the tests use its initdb and pg_ctl, e.g. /usr/lib/postgresql/15/bin)';

/**
 * A PostgreSQL server of the test's own, in a temporary directory on a free loopback port
 * (trust authentication, user postgres), so a test may stop and start it without touching
 * the machine's shared server. `stop`/`start` keep the data; `destroy` removes everything.
 */
export interface OwnPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** The directory of initdb and pg_ctl: PSVGW_TEST_PG_BIN, else Debian's newest version, else PATH. */
function binDir(): string {
  const candidates = [process.env.PSVGW_TEST_PG_BIN, ...['17', '16', '15', '14'].map((v) => `/usr/lib/postgresql/${v}/bin`)];
  for (const dir of candidates) {
    if (dir === undefined) continue;
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'pg_ctl'), constants.X_OK);
      return dir;
    } catch {
      // not here
    }
  }
  throw new Error(`initdb and pg_ctl are needed for a PostgreSQL restart test but were not found. Install them with: ${INSTALL_HINT}`);
}

/** Runs a PostgreSQL tool as the postgres user when this process is root (the server refuses to run as root). */
async function pgTool(dir: string, tool: string, args: string[], timeoutMs: number): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(dir, tool), ...args]] : [join(dir, tool), args];
  try {
    await run(cmd, argv, { timeout: timeoutMs });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = binDir();
  const root = mkdtempSync(join(tmpdir(), 'psvgw-ownpg-'));
  const data = join(root, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
      throw new Error(`the postgres user is needed to run a PostgreSQL of the test's own. Install it with: ${INSTALL_HINT}`);
    });
    const uid = Number(stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(root, uid, gid);
  }
  await pgTool(dir, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], 60_000);
  const port = await freePort();
  // fsync off: the test restarts the server cleanly (pg_ctl stop), it never needs crash safety.
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const start = () => pgTool(dir, 'pg_ctl', ['-D', data, '-o', options, '-l', join(root, 'server.log'), '-w', '-t', '30', 'start'], 40_000);
  const stop = () => pgTool(dir, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], 40_000);
  await start();
  let running = true;
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => undefined);
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
