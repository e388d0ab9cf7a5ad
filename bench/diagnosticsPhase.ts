import { BenchCamera } from './camera.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { measureTree, type TreeUsage } from './procstat.js';
import { attempt, progress } from './progress.js';
import { pollUntil, round, sleep } from './stats.js';

/**
 * What video-quality diagnostics cost per camera: the same camera through a gateway with
 * diagnostics off and one with the defaults (a sampler ffmpeg decoding the raw tier at
 * 2 fps into 160x90 grey frames, analysis in a worker thread).
 */
export interface DiagnosticsResults {
  errors: string[];
  off?: TreeUsage;
  on?: TreeUsage;
  figures?: {
    /** Whole tree with diagnostics minus without, % of one core. */
    netCpuPct: number;
    /** The sampler ffmpeg (ffmpeg processes with minus without). */
    samplerFfmpegCpuPct: number;
    /** The gateway's node process (frame cutting, worker thread, incidents) with minus without. */
    nodeCpuPct: number;
  };
}

interface DiagnosticsBody {
  state: { sampledAt: string | null } | null;
}

async function measureGateway(o: BenchOptions, camera: BenchCamera, diagnostics: boolean): Promise<TreeUsage> {
  const gw = await BenchGateway.start(`diagnostics:\n  enabled: ${diagnostics}\n`);
  try {
    const id = await gw.addCamera(`bench-diagnostics-${diagnostics ? 'on' : 'off'}`, camera.url);
    if ((await gw.waitUp(id, 1, 30_000, 100)) === null) throw new Error(`camera not up within 30 s:\n${gw.logTail()}`);
    const sampledAt = async () => (await gw.api<DiagnosticsBody>('GET', `/api/v1/cameras/${id}/diagnostics`)).state?.sampledAt ?? null;
    if (diagnostics && (await pollUntil(async () => (await sampledAt()) !== null, 30_000, 200)) === null)
      throw new Error(`no diagnostics sample within 30 s:\n${gw.logTail()}`);
    await sleep(o.warmupSeconds * 1000);
    const before = diagnostics ? await gw.metric('psvgw_image_mean_luma', id) : undefined;
    const usage = await measureTree([gw.pid], o.cpuWindowSeconds);
    if (diagnostics && before === undefined) throw new Error('psvgw_image_mean_luma missing while sampling');
    await gw.removeCamera(id);
    return usage;
  } finally {
    await gw.stop();
  }
}

export async function diagnosticsPhase(o: BenchOptions): Promise<DiagnosticsResults> {
  const results: DiagnosticsResults = { errors: [] };
  const cam = o.camera;
  progress(
    `diagnostics: one ${cam.width}x${cam.height} ${cam.fps} fps camera, gateway without and with diagnostics, ${o.cpuWindowSeconds} s each`,
  );
  const camera = await BenchCamera.start(cam);
  try {
    await attempt(results.errors, 'diagnostics off', async () => {
      results.off = await measureGateway(o, camera, false);
    });
    await attempt(results.errors, 'diagnostics on', async () => {
      results.on = await measureGateway(o, camera, true);
    });
  } finally {
    await camera.stop();
  }
  const { off, on } = results;
  if (off && on) {
    const by = (u: TreeUsage, name: string) => u.cpuPctBy[name] ?? 0;
    results.figures = {
      netCpuPct: round(on.cpuPct - off.cpuPct, 2) as number,
      samplerFfmpegCpuPct: round(by(on, 'ffmpeg') - by(off, 'ffmpeg'), 2) as number,
      nodeCpuPct: round(by(on, 'main') - by(off, 'main'), 2) as number,
    };
  }
  return results;
}
