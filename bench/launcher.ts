/**
 * Starts the gateway as a user runs it (`psvgw start --config FILE`) on free loopback ports
 * with its own data directory, and reads its log line by line. Shared by the benchmark
 * (`bench/gateway.ts`) and the integration tests (`tests/helpers/gateway.ts`); it imports
 * nothing from `src/` and talks to the gateway over HTTP only.
 *
 * It lives under bench/ because the benchmark is compiled into dist/bench and tests/ is not
 * part of the build; vitest imports it from source.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from './ports.js';

/**
 * The built CLI. Compiled, this module is dist/bench/launcher.js and the CLI dist/src/cli/main.js;
 * run from source (vitest), it is bench/launcher.ts and the CLI is under dist/ at the repository root.
 */
export const CLI_PATH = ((): string => {
  const above = fileURLToPath(new URL('..', import.meta.url));
  return basename(above) === 'dist' ? join(above, 'src', 'cli', 'main.js') : join(above, 'dist', 'src', 'cli', 'main.js');
})();

/** One parsed line of the gateway's JSON (pino) log. */
export type LogEntry = Record<string, unknown>;

/** One parsed line of the gateway's JSON log, or null for a line that is not a JSON object. */
export function parseLogLine(line: string): LogEntry | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogEntry) : null;
  } catch {
    return null;
  }
}

/**
 * Cuts a stream's text into lines: a chunk may end inside a line (kept until its newline
 * arrives) or hold several. Empty lines are dropped, a trailing `\r` is removed.
 */
export class LineBuffer {
  private partial = '';

  /** `maxPartial`: a line longer than this is handed out in pieces rather than buffered forever. */
  constructor(private readonly maxPartial = 1024 * 1024) {}

  /** The lines that `chunk` completes. */
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > this.maxPartial) {
      parts.push(this.partial);
      this.partial = '';
    }
    return clean(parts);
  }

  /** The last line when the stream ended without a newline. */
  flush(): string[] {
    const rest = this.partial;
    this.partial = '';
    return clean([rest]);
  }
}

function clean(lines: string[]): string[] {
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.length > 0);
}

/** A log line to wait for: a pattern tested on the raw line, or a test of the line and its parsed JSON. */
export type LineMatcher = RegExp | ((line: string, entry: LogEntry | null) => boolean);

export interface LogMatch {
  line: string;
  /** The parsed JSON line, null when it is not JSON. */
  entry: LogEntry | null;
  /** Position among every line the log has had (see GatewayLog.count). */
  index: number;
  /** Milliseconds waitFor waited; 0 when the line was already there. */
  elapsedMs: number;
}

function describeMatcher(match: LineMatcher): string {
  return match instanceof RegExp ? String(match) : 'a matching line';
}

function testOf(match: LineMatcher): (line: string, entry: LogEntry | null) => boolean {
  if (typeof match === 'function') return match;
  return (line) => {
    match.lastIndex = 0;
    return match.test(line);
  };
}

/**
 * A process's output (stdout and stderr), as complete lines, in arrival order. Lines are
 * counted from 0 for as long as the log lives; with `maxLines` only the newest are kept.
 */
export class GatewayLog {
  private readonly kept: string[] = [];
  private dropped = 0;
  private readonly listeners = new Set<(line: string, index: number) => void>();
  private readonly enders = new Set<(reason: string) => void>();
  private endReason: string | null = null;

  constructor(private readonly maxLines = Number.POSITIVE_INFINITY) {}

  /** The kept lines, oldest first (every line unless `maxLines` is set). */
  get lines(): string[] {
    return this.kept;
  }

  /** How many lines the log has had, kept or not: the index the next line gets. */
  get count(): number {
    return this.dropped + this.kept.length;
  }

