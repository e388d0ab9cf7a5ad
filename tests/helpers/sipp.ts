/** sipp (Debian's sip-tester) playing a GB/T 28181 upper platform, and what its trace shows it received. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SIPP = '/usr/bin/sipp';
const FIXTURES = join(import.meta.dirname, '../fixtures/sipp');
export interface Sipp {
  proc: ChildProcess;
  exited: Promise<number | null>;
  trace: string;
}

/** sipp as a UAS on `port` with the scenario; every message it sees goes to its trace file. `keys`: the scenario's [keywords]. */
export function startSipp(
  dir: string,
  scenario: string,
  port: number,
  calls: number,
  tcp = false,
  keys: Record<string, string> = {},
): Sipp {
  const trace = join(dir, `${scenario}-${port}${tcp ? '-tcp' : ''}.trace`);
  const proc = spawn(
    SIPP,
    [
      '-sf',
      join(FIXTURES, `${scenario}.xml`),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-m',
      String(calls),
      '-nostdin',
      '-timeout',
      '50s',
      '-timeout_error',
      '-trace_msg',
      '-message_file',
      trace,
      // One TCP connection per peer: the gateway dials out to the platform.
      ...(tcp ? ['-t', 't1'] : []),
      ...Object.entries(keys).flatMap(([k, v]) => ['-key', k, v]),
    ],
    { stdio: 'ignore', cwd: dir },
  );
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, exited, trace };
}

/** Messages sipp received, with their time and size: "----- 2026-12-05\t21:30:00.123456 ... UDP message received [n] bytes". */
export function received(s: Sipp): { at: number; bytes: number; text: string }[] {
  if (!existsSync(s.trace)) return [];
  const chunks = readFileSync(s.trace, 'utf8').split(/^-{20,} /m);
  return chunks.flatMap((chunk) => {
    const m = /^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2}\.\d+)[\s\S]*?message received \[(\d+)\] bytes :\s*\n([\s\S]*)$/.exec(chunk);
    if (m === null) return [];
    return [{ at: Date.parse(`${m[1]}T${(m[2] ?? '').slice(0, 12)}`), bytes: Number(m[3]), text: m[4] ?? '' }];
  });
}
