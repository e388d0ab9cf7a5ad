import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { round, sleep } from './stats.js';

/**
 * CPU and memory of process trees, read from /proc: user+sys ticks from
 * /proc/<pid>/stat (in % of one core over a window) and resident set size.
 */

function getconf(name: string, fallback: number): number {
  const r = spawnSync('getconf', [name], { encoding: 'utf8' });
  const n = Number.parseInt(r.stdout ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

const CLK_TCK = getconf('CLK_TCK', 100);
const PAGE_SIZE = getconf('PAGESIZE', 4096);

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  ticks: number;
  startTicks: number;
  rssBytes: number;
}

function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return null;
  // Fields after the command name start at field 3 (state).
  const rest = text.slice(close + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  return {
    pid,
    ppid: field(4),
    comm: text.slice(open + 1, close),
    ticks: field(14) + field(15),
    startTicks: field(22),
    rssBytes: field(24) * PAGE_SIZE,
  };
}

/** Proportional (shared pages split among their users) and unique (private) memory, bytes. */
function readSharedSplit(pid: number): { pss: number; uss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { pss: kb('Pss'), uss: kb('Private_Clean') + kb('Private_Dirty') };
  } catch {
    return { pss: 0, uss: 0 };
  }
}

function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s) out.push(s);
  }
  return out;
}

/** The roots and all their descendants, as they are now. */
export function processTree(roots: readonly number[]): ProcStat[] {
  const all = allProcesses();
  const byParent = new Map<number, ProcStat[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const rootSet = new Set(roots);
  const found: ProcStat[] = all.filter((p) => rootSet.has(p.pid));
  for (let i = 0; i < found.length; i++) found.push(...(byParent.get((found[i] as ProcStat).pid) ?? []));
  return found;
}

export interface TreeUsage {
  seconds: number;
  /** user+sys of the whole tree, % of one core. */
  cpuPct: number;
  /** Mean summed RSS of the tree, MiB (shared library pages counted in every process). */
  rssMiB: number;
  /** Mean summed USS (private pages only: what the tree frees when it exits), MiB. */
  ussMiB: number;
  /** Mean summed PSS (shared pages split among the processes mapping them), MiB. */
  pssMiB: number;
  /** Split by process: the roots are `main`, others by command name (e.g. ffmpeg). */
  cpuPctBy: Record<string, number>;
  rssMiBBy: Record<string, number>;
  ussMiBBy: Record<string, number>;
  /** Most processes seen in the tree at once, by the same split. */
  countBy: Record<string, number>;
}

/**
 * Samples the tree every `periodMs` for `seconds` and sums each process's tick deltas
 * between consecutive samples (processes that come and go are counted while seen).
 */
export async function measureTree(roots: readonly number[], seconds: number, periodMs = 1000): Promise<TreeUsage> {
  const rootSet = new Set(roots);
  const label = (p: ProcStat) => (rootSet.has(p.pid) ? 'main' : p.comm);
  const key = (p: ProcStat) => `${p.pid}:${p.startTicks}`;
  let previous = new Map<string, ProcStat>(processTree(roots).map((p) => [key(p), p]));
  const ticksBy: Record<string, number> = {};
  const rssSumBy: Record<string, number> = {};
  const ussSumBy: Record<string, number> = {};
  let pssSum = 0;
  const countBy: Record<string, number> = {};
  let rssSamples = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    await sleep(Math.min(periodMs, Math.max(0, deadline - performance.now())));
    const now = processTree(roots);
    const counts: Record<string, number> = {};
    for (const p of now) {
      const before = previous.get(key(p));
      const name = label(p);
      ticksBy[name] = (ticksBy[name] ?? 0) + (before ? Math.max(0, p.ticks - before.ticks) : 0);
      rssSumBy[name] = (rssSumBy[name] ?? 0) + p.rssBytes;
      const split = readSharedSplit(p.pid);
      ussSumBy[name] = (ussSumBy[name] ?? 0) + split.uss;
      pssSum += split.pss;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    for (const [name, c] of Object.entries(counts)) countBy[name] = Math.max(countBy[name] ?? 0, c);
    rssSamples += 1;
    previous = new Map(now.map((p) => [key(p), p]));
  }
  const elapsed = (performance.now() - started) / 1000;
  const pct = (ticks: number) => (ticks / CLK_TCK / elapsed) * 100;
  const mib = (bytes: number) => bytes / rssSamples / (1024 * 1024);
  const cpuPctBy = Object.fromEntries(Object.entries(ticksBy).map(([k, v]) => [k, round(pct(v), 2) as number]));
  const byName = (sums: Record<string, number>) =>
    Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, round(mib(v), 1) as number]));
  const total = (sums: Record<string, number>) => Object.values(sums).reduce((s, v) => s + v, 0);
  return {
    seconds: round(elapsed, 1) as number,
    cpuPct: round(pct(total(ticksBy)), 2) as number,
    rssMiB: round(mib(total(rssSumBy)), 1) as number,
    ussMiB: round(mib(total(ussSumBy)), 1) as number,
    pssMiB: round(mib(pssSum), 1) as number,
    cpuPctBy,
    rssMiBBy: byName(rssSumBy),
    ussMiBBy: byName(ussSumBy),
    countBy,
  };
}

/** The machine's CPU count and model, for the report. */
export function machineInfo(): { cpus: number; model: string | null; clockTicksPerSecond: number } {
  let model: string | null = null;
  let cpus = 0;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpus = (info.match(/^processor\s*:/gm) ?? []).length;
    model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? null;
  } catch {
    /* not Linux */
  }
  return { cpus, model, clockTicksPerSecond: CLK_TCK };
}