  /** Reads `stream` as UTF-8 text (a character split across chunks stays whole) into lines. */
  attach(stream: NodeJS.ReadableStream | null | undefined): void {
    if (!stream) return;
    const buffer = new LineBuffer();
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      for (const line of buffer.push(text)) this.push(line);
    });
    stream.on('end', () => {
      for (const line of buffer.flush()) this.push(line);
    });
  }

  push(line: string): void {
    const index = this.count;
    this.kept.push(line);
    if (this.kept.length > this.maxLines) {
      this.kept.shift();
      this.dropped++;
    }
    for (const listener of [...this.listeners]) listener(line, index);
  }

  /** No more lines will come (the process is gone): pending waits fail at once. */
  end(reason: string): void {
    if (this.endReason !== null) return;
    this.endReason = reason;
    const enders = [...this.enders];
    this.enders.clear();
    for (const ender of enders) ender(reason);
  }

  /** Calls `fn` once the log has ended. */
  onEnd(fn: (reason: string) => void): void {
    if (this.endReason !== null) fn(this.endReason);
    else this.enders.add(fn);
  }

  get ended(): boolean {
    return this.endReason !== null;
  }

  /** Parsed JSON lines from line `from` on (non-JSON lines left out). */
  entries(from = 0): LogEntry[] {
    return this.kept.slice(Math.max(0, from - this.dropped)).flatMap((l): LogEntry[] => {
      const entry = parseLogLine(l);
      return entry ? [entry] : [];
    });
  }

  /** The first kept line from `from` on that matches, or undefined. */
  find(match: LineMatcher, from = 0): LogMatch | undefined {
    const test = testOf(match);
    for (let i = Math.max(0, from - this.dropped); i < this.kept.length; i++) {
      const line = this.kept[i] as string;
      const entry = parseLogLine(line);
      if (test(line, entry)) return { line, entry, index: i + this.dropped, elapsedMs: 0 };
    }
    return undefined;
  }

  /**
   * The first line from `from` on that matches: one already seen, else the next that arrives
   * before `timeoutMs`. Rejects on the deadline, or when the log ends without one.
   */
  waitFor(match: LineMatcher, timeoutMs: number, from = 0): Promise<LogMatch> {
    const seen = this.find(match, from);
    if (seen) return Promise.resolve(seen);
    const what = describeMatcher(match);
    if (this.endReason !== null) return Promise.reject(new Error(`${this.endReason} without a log line ${what}\n${this.tailBlock()}`));
    const test = testOf(match);
    const started = performance.now();
    return new Promise<LogMatch>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(onLine);
        this.enders.delete(onEnd);
      };
      const onLine = (line: string, index: number) => {
        if (index < from) return;
        const entry = parseLogLine(line);
        if (!test(line, entry)) return;
        done();
        resolve({ line, entry, index, elapsedMs: performance.now() - started });
      };
      const onEnd = (reason: string) => {
        done();
        reject(new Error(`${reason} without a log line ${what}\n${this.tailBlock()}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for log line ${what}\n${this.tailBlock()}`));
      }, timeoutMs);
      this.listeners.add(onLine);
      this.enders.add(onEnd);
    });
  }

  /** The last `n` lines, for error messages. */
  tail(n = 30): string {
    return this.kept.slice(-n).join('\n');
  }

  private tailBlock(): string {
    return `--- gateway log tail ---\n${this.tail()}`;
  }
}

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface LaunchOptions {
  /** The admin bearer token the gateway is given (PSVGW_ADMIN_TOKEN). */
  adminToken: string;
  /** YAML appended to the generated config (after `media.host` and `http.host`). */
  configYaml?: string;
  /** More keys of the `media` section (e.g. `internalTokenSeconds: 10`), one per line, without indentation. */
  mediaYaml?: string;
  /** Extra environment, over the ports, data directory, token and log level. */
  env?: Record<string, string>;
  /** Start on an existing directory (e.g. a restart on an earlier gateway's data); a fresh temporary one when unset. */
  dataDir?: string;
  /** Prefix of the fresh temporary directory. */
  tmpPrefix?: string;
  logLevel?: string;
  /** How the process is spawned (the benchmark tracks its children); node's spawn by default. */
  spawn?: SpawnFn;
  /** Keep only the newest lines of the log (a long benchmark); every line by default. */
  maxLogLines?: number;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export interface GatewayPorts {
  http: number;
  rtmp: number;
  flv: number;
}

/** A started gateway process, before it is ready. */
export interface Launched {
  child: ChildProcess;
  dataDir: string;
  ports: GatewayPorts;
  adminToken: string;
  maxLogLines?: number | undefined;
}

/** Writes the config and spawns the gateway on free ports; does not wait for it to be ready. */
export async function launchGateway(opts: LaunchOptions): Promise<Launched> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test and npm run bench do it).`);
  const [http, rtmp, flv] = (await freePorts(3)) as [number, number, number];
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), opts.tmpPrefix ?? 'psvgw-'));
  const configFile = join(dataDir, 'gateway.yaml');
  const mediaKeys = (opts.mediaYaml ?? '').split('\n').filter((l) => l.trim() !== '');
  const media = ['  host: 127.0.0.1', ...mediaKeys.map((l) => `  ${l}`)].join('\n');
  writeFileSync(configFile, `media:\n${media}\nhttp:\n  host: 127.0.0.1\n${opts.configYaml ?? ''}\n`);
  const child = (opts.spawn ?? spawn)(process.execPath, [CLI_PATH, 'start', '--config', configFile], {
    env: {
      ...process.env,
      PSVGW_HTTP_PORT: String(http),
      PSVGW_RTMP_PORT: String(rtmp),
      PSVGW_MEDIA_HTTP_PORT: String(flv),
      PSVGW_DATA_DIR: join(dataDir, 'data'),
      PSVGW_ADMIN_TOKEN: opts.adminToken,
      PSVGW_LOG_LEVEL: opts.logLevel ?? 'info',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, dataDir, ports: { http, rtmp, flv }, adminToken: opts.adminToken, maxLogLines: opts.maxLogLines };
}

/** Grace after the process exits for its output to drain before waits on the log give up. */
const DRAIN_MS = 500;

/** A running gateway: its log, its HTTP API and metrics, and stopping it. */
export class Gateway {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly ports: GatewayPorts;
  readonly log: GatewayLog;
  protected readonly adminToken: string;
  private readonly exitCode: Promise<number | null>;
  /** Settles once the output is read to its end (or DRAIN_MS after the exit): every line is in `logs`. */
  private readonly drained: Promise<void>;

  constructor(launched: Launched) {
    this.child = launched.child;
    this.dataDir = launched.dataDir;
    this.ports = launched.ports;
    this.adminToken = launched.adminToken;
    this.log = new GatewayLog(launched.maxLogLines);
    this.log.attach(this.child.stdout);
    this.log.attach(this.child.stderr);
    const child = this.child;
    this.exitCode = new Promise((resolve) => {
      child.once('exit', (code) => {
        resolve(code);
        setTimeout(() => this.log.end(`the gateway exited (${code ?? child.signalCode})`), DRAIN_MS).unref();
      });
      child.once('error', (err) => {
        resolve(null);
        this.log.end(`the gateway could not start: ${err.message}`);
      });
    });
    // 'close' comes once stdout and stderr are drained: every line is in.
    child.once('close', (code, signal) => this.log.end(`the gateway exited (${code ?? signal})`));
    this.drained = new Promise((resolve) => {
      if (this.log.ended) resolve();
      else this.log.onEnd(() => resolve());
    });
  }

  /** Every line the gateway wrote (or the newest, with maxLogLines), stdout and stderr. */
  get logs(): string[] {
    return this.log.lines;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for the startup line; rejects when the gateway exits first or after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<number> {
    return (await this.log.waitFor(/psv-gateway ready/, timeoutMs)).elapsedMs;
  }

  /** A log line from line `from` on (one already written counts); rejects after `timeoutMs` or when the gateway exits. */
  waitForLine(match: LineMatcher, timeoutMs: number, from = 0): Promise<LogMatch> {
    return this.log.waitFor(match, timeoutMs, from);
  }

  /** An API call with the admin token (or `token`; null: none); the body parsed as JSON. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = this.adminToken,
  ): Promise<ApiResponse<T>> {
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
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new Error(`${method} ${path} → ${res.status}, not JSON: ${text.slice(0, 500)}`);
    }
    return { status: res.status, body: parsed as T };
  }

  async metricsText(timeoutMs = 10_000): Promise<string> {
    const res = await fetch(`${this.apiUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.text();
  }

  /** Value of a sample such as `psvgw_camera_up{camera_id="…"}`, or undefined when absent. */
  async metricSample(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const text = await this.metricsText();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return undefined;
  }

  /** Polls `check` every `everyMs` until it returns true; returns the elapsed ms, throws with the log tail on timeout. */
  async waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (await check()) return Date.now() - started;
      if (Date.now() - started > timeoutMs)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- gateway log tail ---\n${this.log.tail()}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Sends `signal` (SIGKILL after `timeoutMs`) and resolves with the exit code. */
  async stopProcess(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exitCode;
    clearTimeout(timer);
    await this.drained;
    return code;
  }
}
