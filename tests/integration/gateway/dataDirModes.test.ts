import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gateway, launchGateway, type SpawnFn } from '../../../bench/launcher.js';
import { ADMIN_TOKEN } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

/**
 * A bare install under a permissive umask (0002, as on many desktops and CI runners): what
 * the gateway creates in its data directory must still be readable by its user alone.
 */
const PERMISSIVE_UMASK = '0002';

/** Spawns under `umask`, less the variables named in `drop`. */
function spawnUnder(umask: string, drop: string[] = []): SpawnFn {
  return (command, args, options) => {
    const env = { ...options.env };
    for (const name of drop) delete env[name];
    return spawn('/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, command, ...args], { ...options, env });
  };
}

const started: Gateway[] = [];

async function startGateway(opts: { drop?: string[]; dataDir?: string } = {}): Promise<Gateway> {
  const gw = new Gateway(
    await launchGateway({
      adminToken: ADMIN_TOKEN,
      tmpPrefix: 'psvgw-modes-',
      spawn: spawnUnder(PERMISSIVE_UMASK, opts.drop),
      ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    }),
  );
  started.push(gw);
  await gw.waitReady(60_000);
  return gw;
}

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
}

/** Every path under `dir` (itself included) with its mode, e.g. `keys/secret.key 0600`. */
function modesUnder(dir: string, prefix = ''): string[] {
  const own = [`${prefix || '.'} ${mode(dir)}`];
  return own.concat(
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      return e.isDirectory() ? modesUnder(path, rel) : e.isFile() ? [`${rel} ${mode(path)}`] : [];
    }),
  );
}

beforeAll(() => requireTool('ffmpeg', FFMPEG_INSTALL_HINT));

afterEach(async () => {
  for (const gw of started.splice(0)) {
    await gw.stopProcess('SIGTERM', 20_000);
    rmSync(gw.dataDir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  for (const gw of started.splice(0)) await gw.stopProcess('SIGKILL', 5_000);
});

describe('the data directory of a bare install', () => {
  it('is created 0700 with its recordings and keys directories, its key and database files 0600, under umask 0002', async () => {
    const gw = await startGateway();
    const data = join(gw.dataDir, 'data');
    expect(mode(data)).toBe('0700');
    expect(mode(join(data, 'recordings'))).toBe('0700');
    expect(mode(join(data, 'keys'))).toBe('0700');
    expect(mode(join(data, 'keys', 'secret.key'))).toBe('0600');
    expect(mode(join(data, 'keys', 'recording-ed25519.pem'))).toBe('0600');
    expect(mode(join(data, 'psvgw.db'))).toBe('0600');
    // Nothing else the gateway wrote there (WAL, media-server state, …) is open to others either.
    const open = modesUnder(data).filter((line) => !/ 0[67]00$/.test(line));
    expect(open).toEqual([]);
    expect(gw.logs.some((l) => /readable by other users/.test(l))).toBe(false);
  });

  it('warns about an existing data directory that others can read, and leaves its mode to the operator', async () => {
    const root = mkdtempSync(join(tmpdir(), 'psvgw-modes-'));
    const data = join(root, 'data');
    mkdirSync(data);
    chmodSync(data, 0o755);
    const gw = await startGateway({ dataDir: root });
    const warning = await gw.waitForLine((_line, entry) => entry?.msg === 'data directory is readable by other users', 10_000);
    expect(warning.entry).toMatchObject({ level: 40, dir: data, mode: '0755' });
    expect(String(warning.entry?.hint)).toContain('chmod 700');
    expect(mode(data)).toBe('0755');
  });

  it('development mode: a generated admin token goes to a 0600 file the log names, never into the output', async () => {
    const gw = await startGateway({ drop: ['PSVGW_ADMIN_TOKEN'] });
    const file = join(gw.dataDir, 'data', 'keys', 'admin.token');
    // The token is handed over just after the gateway is ready: wait for the line naming the file.
    const named = await gw.waitForLine((line) => line.includes(file), 10_000);
    expect(named.entry).toMatchObject({ level: 40, file });
    expect(existsSync(file)).toBe(true);
    expect(mode(file)).toBe('0600');
    const token = readFileSync(file, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(24);
    expect((await gw.request('GET', '/api/v1/cameras', undefined, token)).status).toBe(200);
    await gw.stopProcess('SIGTERM', 20_000);
    expect(gw.logs.join('\n')).not.toContain(token);
  });
});
