import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Gateway } from '../../../bench/launcher.js';
import { freePorts } from '../../../bench/ports.js';
import { readDockerfileRuntime, type DockerfileRuntime } from '../../helpers/dockerfile.js';
import { CLI_PATH } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

/**
 * The image's own start command and config, run on the host with the built gateway: CI has
 * no Docker daemon, and what decides whether a plain `docker run` is safe is the ENV, the
 * config file and the CMD the Dockerfile gives the gateway. Only the data directory and
 * the ports are moved (to a fresh temporary directory and free loopback ports).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const image: DockerfileRuntime = readDockerfileRuntime(join(ROOT, 'docker/Dockerfile'));
const tmp = mkdtempSync(join(tmpdir(), 'psvgw-image-'));
const TOKEN = randomBytes(24).toString('hex');
const KEY = randomBytes(32).toString('hex');

/** The CMD as a host command: `psvgw` is the built CLI, the config the file the image copies there. */
function hostCommand(): string[] {
  const [program, ...args] = image.cmd;
  expect(program, 'the image CMD runs psvgw').toBe('psvgw');
  return [
    CLI_PATH,
    ...args.map((arg) => {
      const copied = image.copies.find(([, dest]) => dest === arg);
      return copied ? join(ROOT, copied[0]) : arg;
    }),
  ];
}

function configFileOf(): string {
  const i = image.cmd.indexOf('--config');
  const dest = image.cmd[i + 1];
  const copied = image.copies.find(([, d]) => d === dest);
  if (i < 0 || copied === undefined) throw new Error(`the image CMD names no config file the Dockerfile copies in: ${image.cmd.join(' ')}`);
  return join(ROOT, copied[0]);
}

let runs = 0;

/** Starts the image's command with the image's ENV (and nothing of the test's own PSVGW_*), plus `secrets`. */
async function startImageCommand(secrets: Record<string, string>): Promise<Gateway> {
  const [http, rtmp, flv] = (await freePorts(3)) as [number, number, number];
  const dataDir = join(tmp, `data-${++runs}`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...image.env,
    PSVGW_DATA_DIR: dataDir,
    PSVGW_HTTP_PORT: String(http),
    PSVGW_RTMP_PORT: String(rtmp),
    PSVGW_MEDIA_HTTP_PORT: String(flv),
    ...secrets,
  };
  const child = spawn(process.execPath, hostCommand(), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Gateway({ child, dataDir, ports: { http, rtmp, flv }, adminToken: secrets.PSVGW_ADMIN_TOKEN ?? '' });
}

/** Resolves with the exit code once the process has ended by itself (it must, within the deadline). */
async function exitOf(gw: Gateway, timeoutMs: number): Promise<number | null> {
  try {
    await gw.waitFor('the gateway to exit', () => !gw.running, timeoutMs);
  } finally {
    // Stops it when it did not exit in time; otherwise just reads the exit code.
    await gw.stopProcess('SIGTERM', 5_000);
  }
  return gw.child.exitCode;
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the Docker image runs in production mode', () => {
  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
  });

  it('sets production mode in its ENV and in the config file it starts with, and runs as a non-root user', () => {
    expect(image.env.PSVGW_MODE).toBe('production');
    const config = parse(readFileSync(configFileOf(), 'utf8')) as { mode?: string };
    expect(config.mode).toBe('production');
    expect(image.user).toBeDefined();
    expect(image.user?.split(':')[0]).not.toMatch(/^(root|0)$/);
  });

  it('refuses to start without PSVGW_SECRET_KEY and PSVGW_ADMIN_TOKEN, naming each and how to make one', async () => {
    const gw = await startImageCommand({});
    const code = await exitOf(gw, 30_000);
    const output = gw.logs.join('\n');
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/PSVGW_SECRET_KEY[^\n]*openssl rand/);
    expect(output).toMatch(/PSVGW_ADMIN_TOKEN[^\n]*openssl rand/);
    expect(gw.logs.some((l) => /psv-gateway ready/.test(l))).toBe(false);
    // Nothing generated in its place: no master key next to the database.
    expect(existsSync(join(gw.dataDir, 'keys', 'secret.key'))).toBe(false);
  });

  it('refuses to start with only one of them, naming the one missing', async () => {
    const gw = await startImageCommand({ PSVGW_SECRET_KEY: KEY });
    const code = await exitOf(gw, 30_000);
    const output = gw.logs.join('\n');
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/PSVGW_ADMIN_TOKEN[^\n]*openssl rand/);
    expect(output).not.toMatch(/PSVGW_SECRET_KEY[^\n]*openssl rand/);
    expect(output).not.toContain(KEY);
  });

  it('starts with both secrets set, serves the API with that token, and never prints the token or the key', async () => {
    const gw = await startImageCommand({ PSVGW_SECRET_KEY: KEY, PSVGW_ADMIN_TOKEN: TOKEN });
    try {
      await gw.waitReady(60_000);
      expect((await gw.request('GET', '/api/v1/cameras')).status).toBe(200);
      expect((await gw.request('GET', '/api/v1/cameras', undefined, null)).status).toBe(401);
    } finally {
      expect(await gw.stopProcess('SIGTERM', 20_000)).toBe(0);
    }
    const output = gw.logs.join('\n');
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(KEY);
    expect(existsSync(join(gw.dataDir, 'keys', 'secret.key'))).toBe(false);
  });
});
