import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GatewayLog, LineBuffer, parseLogLine } from '../../../bench/launcher.js';

describe('LineBuffer', () => {
  it('keeps a line split across chunks until its newline arrives', () => {
    const b = new LineBuffer();
    expect(b.push('{"level":50,"msg":"disk ')).toEqual([]);
    expect(b.push('full"}\n')).toEqual(['{"level":50,"msg":"disk full"}']);
  });

  it('hands out every line of a chunk, and the rest with the next chunk', () => {
    const b = new LineBuffer();
    expect(b.push('one\ntwo\r\n\nthr')).toEqual(['one', 'two']);
    expect(b.push('ee\nfour')).toEqual(['three']);
    expect(b.flush()).toEqual(['four']);
    expect(b.flush()).toEqual([]);
  });

  it('does not buffer an endless line forever', () => {
    const b = new LineBuffer(8);
    expect(b.push('0123456789')).toEqual(['0123456789']);
    expect(b.push('ab\n')).toEqual(['ab']);
  });
});

describe('parseLogLine', () => {
  it('parses pino JSON lines and nothing else', () => {
    expect(parseLogLine('{"level":30,"msg":"psv-gateway ready"}')).toEqual({ level: 30, msg: 'psv-gateway ready' });
    expect(parseLogLine('plain text')).toBeNull();
    expect(parseLogLine('{"cut":')).toBeNull();
    expect(parseLogLine('[1]')).toBeNull();
  });
});

describe('GatewayLog', () => {
  function attached() {
    const log = new GatewayLog();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    log.attach(stdout);
    log.attach(stderr);
    return { log, stdout, stderr };
  }

  it('finds a line that arrived split across chunks, with its JSON', async () => {
    const { log, stdout } = attached();
    const waiting = log.waitFor((_line, e) => String(e?.msg).startsWith('disk full'), 1000);
    stdout.write('{"level":30,"msg":"a"}\n{"level":50,"ms');
    stdout.write('g":"disk full: 0 MB free"}\n');
    const hit = await waiting;
    expect(hit.entry).toMatchObject({ level: 50 });
    expect(hit.index).toBe(1);
    expect(log.lines).toEqual(['{"level":30,"msg":"a"}', '{"level":50,"msg":"disk full: 0 MB free"}']);
  });

  it('keeps stdout and stderr lines apart when both are mid-line', async () => {
    const { log, stdout, stderr } = attached();
    stdout.write('out-');
    stderr.write('err-');
    stdout.write('line\n');
    stderr.write('line\n');
    await new Promise((r) => setImmediate(r));
    expect(log.lines).toEqual(['out-line', 'err-line']);
  });

  it('answers at once with a line already seen, from a given line on', async () => {
    const { log, stdout } = attached();
    stdout.write('ready\nstate live\nready\n');
    await new Promise((r) => setImmediate(r));
    expect((await log.waitFor(/ready/, 10)).index).toBe(0);
    expect((await log.waitFor(/ready/, 10, 1)).index).toBe(2);
    expect((await log.waitFor(/ready/, 10, 1)).elapsedMs).toBe(0);
  });

  it('rejects on the deadline, and when the output ends without the line', async () => {
    const { log, stdout } = attached();
    stdout.write('something else\n');
    await expect(log.waitFor(/never/, 50)).rejects.toThrow(/timed out after 50 ms.*\n[\s\S]*something else/);
    const pending = log.waitFor(/never/, 5000);
    log.end('the gateway exited (1)');
    await expect(pending).rejects.toThrow(/the gateway exited \(1\) without a log line/);
    await expect(log.waitFor(/never/, 5000)).rejects.toThrow(/exited/);
  });

  it('counts lines it no longer keeps', () => {
    const log = new GatewayLog(2);
    for (const l of ['a', 'b', 'c']) log.push(l);
    expect(log.lines).toEqual(['b', 'c']);
    expect(log.count).toBe(3);
    expect(log.find(/c/)?.index).toBe(2);
  });
});
