import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunning, LineTail, readLines, removeOnExit, spawnTracked, stopChild } from './children.js';
import { freePorts } from './ports.js';
import { pollUntil } from './stats.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123';

export interface TierUrls {
  httpFlv: string;
  wsFlv: string;
}

export interface CameraStreams {
  raw: TierUrls;
  shared: TierUrls;
}

/** The gateway as a user runs it: `psvgw start --config FILE` on free loopback ports. */
export class BenchGateway {
  private readonly logs = new LineTail(60);

  private constructor(
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    readonly apiUrl: string,
  ) {
    readLines(child.stdout, this.logs.push);
    readLines(child.stderr, this.logs.push);
  }

  /**
   * `configYaml` is appended to the config (e.g. an `alerts:` section). Recording and image
   * diagnostics are off unless it has their section, so the live-path figures compare with bare
   * ffmpeg doing the same work (their own phases measure what they add).
   */
  static async start(configYaml = ''): Promise<BenchGateway> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does it).`);
    const [http, rtmp, flv] = (await freePorts(3)) as [number, number, number];
    const dataDir = mkdtempSync(join(tmpdir(), 'psvgw-bench-'));
    removeOnExit(dataDir);
    const configFile = join(dataDir, 'gateway.yaml');
    const off = (section: string) => (new RegExp(`^${section}:`, 'm').test(configYaml) ? '' : `${section}:\n  enabled: false\n`);
    writeFileSync(configFile, `media:\n  host: 127.0.0.1\nhttp:\n  host: 127.0.0.1\n${off('recording')}${off('diagnostics')}${configYaml}`);
    const child = spawnTracked(
      process.execPath,
      [CLI, 'start', '--config', configFile],
      {
        env: {
          ...process.env,
          PSVGW_HTTP_PORT: String(http),
          PSVGW_RTMP_PORT: String(rtmp),
          PSVGW_MEDIA_HTTP_PORT: String(flv),
          PSVGW_DATA_DIR: join(dataDir, 'data'),
          PSVGW_ADMIN_TOKEN: ADMIN_TOKEN,
          PSVGW_LOG_LEVEL: 'info',
        },
      },
      'SIGTERM',
    );
    const gw = new BenchGateway(child, dataDir, `http://127.0.0.1:${http}`);
    const ready = await pollUntil(() => {
      if (!isRunning(child)) throw new Error('exited');
      return gw.logs.lines.some((l) => l.includes('psv-gateway ready'));
    }, 30_000);
    if (ready === null || !isRunning(child)) {
      await gw.stop();
      throw new Error(`the gateway did not become ready:\n${gw.logs.text()}`);
    }
    return gw;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  logTail(n = 15): string {
    return this.logs.text(n);
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Registers a camera (the gateway probes it) and returns its ID. */
  async addCamera(name: string, rtspUrl: string, extra: Record<string, unknown> = {}): Promise<string> {
    const created = await this.api<{ id: string }>('POST', '/api/v1/cameras', { name, rtspUrl, siteType: 'road', ...extra });
    return created.id;
  }

  async removeCamera(id: string): Promise<void> {
    await this.api('DELETE', `/api/v1/cameras/${id}`);
  }

  streams(id: string): Promise<CameraStreams> {
    return this.api<CameraStreams>('GET', `/api/v1/cameras/${id}/streams`);
  }

  /** psvgw_camera_up for the camera: 1, 0, or undefined while it has no pipeline. */
  cameraUp(id: string): Promise<number | undefined> {
    return this.metric('psvgw_camera_up', id);
  }

  /** A per-camera gauge from /metrics (e.g. psvgw_masking_up), or undefined while it has none. */
  async metric(name: string, id: string): Promise<number | undefined> {
    const res = await fetch(`${this.apiUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`camera_id="${id}"`));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  /** Waits until psvgw_camera_up is `value`; returns the ms it took, or null after `timeoutMs`. */
  waitUp(id: string, value: 0 | 1, timeoutMs: number, everyMs = 50): Promise<number | null> {
    return pollUntil(async () => (await this.cameraUp(id)) === value, timeoutMs, everyMs);
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 20_000);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
