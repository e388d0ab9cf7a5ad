import { rmSync } from 'node:fs';
import { removeOnExit, spawnTracked } from './children.js';
import { Gateway, launchGateway } from './launcher.js';
import { pollUntil } from './stats.js';

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123';

export interface TierUrls {
  httpFlv: string;
  wsFlv: string;
}

export interface CameraStreams {
  raw: TierUrls;
  shared: TierUrls;
}

/** The gateway as a user runs it: `psvgw start --config FILE` on free loopback ports (bench/launcher.ts). */
export class BenchGateway extends Gateway {
  /**
   * `configYaml` is appended to the config (e.g. an `alerts:` section). Recording and image
   * diagnostics are off unless it has their section, so the live-path figures compare with bare
   * ffmpeg doing the same work (their own phases measure what they add). `more.env`: extra environment.
   */
  static async start(configYaml = '', more: { env?: Record<string, string>; readyTimeoutMs?: number } = {}): Promise<BenchGateway> {
    const off = (section: string) => (new RegExp(`^${section}:`, 'm').test(configYaml) ? '' : `${section}:\n  enabled: false\n`);
    const launched = await launchGateway({
      adminToken: ADMIN_TOKEN,
      tmpPrefix: 'psvgw-bench-',
      logLevel: 'info',
      configYaml: `${off('recording')}${off('diagnostics')}${configYaml}`,
      spawn: (command, args, options) => spawnTracked(command, args, options, 'SIGTERM'),
      maxLogLines: 200,
      ...(more.env === undefined ? {} : { env: more.env }),
    });
    removeOnExit(launched.dataDir);
    const gw = new BenchGateway(launched);
    try {
      await gw.waitReady(more.readyTimeoutMs ?? 30_000);
    } catch (err) {
      await gw.stop();
      throw new Error(`the gateway did not become ready: ${(err as Error).message}`);
    }
    return gw;
  }

  logTail(n = 15): string {
    return this.log.tail(n);
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request<T>(method, path, body);
    if (res.status < 200 || res.status >= 300)
      throw new Error(`${method} ${path} → ${res.status}: ${String(JSON.stringify(res.body) ?? '').slice(0, 500)}`);
    return res.body;
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
  metric(name: string, id: string): Promise<number | undefined> {
    return this.metricSample(name, { camera_id: id });
  }

  /** Waits until psvgw_camera_up is `value`; returns the ms it took, or null after `timeoutMs`. */
  waitUp(id: string, value: 0 | 1, timeoutMs: number, everyMs = 50): Promise<number | null> {
    return pollUntil(async () => (await this.cameraUp(id)) === value, timeoutMs, everyMs);
  }

  async stop(): Promise<void> {
    await this.stopProcess('SIGTERM', 20_000);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
