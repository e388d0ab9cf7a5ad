/** sipp (Debian's sip-tester) playing a GB/T 28181 upper platform, what its trace shows, and the go of a waiting scenario. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
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

export interface SippTraceEntry {
  at: number;
  sent: boolean;
  bytes: number;
  /** The SIP message: first line, headers, body. */
  text: string;
}

/** What sipp sent and received, from its -trace_msg file ("message received [n] bytes :", "message sent (n bytes):"). */
export function sippTrace(file: string): SippTraceEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/^-{20,} /m)
    .flatMap((chunk) => {
      const m =
        /^(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2}\.\d+)[\s\S]*?message (sent|received) [[(](\d+)[\])]? bytes[^\n]*\n([\s\S]*)$/.exec(
          chunk,
        );
      if (m === null) return [];
      return [
        { at: Date.parse(`${m[1]}T${(m[2] ?? '').slice(0, 12)}`), sent: m[3] === 'sent', bytes: Number(m[4]), text: (m[5] ?? '').trim() },
      ];
    });
}

/**
 * The go of a scenario that waits for the test (an OPTIONS in the REGISTER's Call-ID, so
 * sipp takes it as part of that call): its Subject carries what the scenario reads with ereg.
 * The Call-ID is given, or read from the REGISTER in sipp's trace.
 */
export async function sendSippGo(
  o: { sippPort: number; subject: string; viaPort: number } & ({ traceFile: string } | { callId: string }),
): Promise<void> {
  const register = 'callId' in o ? undefined : sippTrace(o.traceFile).find((m) => !m.sent && m.text.startsWith('REGISTER '));
  const callId = 'callId' in o ? o.callId || undefined : /^Call-ID:\s*(.+)$/im.exec(register?.text ?? '')?.[1]?.trim();
  if (callId === undefined) throw new Error('sipp has not seen the REGISTER: no call to send the go in');
  const go = [
    `OPTIONS sip:34020000002000000001@127.0.0.1:${o.sippPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.viaPort};branch=z9hG4bKgo1`,
    'From: <sip:test@127.0.0.1>;tag=go',
    'To: <sip:34020000002000000001@3402000000>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    `Subject: ${o.subject}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.send(go, o.sippPort, '127.0.0.1', () => resolve()));
  socket.close();
}

/** Messages sipp received, with their time and size. */
export function received(s: Sipp): { at: number; bytes: number; text: string }[] {
  return sippTrace(s.trace)
    .filter((m) => !m.sent)
    .map(({ at, bytes, text }) => ({ at, bytes, text }));
}
