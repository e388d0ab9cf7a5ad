import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { LineBuffer } from './launcher.js';

/**
 * Every process the benchmark starts goes through here, so that nothing outlives it:
 * on normal exit, on SIGINT/SIGTERM and on an uncaught error each tracked child gets
 * SIGTERM, then SIGKILL after a grace period.
 */
const tracked = new Set<ChildProcess>();
let handlersInstalled = false;
let shuttingDown = false;

/** setpriv's --pdeathsig makes the kernel signal the child even if the benchmark is SIGKILLed. */
const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = existsSync(SETPRIV);

export function spawnTracked(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
  onParentDeath: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
): ChildProcess {
  installHandlers();
  const [cmd, argv] = hasSetpriv ? [SETPRIV, ['--pdeathsig', onParentDeath, '--', command, ...args]] : [command, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  tracked.add(child);
  child.once('exit', () => tracked.delete(child));
  child.once('error', () => tracked.delete(child));
  return child;
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function exitOf(child: ChildProcess): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

/** SIGTERM, SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (!isRunning(child)) return;
  const exited = exitOf(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAllChildren(graceMs = 3000): Promise<void> {
  await Promise.all([...tracked].map((c) => stopChild(c, graceMs)));
}

const scratchDirs = new Set<string>();

/** A temporary directory removed when the benchmark exits, however it exits. */
export function removeOnExit(dir: string): void {
  installHandlers();
  scratchDirs.add(dir);
}

function killAllNow(): void {
  for (const child of tracked) if (isRunning(child)) child.kill('SIGKILL');
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killAllNow);
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    process.stderr.write(`[bench] ${signal}: stopping every child process\n`);
    const force = setTimeout(() => {
      killAllNow();
      process.exit(130);
    }, 8000);
    void stopAllChildren(2000).finally(() => {
      clearTimeout(force);
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Calls `onLine` for each complete, non-empty line of a child's output (bench/launcher.ts's LineBuffer). */
export function readLines(stream: NodeJS.ReadableStream | null | undefined, onLine: (line: string, at: number) => void): void {
  if (!stream) return;
  const buffer = new LineBuffer(64 * 1024);
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    const at = nowMs();
    for (const line of buffer.push(text)) onLine(line, at);
  });
  stream.on('end', () => {
    const at = nowMs();
    for (const line of buffer.flush()) onLine(line, at);
  });
}

/** Keeps the last `max` lines of a stream, for error messages. */
export class LineTail {
  readonly lines: string[] = [];
  constructor(private readonly max = 40) {}
  push = (line: string): void => {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  };
  text(n = 15): string {
    return this.lines.slice(-n).join('\n');
  }
}
