import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { ChainLedger, ChainSigner, PUBLIC_KEY_SETTING, WitnessDir, segmentRelPath } from '../src/recording/index.js';
import { SqliteStore } from '../src/store/index.js';
import { WatchedFfmpeg } from './bareFfmpeg.js';
import type { BenchCamera } from './camera.js';
import { nowMs, removeOnExit } from './children.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { attempt, progress } from './progress.js';
import { pollUntil, sleep } from './stats.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SEGMENT_SECONDS = 10;
const FILE_BYTES = 2 * 1024 * 1024;

export interface VerifyThroughput {
  files: number;
  megabytes: number;
  /** Wall time of `psvgw verify` as a user runs it (process start, chain checks, hashing). */
  verifySeconds: number;
  /** The same, comparing chain and checkpoints with a witness directory (`--witness`). */
  verifyWitnessSeconds: number;
  /** Checkpoints in the witness (one per 8 segments, as a 300 s interval over 60 s segments gives about). */
  witnessed: number;
  sha256sumSeconds: number;
}

export interface RecordingResults {
  errors: string[];
  /** N bare `ffmpeg -c copy -f segment` processes, one per camera. */
  bareSegment?: TreeUsage;
  /** The gateway with recording on, N cameras (live tiers and recording from one pull). */
  gateway?: TreeUsage;
  verify?: VerifyThroughput;
}

/** The bare baseline: what recording one camera costs ffmpeg on its own. */
function bareSegmentArgs(url: string, outPattern: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'warning',
    '-progress',
    'pipe:1',
    '-nostats',
    '-rtsp_transport',
    'tcp',
    '-analyzeduration',
    '2000000',
    '-i',
    url,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-f',
    'segment',
    '-segment_time',
    String(SEGMENT_SECONDS),
    '-segment_format',
    'mpegts',
    outPattern,
  ];
}

/** Recording CPU through the gateway vs bare segmenting ffmpeg, and verify's hashing rate vs sha256sum. */
export async function recordingPhase(cameras: readonly BenchCamera[], o: BenchOptions): Promise<RecordingResults> {
  const results: RecordingResults = { errors: [] };
  const W = o.cpuWindowSeconds;
  const scratch = mkdtempSync(join(tmpdir(), 'psvgw-bench-rec-'));
  removeOnExit(scratch);
  try {
    await attempt(results.errors, 'bare ffmpeg segment recording', async () => {
      progress(`recording baseline: bare ffmpeg -c copy -f segment, ${cameras.length} cameras, ${W} s`);
      const procs = cameras.map((c, i) => new WatchedFfmpeg(bareSegmentArgs(c.url, join(scratch, `bare${i}-%06d.ts`))));
      try {
        if ((await pollUntil(() => procs.every((p) => p.frames > 0), 20_000)) === null)
          throw new Error(`bare segment ffmpeg produced no frames:\n${procs.map((p) => p.errors()).join('\n')}`);
        await sleep(o.warmupSeconds * 1000);
        results.bareSegment = await measureTree(
          procs.map((p) => p.child.pid as number),
          W,
        );
      } finally {
        await Promise.all(procs.map((p) => p.stop()));
      }
    });
    await attempt(results.errors, 'gateway recording', async () => {
      const gw = await BenchGateway.start(`recording:\n  segmentSeconds: ${SEGMENT_SECONDS}\n`);
      try {
        const ids = await Promise.all(cameras.map((c, i) => gw.addCamera(`rec-${i + 1}`, c.url)));
        for (const id of ids) if ((await gw.waitUp(id, 1, 30_000, 100)) === null) throw new Error(`camera ${id} not up:\n${gw.logTail()}`);
        progress(`recording: gateway recording ${cameras.length} cameras (live tiers + segments from one pull), ${W} s`);
        await sleep(o.warmupSeconds * 1000);
        results.gateway = await measureTree([gw.pid], W);
      } finally {
        await gw.stop();
      }
    });
    await attempt(results.errors, 'verify throughput', async () => {
      results.verify = await verifyThroughput(join(scratch, 'verify'), o.quick ? 32 : 128);
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

/** Indexes `files` random 2 MiB segments like the recorder does (checkpoints into a witness directory), then times `psvgw verify` (without and with `--witness`) and `sha256sum` on them. */
export async function verifyThroughput(dataDir: string, files: number): Promise<VerifyThroughput> {
  progress(`recording: psvgw verify vs sha256sum on ${files} files of 2 MiB`);
  const dir = join(dataDir, 'recordings');
  const store = new SqliteStore(join(dataDir, 'psvgw.db'));
  await store.migrate();
  const signer = ChainSigner.loadOrCreate(dataDir);
  await store.settings.set(PUBLIC_KEY_SETTING, signer.publicPem());
  const ledger = new ChainLedger(store, signer, pino({ level: 'silent' }));
  const witness = `${dataDir}-witness`;
  ledger.addWitness(new WitnessDir(witness));
  let witnessed = 0;
  const cameraId = '44030500001320000001';
  const paths: string[] = [];
  const t0 = Date.now() - files * SEGMENT_SECONDS * 1000;
  for (let i = 0; i < files; i++) {
    const startMs = t0 + i * SEGMENT_SECONDS * 1000;
    const rel = segmentRelPath(cameraId, startMs);
    const bytes = randomBytes(FILE_BYTES);
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
    paths.push(join(dir, rel));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await ledger.append(cameraId, {
      kind: 'segment',
      path: rel,
      startMs,
      endMs: startMs + SEGMENT_SECONDS * 1000,
      bytes: FILE_BYTES,
      sha256,
      partial: false,
      detail: {},
    });
    if (i % 8 === 7) witnessed += await ledger.checkpointAll();
  }
  witnessed += await ledger.checkpointAll();
  await store.close();
  const config = join(dataDir, 'gateway.yaml');
  writeFileSync(config, `dataDir: ${dataDir}\n`);
  for (const p of paths) readFileSync(p); // both readers start from a warm page cache
  const verifySeconds = await timed(process.execPath, [CLI, 'verify', '--config', config, '--json'], { PSVGW_DATA_DIR: dataDir });
  const verifyWitnessSeconds = await timed(process.execPath, [CLI, 'verify', '--config', config, '--json', '--witness', witness], {
    PSVGW_DATA_DIR: dataDir,
  });
  const sha256sumSeconds = await timed('sha256sum', paths, {});
  return { files, megabytes: (files * FILE_BYTES) / 1e6, verifySeconds, verifyWitnessSeconds, witnessed, sha256sumSeconds };
}

function timed(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = nowMs();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve((nowMs() - started) / 1000);
      else reject(new Error(`${cmd} exited with ${String(code)}: ${err.slice(-500)}`));
    });
  });
}
