/**
 * Readable log lines for a person at a terminal: pino's JSON record turned into
 * `12:04:05.123 WARN  stream down  camera=cam-1 cause=stalled`, with an error's stack
 * indented below. Collectors keep getting JSON (see `logging.format`).
 */

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '\x1b[90m' },
  20: { name: 'DEBUG', color: '\x1b[36m' },
  30: { name: 'INFO', color: '\x1b[32m' },
  40: { name: 'WARN', color: '\x1b[33m' },
  50: { name: 'ERROR', color: '\x1b[31m' },
  60: { name: 'FATAL', color: '\x1b[35m' },
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Fields every record has, shown in the line's head or not at all. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'svc']);

export interface PrettyOptions {
  color: boolean;
}

/** A value as `key=value` shows it: bare when it has no spaces, quoted or compact JSON otherwise. */
function showValue(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

function clock(time: unknown): string {
  const d = new Date(typeof time === 'string' || typeof time === 'number' ? time : Date.now());
  return Number.isNaN(d.getTime()) ? String(time) : d.toISOString().slice(11, 23);
}

/** One JSON log line → one readable line (plus an error's stack); a line that is not JSON passes as is. */
export function prettyLine(line: string, opts: PrettyOptions): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line.endsWith('\n') ? line : `${line}\n`;
    rec = parsed as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVELS[Number(rec.level)] ?? { name: String(rec.level ?? '?').toUpperCase(), color: '' };
  const paint = (code: string, s: string) => (opts.color && code !== '' ? `${code}${s}${RESET}` : s);
  let stack: string | null = null;
  const fields: string[] = [];
  for (const [key, value] of Object.entries(rec)) {
    if (HEAD_FIELDS.has(key)) continue;
    if (key === 'err' && value !== null && typeof value === 'object') {
      const err = value as { message?: unknown; stack?: unknown };
      fields.push(`err=${showValue(err.message ?? value)}`);
      if (typeof err.stack === 'string') stack = err.stack;
      continue;
    }
    fields.push(`${key}=${showValue(value)}`);
  }
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const head = `${paint(DIM, clock(rec.time))} ${paint(level.color, level.name.padEnd(5))} ${msg}`;
  const body = fields.length === 0 ? head : `${head}  ${paint(DIM, fields.join(' '))}`;
  const tail = stack === null ? '' : `\n${stack.replace(/^/gm, '    ')}`;
  return `${body}${tail}\n`;
}

/** A pino destination that writes readable lines to `out`. */
export function prettyDestination(out: NodeJS.WritableStream, opts: PrettyOptions): { write(chunk: string): boolean } {
  return {
    write: (chunk: string) =>
      out.write(
        chunk
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => prettyLine(l, opts))
          .join(''),
      ),
  };
}
