import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';

/** The built CLI; `npm test` builds it first. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface GatewayOptions {
  /** Extra YAML appended to the generated config (e.g. `ingest:\n  stallSeconds: 2`). */
  configYaml?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Start on the data directory of an earlier gateway (a restart); a fresh one when unset. */
  dataDir?: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

/**
 * A real gateway process (`psvgw start`) on free loopback ports with its own data
 * directory, as a user would run it. Tests talk to it over HTTP only.
 */
export class GatewayProcess {
  readonly logs: string[] = [];
  private exitCode: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly ports: { http: number; rtmp: number; flv: number },
  ) {
    this.exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const collect = (chunk: Buffer) => this.logs.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  static async start(opts: GatewayOptions = {}): Promise<GatewayProcess> {
    if (!existsSync(CLI_PATH))
      throw new Error(`${CLI_PATH} is missing: run \`npm run build\` (npm test does it) before the integration tests.`);
    const [http, rtmp, flv] = (await freePorts(3)) as [number, number, number];
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'psvgw-test-'));
    const configFile = join(dataDir, 'gateway.yaml');
    writeFileSync(configFile, `media:\n  host: 127.0.0.1\nhttp:\n  host: 127.0.0.1\n${opts.configYaml ?? ''}\n`);
    const child = spawn(process.execPath, [CLI_PATH, 'start', '--config', configFile], {
      env: {
        ...process.env,
        PSVGW_HTTP_PORT: String(http),
        PSVGW_RTMP_PORT: String(rtmp),
        PSVGW_MEDIA_HTTP_PORT: String(flv),
        PSVGW_DATA_DIR: join(dataDir, 'data'),
        PSVGW_ADMIN_TOKEN: ADMIN_TOKEN,
        PSVGW_LOG_LEVEL: 'debug',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gw = new GatewayProcess(child, dataDir, { http, rtmp, flv });
    running.add(gw);
    await gw.waitForLog(/psv-gateway ready/, opts.readyTimeoutMs ?? 20_000);
    return gw;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  async api<T = unknown>(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async metrics(): Promise<string> {
    const res = await fetch(`${this.apiUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.text();
  }

  /** Value of a sample such as `psvgw_camera_up{camera_id="…"}`, or undefined when absent. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const text = await this.metrics();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return undefined;
  }

  /** Polls `check` every 100 ms until it returns true; returns the elapsed ms, throws on timeout. */
  async waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (await check()) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}\n--- gateway log tail ---\n${this.logs.slice(-30).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  waitForLog(pattern: RegExp, timeoutMs: number): Promise<number> {
    return this.waitFor(
      `log line ${String(pattern)}`,
      () => {
        if (this.child.exitCode !== null)
          throw new Error(`gateway exited with ${this.child.exitCode}:\n${this.logs.slice(-30).join('\n')}`);
        return this.logs.some((l) => pattern.exec(l) !== null);
      },
      timeoutMs,
    );
  }

  /** Sends a signal and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exitCode;
    clearTimeout(timer);
    running.delete(this);
    return code;
  }

  cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const running = new Set<GatewayProcess>();

export async function stopAllGateways(): Promise<void> {
  await Promise.all(
    [...running].map(async (gw) => {
      await gw.stop();
      gw.cleanup();
    }),
  );
}

/** PIDs of ffmpeg/ffprobe processes whose command line mentions `needle` (e.g. a port). */
export function mediaProcessesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.exec(entry) === null) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => /(^|\/)ff(mpeg|probe)$/.exec(a) !== null) && cmd.some((a) => a.includes(needle))) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}
