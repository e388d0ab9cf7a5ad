import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { FfmpegProcess } from '../../../src/pipeline/index.js';
import { LAZY_READ_MS } from '../../../src/pipeline/ffmpegProcess.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

const logger = createLogger({ level: 'silent' });
/** Three seconds of a test picture as FLV, the same bytes every time. */
const flvTo = (target: string) => [
  ...['-hide_banner', '-nostdin', '-nostats'],
  ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '3'],
  ...['-c:v', 'flv1', '-q:v', '5', '-fflags', '+bitexact', '-flags', '+bitexact', '-f', 'flv', target],
];

describe("ffmpeg's pipe:3 read into one reused buffer (onPipe3View)", () => {
  let dir: string;
  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-pipe3-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every byte ffmpeg writes, before the exit, each read in the same memory', async () => {
    // Written to a pipe too: into a file, ffmpeg goes back and fills in the duration.
    const file = join(dir, 'ref.flv');
    await promisify(execFile)('sh', ['-c', 'ffmpeg "$@" > "$0"', file, ...flvTo('pipe:1')]);
    const reference = readFileSync(file);
    const received: Buffer[] = [];
    const memories = new Set<ArrayBufferLike>();
    const proc = new FfmpegProcess({
      binary: 'ffmpeg',
      args: ['-progress', 'pipe:1', ...flvTo('pipe:3')],
      logger,
      onPipe3View: (view) => {
        memories.add(view.buffer);
        received.push(Buffer.from(view));
      },
    });
    let atExit = -1;
    proc.on('exit', () => (atExit = received.length));
    const exit = await proc.start();
    expect(exit.code, exit.stderrTail.join('\n')).toBe(0);
    expect(atExit).toBe(received.length);
    expect(Buffer.concat(received).equals(reference)).toBe(true);
    expect(received.length).toBeGreaterThan(10);
    expect(memories.size).toBe(1);
  });

  /** Runs ffmpeg writing `flvTo('pipe:3')` in real time, its FIFO read as `prompt` says; what it gave. */
  async function realTime(prompt: () => boolean) {
    const received: Buffer[] = [];
    const memories = new Set<ArrayBufferLike>();
    let reports = 0;
    const proc = new FfmpegProcess({
      binary: 'ffmpeg',
      args: ['-progress', 'pipe:1', '-re', ...flvTo('pipe:3').map((a) => a.replace('rate=25', 'rate=50'))],
      logger,
      onPipe3View: (view) => {
        memories.add(view.buffer);
        received.push(Buffer.from(view));
      },
      pipe3Prompt: prompt,
    });
    proc.on('progress', () => (reports += 1));
    let atExit = -1;
    proc.on('exit', () => (atExit = received.length));
    const exit = await proc.start();
    expect(exit.code, exit.stderrTail.join('\n')).toBe(0);
    expect(atExit).toBe(received.length);
    return { bytes: Buffer.concat(received), reads: received.length, memories: memories.size, reports };
  }

  it('reads an unwatched feed every LAZY_READ_MS, several packets a read, and gives the same bytes', async () => {
    const reference = await realTime(() => true);
    const lazy = await realTime(() => false);
    expect(lazy.bytes.equals(reference.bytes)).toBe(true);
    expect(lazy.memories).toBe(1);
    // 150 frames in 3 s: about a read per packet when prompt (a busy loop may take two in one), at most one a
    // tick (and the end) when not.
    expect(reference.reads).toBeGreaterThan(100);
    expect(lazy.reads).toBeLessThanOrEqual(Math.ceil(3500 / LAZY_READ_MS) + 5);
    // -progress comes through its own FIFO either way.
    expect(lazy.reports).toBeGreaterThan(0);
    expect(reference.reports).toBeGreaterThan(0);
  });

  it('keeps every byte in order when the feed turns watched and unwatched while it streams', async () => {
    const reference = await realTime(() => true);
    const started = Date.now();
    // Unwatched for the first second, watched for the next, unwatched again.
    const mixed = await realTime(() => Math.floor((Date.now() - started) / 1000) % 2 === 1);
    expect(mixed.bytes.equals(reference.bytes)).toBe(true);
  });

  it('spawns nothing when stopped before it started', async () => {
    let views = 0;
    const proc = new FfmpegProcess({ binary: 'ffmpeg', args: flvTo('pipe:3'), logger, onPipe3View: () => (views += 1) });
    let exits = 0;
    proc.on('exit', () => (exits += 1));
    const exited = proc.start();
    const stopped = await proc.stop();
    expect(exits).toBe(1);
    expect(stopped?.requested).toBe(true);
    expect(await exited).toBe(stopped);
    expect(proc.pid).toBeUndefined();
    expect(views).toBe(0);
  });
});
