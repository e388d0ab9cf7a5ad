import { loadavg } from 'node:os';
import { bareIngestArgs, WatchedFfmpeg } from './bareFfmpeg.js';
import { startCameraFleet } from './cameraFleet.js';
import { BenchGateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import { measureTree } from './procstat.js';
import { attempt, progress } from './progress.js';
import { addCameras, cameraStates, waitAllLive, type Cam } from './scaleLoad.js';
import { mean, pollUntil, round, sleep } from './stats.js';

/**
 * The soak phase: K copy-mode fleet cameras through one gateway with recording on for
 * M minutes; the gateway tree's CPU and memory sampled every 10 s. Compares the first
 * with the last stretch (ten minutes of an hour; a sixth of a shorter run) and fits
 * the memory's trend: nothing should grow with uptime.
 *
 * A process's CPU time for the same work moves with what else the machine runs (a busy
 * sibling hyperthread, a steal-prone VM): 15–25 % between a quiet and a loaded stretch on
 * the 2-core machine. So a same-run baseline runs beside the gateway the whole time: bare
 * ingest ffmpegs (the gateway's own argv, output to /dev/null) pulling from the same fleet,
 * sampled in the same windows. Their CPU per process cannot grow with the gateway's uptime;
 * the gateway's change relative to theirs is what the gateway itself added.
 */

export const SOAK_TARGETS = {
  /** CPU per camera of the last stretch within this share of the first's. */
  cpuChangePct: 5,
  /** Memory flat: the fitted USS trend at most this share of the mean USS per hour. */
  ussSlopePctPerHour: 2,
} as const;

/** Bare ingest ffmpegs beside the gateway (the same-run baseline). */
const BASELINE_PROCESSES = 4;
/** The fleet's stream, stated once for the fleet and for the baseline's argv. */
const FLEET_STREAM = { width: 640, height: 360, fps: 25 } as const;

export interface SoakSample {
  /** Minutes since the window began (end of the sample). */
  atMinutes: number;
  cpuPct: number;
  cpuPctPerCamera: number;
  /** The same window's baseline: CPU of one bare ingest ffmpeg (mean of them), % of a core. */
  baselineCpuPctPerProcess: number;
  rssMiB: number;
  ussMiB: number;
  processes: number;
  live: number;
  /** The machine's 1-minute load average (other work on the machine shows here). */
  loadAverage: number;
}

interface Stretch {
  fromMinutes: number;
  toMinutes: number;
  samples: number;
  cpuPctPerCamera: number | null;
  baselineCpuPctPerProcess: number | null;
  loadAverage: number | null;
  ussMiB: number | null;
  rssMiB: number | null;
}

export interface SoakResults {
  cameras: number;
  minutes: number;
  sampleSeconds: number;
  camera: string;
  targets: typeof SOAK_TARGETS;
  first: Stretch | null;
  last: Stretch | null;
  /** Bare ingest ffmpegs run beside the gateway as the same-run baseline. */
  baselineProcesses: number;
  /** (last − first) / first CPU per camera, %: the gateway's own change plus the machine's. */
  cpuChangePct: number | null;
  /** (last − first) / first of the baseline's CPU per process, %: the machine's change alone. */
  baselineCpuChangePct: number | null;
  /** The gateway's CPU per camera relative to the baseline's per process, last against first, %: what the verdict reads. */
  cpuChangeVsBaselinePct: number | null;
  /** Least-squares trend of the tree's USS and RSS after the first stretch, MiB per hour. */
  ussSlopeMiBPerHour: number | null;
  rssSlopeMiBPerHour: number | null;
  ussSlopePctPerHour: number | null;
  /** Fewest cameras live in any sample. */
  minLive: number | null;
  samples: SoakSample[];
  verdicts: Record<string, 'pass' | 'fail' | 'not measured'>;
  errors: string[];
}

function stretch(samples: readonly SoakSample[], from: number, to: number): Stretch | null {
  const inside = samples.filter((s) => s.atMinutes > from && s.atMinutes <= to + 1e-9);
  if (inside.length === 0) return null;
  return {
    fromMinutes: round(from, 2) as number,
    toMinutes: round(to, 2) as number,
    samples: inside.length,
    cpuPctPerCamera: round(mean(inside.map((s) => s.cpuPctPerCamera)), 3),
    baselineCpuPctPerProcess: round(mean(inside.map((s) => s.baselineCpuPctPerProcess)), 3),
    loadAverage: round(mean(inside.map((s) => s.loadAverage)), 2),
    ussMiB: round(mean(inside.map((s) => s.ussMiB)), 1),
    rssMiB: round(mean(inside.map((s) => s.rssMiB)), 1),
  };
}

/** Slope of y over x (per unit of x) by least squares, or null with fewer than 3 points. */
export function slope(points: readonly { x: number; y: number }[]): number | null {
  if (points.length < 3) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

export async function soakPhase(o: BenchOptions): Promise<SoakResults> {
  const { cameras: K, minutes: M, sampleSeconds } = o.soak;
  // Ten minutes of an hour; the same sixth of a shorter run.
  const span = M >= 60 ? 10 : M / 6;
  const results: SoakResults = {
    cameras: K,
    minutes: M,
    sampleSeconds,
    camera:
      'camera fleet (tests/fixtures/rtsp_fleet.py): 640x360 H.264 25 fps ~500 kbit/s pre-encoded loop, copy mode, recording on (default 60 s segments)',
    targets: SOAK_TARGETS,
    first: null,
    last: null,
    baselineProcesses: 0,
    cpuChangePct: null,
    baselineCpuChangePct: null,
    cpuChangeVsBaselinePct: null,
    ussSlopeMiBPerHour: null,
    rssSlopeMiBPerHour: null,
    ussSlopePctPerHour: null,
    minLive: null,
    samples: [],
    verdicts: {},
    errors: [],
  };
  progress(`soak: ${K} fleet cameras for ${M} min, sampled every ${sampleSeconds} s`);
  const fleet = await startCameraFleet({ count: K, ...FLEET_STREAM });
  let gw: BenchGateway | null = null;
  const baseline: WatchedFfmpeg[] = [];
  try {
    await attempt(results.errors, 'soak', async () => {
      gw = await BenchGateway.start('recording:\n  enabled: true\n');
      const g: BenchGateway = gw;
      const cams: Cam[] = [];
      await addCameras(g, fleet, 0, K, cams, 'soak');
      if ((await waitAllLive(g, K, 60_000 + K * 500, 'soak')) === null) throw new Error(`not all ${K} cameras live:\n${g.logTail()}`);
      // The baseline pulls the first few mounts a second time (the fleet serves each mount to any number of readers).
      for (const url of fleet.urls.slice(0, BASELINE_PROCESSES))
        baseline.push(new WatchedFfmpeg(bareIngestArgs(url, { codec: 'h264', ...FLEET_STREAM })));
      results.baselineProcesses = baseline.length;
      if ((await pollUntil(() => baseline.every((b) => b.frames > 0), 20_000)) === null)
        throw new Error(`the baseline's bare ffmpegs produced no frames:\n${baseline.map((b) => b.errors()).join('\n')}`);
      await sleep(o.warmupSeconds * 1000);
      const started = performance.now();
      const end = started + M * 60_000;
      let lastReport = started;
      while (performance.now() < end) {
        const seconds = Math.min(sampleSeconds, (end - performance.now()) / 1000);
        if (seconds < sampleSeconds / 2) break;
        const [usage, bare] = await Promise.all([
          measureTree([g.pid], seconds, 2000),
          measureTree(
            baseline.map((b) => b.child.pid as number),
            seconds,
            2000,
          ),
        ]);
        const stopped = baseline.filter((b) => !b.running);
        if (stopped.length > 0) throw new Error(`a baseline ffmpeg exited during the soak:\n${stopped.map((b) => b.errors()).join('\n')}`);
        const states = await cameraStates(g, K).catch(() => ({}) as Record<string, number>);
        results.samples.push({
          atMinutes: round((performance.now() - started) / 60_000, 3) as number,
          cpuPct: usage.cpuPct,
          cpuPctPerCamera: round(usage.cpuPct / K, 3) as number,
          baselineCpuPctPerProcess: round(bare.cpuPct / baseline.length, 3) as number,
          rssMiB: usage.rssMiB,
          ussMiB: usage.ussMiB,
          processes: Object.values(usage.countBy).reduce((s, n) => s + n, 0),
          live: states.live ?? 0,
          loadAverage: round(loadavg()[0], 2) as number,
        });
        if (performance.now() - lastReport > 60_000) {
          lastReport = performance.now();
          const s = results.samples.at(-1) as SoakSample;
          progress(
            `soak: ${s.atMinutes.toFixed(1)}/${M} min: CPU ${s.cpuPct}% (${s.cpuPctPerCamera}%/camera; baseline ${s.baselineCpuPctPerProcess}%/process), USS ${s.ussMiB} MiB, ${s.live} live, load ${s.loadAverage}`,
          );
        }
      }
    });
  } finally {
    await Promise.all(baseline.map((b) => b.stop()));
    await (gw as BenchGateway | null)?.stop();
    await fleet.stop();
  }

  const samples = results.samples;
  const endAt = samples.at(-1)?.atMinutes ?? 0;
  results.first = stretch(samples, 0, span);
  results.last = stretch(samples, endAt - span, endAt);
  const f = results.first?.cpuPctPerCamera;
  const l = results.last?.cpuPctPerCamera;
  const change = (from: number | null | undefined, to: number | null | undefined) =>
    from && to !== null && to !== undefined ? (round(((to - from) / from) * 100, 1) as number) : null;
  results.cpuChangePct = change(f, l);
  const bf = results.first?.baselineCpuPctPerProcess;
  const bl = results.last?.baselineCpuPctPerProcess;
  results.baselineCpuChangePct = change(bf, bl);
  results.cpuChangeVsBaselinePct = f && l && bf && bl ? change(f / bf, l / bl) : null;
  // The trend leaves out the first stretch, where caches and heaps settle.
  const settled = samples.filter((s) => s.atMinutes > span);
  const perHour = (pick: (s: SoakSample) => number) => {
    const k = slope(settled.map((s) => ({ x: s.atMinutes / 60, y: pick(s) })));
    return k === null ? null : round(k, 1);
  };
  results.ussSlopeMiBPerHour = perHour((s) => s.ussMiB);
  results.rssSlopeMiBPerHour = perHour((s) => s.rssMiB);
  const meanUss = mean(settled.map((s) => s.ussMiB));
  results.ussSlopePctPerHour =
    results.ussSlopeMiBPerHour === null || !meanUss ? null : round((results.ussSlopeMiBPerHour / meanUss) * 100, 2);
  results.minLive = samples.length ? Math.min(...samples.map((s) => s.live)) : null;
  const cpuChange = results.cpuChangeVsBaselinePct;
  const ussSlope = results.ussSlopePctPerHour;
  results.verdicts = {
    [`CPU per camera relative to the same-run baseline, last ${round(span, 1)} min within ${SOAK_TARGETS.cpuChangePct}% of the first`]:
      cpuChange === null ? 'not measured' : Math.abs(cpuChange) <= SOAK_TARGETS.cpuChangePct ? 'pass' : 'fail',
    [`memory flat: USS growth ≤ ${SOAK_TARGETS.ussSlopePctPerHour}% of the tree's USS per hour`]:
      ussSlope === null ? 'not measured' : ussSlope <= SOAK_TARGETS.ussSlopePctPerHour ? 'pass' : 'fail',
    [`all ${K} cameras live in every sample`]: results.minLive === null ? 'not measured' : results.minLive === K ? 'pass' : 'fail',
  };
  return results;
}
