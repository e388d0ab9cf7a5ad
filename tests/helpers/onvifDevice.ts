import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ONVIF_SIM_PATH = fileURLToPath(new URL('../fixtures/onvif_device.mjs', import.meta.url));

export interface SimProfile {
  token: string;
  name?: string;
  /** H264 (default), JPEG or MPEG4 (the Media 1.0 encodings). */
  encoding?: string;
  width: number;
  height: number;
  fps?: number;
  streamUri: string;
}

/** The simulator's settings; see tests/fixtures/onvif_device.mjs. */
export interface SimConfig {
  discovery?: 'unicast' | 'multicast' | 'none';
  soap?: 'ok' | 'closed' | 'hang';
  auth?: 'wsse' | 'digest';
  username?: string;
  password?: string;
  endpointRef?: string;
  manufacturer?: string;
  model?: string;
  serial?: string;
  clockOffsetSeconds?: number;
  profiles?: SimProfile[];
  /** A PTZ service: continuous pan/tilt/zoom, or zoom only. */
  ptz?: 'none' | 'dome' | 'zoom';
  /** JSON-lines file each PTZ call is appended to (see ptzCalls). */
  ptzLog?: string;
  /** Presets the device starts with. */
  presets?: Array<{ token: string; name: string }>;
}

/** One PTZ call as the simulator logged it. */
export interface PtzCall {
  action: string;
  profileToken?: string;
  x?: number;
  y?: number;
  zoom?: number;
  presetToken?: string;
  presetName?: string;
}

/** The PTZ calls logged so far (none when the log does not exist yet). */
export function ptzCalls(log: string): PtzCall[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as PtzCall);
}

/**
 * A simulated ONVIF camera (UDP WS-Discovery responder + HTTP SOAP Device and Media
 * services) in a child process; `netns` runs it inside that network namespace.
 */
export class OnvifDeviceSim {
  readonly stderr: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly httpPort: number,
    readonly discoveryPort: number,
  ) {
    child.stderr?.on('data', (c: Buffer) => this.stderr.push(...c.toString().split('\n').filter(Boolean)));
  }

  static async start(config: SimConfig, netns?: string): Promise<OnvifDeviceSim> {
    const argv = [process.execPath, ONVIF_SIM_PATH, JSON.stringify(config)];
    const child = netns === undefined ? spawn(argv[0] as string, argv.slice(1)) : spawn('ip', ['netns', 'exec', netns, ...argv]);
    const ready = await new Promise<{ httpPort: number; discoveryPort: number }>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`ONVIF simulator not ready in 10 s: ${err}`)), 10_000);
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line === undefined || !out.includes('\n')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { httpPort: number; discoveryPort: number });
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`ONVIF simulator exited with ${code}: ${err}`));
      });
    });
    const sim = new OnvifDeviceSim(child, ready.httpPort, ready.discoveryPort);
    running.add(sim);
    return sim;
  }

  get xaddr(): string {
    return `http://127.0.0.1:${this.httpPort}/onvif/device_service`;
  }

  get probeAddress(): string {
    return `127.0.0.1:${this.discoveryPort}`;
  }

  async stop(): Promise<void> {
    running.delete(this);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

const running = new Set<OnvifDeviceSim>();

export async function stopAllOnvifSims(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}
