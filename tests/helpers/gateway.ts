import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Gateway, launchGateway } from '../../bench/launcher.js';

export { CLI_PATH, parseLogLine, type ApiResponse, type LogEntry, type LogMatch } from '../../bench/launcher.js';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface GatewayOptions {
  /** Extra YAML appended to the generated config (e.g. `ingest:\n  stallSeconds: 2`). */
  configYaml?: string;
  /** More keys of the `media` section, one per line without indentation (e.g. `internalTokenSeconds: 10`). */
  mediaYaml?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Start on the data directory of an earlier gateway (a restart); a fresh one when unset. */
  dataDir?: string;
}

/**
 * A real gateway process (`psvgw start`) on free loopback ports with its own data
 * directory, as a user would run it (bench/launcher.ts, shared with the benchmark).
 * Tests talk to it over HTTP only; `logs` holds every line it wrote, whole.
 */
export class GatewayProcess extends Gateway {
  static async start(opts: GatewayOptions = {}): Promise<GatewayProcess> {
    const gw = new GatewayProcess(
      await launchGateway({
        adminToken: ADMIN_TOKEN,
        tmpPrefix: 'psvgw-test-',
        logLevel: 'debug',
        ...(opts.configYaml === undefined ? {} : { configYaml: opts.configYaml }),
        ...(opts.mediaYaml === undefined ? {} : { mediaYaml: opts.mediaYaml }),
        ...(opts.env === undefined ? {} : { env: opts.env }),
        ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
      }),
    );
    running.add(gw);
    await gw.waitReady(opts.readyTimeoutMs ?? 20_000);
    return gw;
  }

  api<T = unknown>(method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) {
    return this.request<T>(method, path, body, token);
  }

  metrics(): Promise<string> {
    return this.metricsText();
  }

  /** Value of a sample such as `psvgw_camera_up{camera_id="…"}`, or undefined when absent. */
  metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    return this.metricSample(name, labels);
  }

  /** Waits for a log line (one already written counts); returns the ms waited. */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<number> {
    return (await this.waitForLine(pattern, timeoutMs)).elapsedMs;
  }

  /** Sends a signal and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    const code = await this.stopProcess(signal, timeoutMs);
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
