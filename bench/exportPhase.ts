/**
 * Export of a 10-minute 720p clip with the watermark (1 minute with --quick): the gateway's
 * export job (ExportService on a real SQLite store and recording chain: segment hashes
 * checked, ffmpeg cut + drawtext + H.264, clip probed, hashed, manifest signed) against
 * bare ffmpeg running the same command (the same segments, cut and drawtext filter) and
 * nothing else. Segments are made with ffmpeg testsrc2 at 1280×720 25 fps, 10 s each.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { AccessRequest, ExportJob } from '../src/domain/index.js';
import {
  clipArgs,
  concatList,
  cutRange,
  DEFAULT_WATERMARK_FONT,
  drawtextFilter,
  ExportService,
  requireWatermarkFont,
  watermarkText,
} from '../src/exports/index.js';
import { ChainLedger, ChainSigner, segmentRelPath, sha256File } from '../src/recording/index.js';
import { SqliteStore } from '../src/store/index.js';
import type { BenchOptions } from './options.js';
import { machineInfo } from './procstat.js';
import { progress } from './progress.js';

const run = promisify(execFile);
const CAMERA_ID = '44030500001320000009';
const SEGMENT_S = 10;
const RETENTION = { days: 30, profile: 'strict', rule: 'profile', article: 'strict: qingdao-2020 Art. 19(7), zhuzhou-2023 Art. 12(5)' };

export interface ExportRun {
  wallSeconds: number;
  /** CPU seconds of this process and the children it waited for (ffmpeg, ffprobe), user + system. */
  cpuSeconds: number;
  clipBytes: number;
}

export interface ExportResults {
  clipSeconds: number;
  resolution: string;
  segments: number;
  gateway: ExportRun;
  bareFfmpeg: ExportRun;
  /** gateway / bare. */
  wallRatio: number;
  cpuRatio: number;
}

/** utime + stime + cutime + cstime of this process, in seconds (children count once they have been waited for). */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name, from field 3 (state): utime, stime, cutime, cstime are fields 14–17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return ticks / machineInfo().clockTicksPerSecond;
}

async function measured(work: () => Promise<number>): Promise<ExportRun> {
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const clipBytes = await work();
  return { wallSeconds: round((performance.now() - t0) / 1000), cpuSeconds: round(cpuSeconds() - cpu0), clipBytes };
}

