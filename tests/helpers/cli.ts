import { spawn } from 'node:child_process';
import { CLI_PATH } from './gateway.js';

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `psvgw` CLI without blocking the test's event loop. `prefix` runs it
 * under another command (e.g. `ip netns exec NS`); PSVGW_* variables of the test's own
 * environment are dropped, `env` adds what the run needs.
 */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; prefix?: string[]; timeoutMs?: number } = {},
): Promise<CliRun> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PSVGW_')));
  const argv = [...(opts.prefix ?? []), process.execPath, CLI_PATH, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { env: { ...env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
