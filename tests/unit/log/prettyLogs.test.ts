import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { prettyLine } from '../../../src/logFormat.js';

function capture(isTTY: boolean): { out: PassThrough & { isTTY?: boolean }; text: () => string } {
  const out: PassThrough & { isTTY?: boolean } = new PassThrough();
  if (isTTY) out.isTTY = true;
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('readable log lines', () => {
  it('turns a record into time, level, message and key=value fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-12-05T12:04:05.123Z',
      pid: 1,
      svc: 'psvgw',
      msg: 'stream down',
      camera: 'cam-1',
      cause: 'stalled',
      detail: 'no frame for 3 s',
      n: 2,
      obj: { a: 1 },
    });
    expect(prettyLine(line, { color: false })).toBe(
      '12:04:05.123 WARN  stream down  camera=cam-1 cause=stalled detail="no frame for 3 s" n=2 obj={"a":1}\n',
    );
  });

  it('shows an error by its message with the stack indented below', () => {
    const line = JSON.stringify({ level: 50, time: 0, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' } });
    expect(prettyLine(line, { color: false })).toBe('00:00:00.000 ERROR failed  err=boom\n    Error: boom\n        at x (y.js:1:1)\n');
  });

  it('passes a line that is not JSON as it is', () => {
    expect(prettyLine('plain text', { color: false })).toBe('plain text\n');
  });

  it('colours the level only on request', () => {
    const line = JSON.stringify({ level: 30, time: 0, msg: 'hi' });
    expect(prettyLine(line, { color: true })).toContain('\x1b[32mINFO ');
    expect(prettyLine(line, { color: false })).not.toContain('\x1b[');
  });

  it('auto: JSON to a pipe, readable lines to a terminal, secrets redacted either way', async () => {
    const pipe = capture(false);
    createLogger({ destination: pipe.out }).info({ password: 'hunter2', camera: 'c1' }, 'started');
    const tty = capture(true);
    createLogger({ destination: tty.out }).info({ password: 'hunter2', camera: 'c1' }, 'started');
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(pipe.text())).toMatchObject({ msg: 'started', camera: 'c1', password: '[redacted]' });
    expect(tty.text()).toMatch(/^\S+ .*INFO.* started {2}/);
    expect(tty.text()).toContain('password=[redacted] camera=c1');
    expect(tty.text()).not.toContain('hunter2');
  });

  it('json and pretty can be forced whatever the output', async () => {
    const tty = capture(true);
    createLogger({ destination: tty.out, format: 'json' }).warn('x');
    const pipe = capture(false);
    createLogger({ destination: pipe.out, format: 'pretty' }).warn('y');
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(tty.text())).toMatchObject({ msg: 'x', level: 40 });
    expect(pipe.text()).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} WARN {2}y\n$/);
  });
});