export async function exportPhase(o: BenchOptions): Promise<ExportResults> {
  requireWatermarkFont(DEFAULT_WATERMARK_FONT);
  const clipSeconds = o.quick ? 60 : 600;
  const root = mkdtempSync(join(tmpdir(), 'psvgw-bench-export-'));
  try {
    const recDir = join(root, 'recordings');
    const raw = join(root, 'raw');
    mkdirSync(raw, { recursive: true });
    progress(`export: generating ${clipSeconds} s of 720p25 footage in ${SEGMENT_S} s segments (testsrc2)`);
    await run(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${clipSeconds}`]
        .concat(['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p'])
        .concat(['-f', 'segment', '-segment_time', String(SEGMENT_S), '-segment_format', 'mpegts', join(raw, 'seg%04d.ts')]),
      { timeout: 900_000 },
    );

    // Index them as the recorder would: chain entries with their hashes, files where the layout puts them.
    const store = new SqliteStore(join(root, 'psvgw.db'));
    await store.migrate();
    const signer = ChainSigner.loadOrCreate(root);
    const ledger = new ChainLedger(store, signer, pino({ level: 'silent' }));
    const t0 = Date.now() - clipSeconds * 1000 - 60_000;
    const files = readdirSync(raw).sort();
    const paths: string[] = [];
    for (const [i, name] of files.entries()) {
      const startMs = t0 + i * SEGMENT_S * 1000;
      const rel = segmentRelPath(CAMERA_ID, startMs);
      mkdirSync(join(recDir, rel, '..'), { recursive: true });
      writeFileSync(join(recDir, rel), readFileSync(join(raw, name)));
      paths.push(join(recDir, rel));
      await ledger.append(CAMERA_ID, {
        kind: 'segment',
        path: rel,
        startMs,
        endMs: startMs + SEGMENT_S * 1000,
        bytes: statSync(join(recDir, rel)).size,
        sha256: await sha256File(join(recDir, rel)),
        partial: false,
        detail: { retention: RETENTION },
      });
    }
    rmSync(raw, { recursive: true, force: true });
    const fromMs = t0;
    const toMs = t0 + clipSeconds * 1000;

    // Bare ffmpeg: the same cut of the same segments with the same drawtext filter, nothing around it.
    const bareDir = join(root, 'bare');
    mkdirSync(bareDir);
    const listFile = join(bareDir, 'segments.txt');
    const textFile = join(bareDir, 'watermark.txt');
    writeFileSync(listFile, concatList(paths));
    writeFileSync(
      textFile,
      watermarkText({ requestId: 'bench-request', staffNames: ['张伟', '李娜'], exportedAt: new Date().toISOString() }),
    );
    const cut = cutRange(
      paths.map((_, i) => ({ startMs: t0 + i * SEGMENT_S * 1000, endMs: t0 + (i + 1) * SEGMENT_S * 1000 })),
      fromMs,
      toMs,
    );
    progress(`export: bare ffmpeg, ${clipSeconds} s clip with drawtext`);
    const bareOut = join(bareDir, 'clip.mp4');
    const bareFfmpeg = await measured(async () => {
      await run(
        'ffmpeg',
        clipArgs({ listFile, cut, filter: drawtextFilter({ fontFile: DEFAULT_WATERMARK_FONT, textFile }), output: bareOut }),
        {
          timeout: 1_800_000,
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      return statSync(bareOut).size;
    });

    progress(`export: the gateway's export job, ${clipSeconds} s clip`);
    const request = benchRequest(fromMs, toMs);
    await store.accessRequests.insert(request);
    const service = await new ExportService({
      store,
      dir: join(root, 'exports'),
      recordingsDir: recDir,
      signer,
      ffmpegPath: 'ffmpeg',
      ffprobePath: 'ffprobe',
      logger: pino({ level: 'silent' }),
    }).start();
    let job: ExportJob | undefined;
    const gateway = await measured(async () => {
      const queued = await service.create(
        { kind: 'user', userId: 'u-bench', username: 'officer', roles: ['police'] },
        { request, cameraId: CAMERA_ID, fromMs, toMs },
      );
      for (;;) {
        job = await store.exportJobs.get(queued.id);
        if (job?.state === 'done' || job?.state === 'failed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (job.state === 'failed') throw new Error(`the export job failed: ${job.error ?? ''}`);
      return job.clipBytes ?? 0;
    });
    await service.close();
    await store.close();
    return {
      clipSeconds,
      resolution: '1280x720',
      segments: files.length,
      gateway,
      bareFfmpeg,
      wallRatio: round(gateway.wallSeconds / bareFfmpeg.wallSeconds),
      cpuRatio: round(gateway.cpuSeconds / bareFfmpeg.cpuSeconds),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function benchRequest(fromMs: number, toMs: number): AccessRequest {
  const at = new Date().toISOString();
  return {
    id: 'bench-request',
    kind: 'export',
    cameraIds: [CAMERA_ID],
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    purpose: 'benchmark',
    destination: 'benchmark',
    staff: [
      { name: '张伟', unit: '城东派出所', credentialNo: 'GA-1' },
      { name: '李娜', unit: '城东派出所', credentialNo: 'GA-2' },
    ],
    documents: {},
    profile: 'strict',
    state: 'approved',
    filedBy: { userId: 'u-bench', username: 'officer' },
    filedAt: at,
    decidedBy: 'approver',
    decidedAt: at,
    decisionReason: 'benchmark',
    validFrom: at,
    validUntil: new Date(Date.now() + 3600_000).toISOString(),
    revokedBy: null,
    revokedAt: null,
    revokeReason: null,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
