import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ChainEntry } from '../../src/domain/index.js';
import { entryHash } from '../../src/recording/index.js';
import { CLI_PATH, type GatewayProcess } from './gateway.js';

const run = promisify(execFile);

export interface SegmentView {
  seq: number;
  start: string;
  end: string;
  durationMs: number;
  bytes: number;
  sha256: string;
  partial: boolean;
  path: string;
}

export interface RecordingList {
  cameraId: string;
  segments: SegmentView[];
  gaps: Array<{ start: string; end: string | null; cause: string }>;
  playback: { hls: string; expiresAt: string };
}

/** The recordings list of a camera over all time (or the given range). */
/** The recordings list (as the admin, or as `token`'s user: its HLS URL needs their approved view_recorded request). */
export async function recordingList(
  gw: GatewayProcess,
  cameraId: string,
  from = 0,
  to = Date.now() + 3_600_000,
  token?: string,
): Promise<RecordingList> {
  const res = await gw.api<RecordingList>('GET', `/api/v1/cameras/${cameraId}/recordings?from=${from}&to=${to}`, undefined, token);
  if (res.status !== 200) throw new Error(`recordings list answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface MediaFormat {
  startTime: number;
  duration: number;
}

/** ffprobe's view of a file or URL; throws with ffprobe's message when it cannot read it. */
export async function probeFormat(target: string): Promise<MediaFormat> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time,duration', '-of', 'json', target], {
    timeout: 60_000,
  });
  const format = (JSON.parse(stdout) as { format: { start_time?: string; duration?: string } }).format;
  return { startTime: Number(format.start_time ?? 0), duration: Number(format.duration ?? 0) };
}

export function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Runs `psvgw verify` against a gateway's data directory; resolves with exit code and output. */
export async function runVerify(
  gw: GatewayProcess,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI_PATH, 'verify', '--config', `${gw.dataDir}/gateway.yaml`, ...args], {
      env: { ...process.env, PSVGW_DATA_DIR: `${gw.dataDir}/data`, ...env },
      timeout: 120_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** `entries` (one camera's, ascending) with entry `seq` changed by `change` and every later entry rehashed onto it: plain SHA-256, anyone can. */
export function rewriteEntry(entries: readonly ChainEntry[], seq: number, change: Partial<ChainEntry>): ChainEntry[] {
  let prevHash = entries.find((e) => e.seq === seq - 1)?.entryHash ?? '0'.repeat(64);
  return entries.map((e) => {
    if (e.seq < seq) return e;
    const content = { ...e, prevHash, ...(e.seq === seq ? change : {}) };
    prevHash = entryHash(content);
    return { ...content, entryHash: prevHash };
  });
}
