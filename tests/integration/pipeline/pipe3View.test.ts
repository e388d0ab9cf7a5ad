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

  /** Runs ffmpeg writing `flvTo('pipe:3')` in real time (or `args`), its FIFO read as `prompt` says; what it gave. */
  async function realTime(prompt: () => boolean, args = ['-re', ...flvTo('pipe:3').map((a) => a.replace('rate=25', 'rate=50'))]) {
    const received: Buffer[] = [];
    const memories = new Set<ArrayBufferLike>();
    let reports = 0;
    const started = performance.now();
    const proc = new FfmpegProcess({
      binary: 'ffmpeg',
      args: ['-progress', 'pipe:1', ...args],
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
    return { bytes: Buffer.concat(received), reads: received.length, memories: memories.size, reports, ms: performance.now() - started };
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

  /**
   * An FLV file of `seconds` of 640x360 at `fps` (flv1, one keyframe a second, bit-exact): `noise` static
   * (the same grain every frame: large keyframes, small frames between) or temporal (every frame large, about 4 MB/s at 50 fps).
   */
  async function noiseFile(name: string, noise: 'static' | 'temporal', fps: number, seconds: number): Promise<string> {
    const file = join(dir, name);
    const [grain, quality] = noise === 'static' ? ['noise=alls=80', '2'] : ['noise=alls=80:allf=t', '6'];
    await promisify(execFile)('ffmpeg', [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi'],
      ...['-i', `testsrc=size=640x360:rate=${fps},${grain}`, '-t', String(seconds)],
      ...['-c:v', 'flv1', '-q:v', quality, '-g', String(fps), '-fflags', '+bitexact', '-flags', '+bitexact', '-y', file],
    ]);
    return file;
  }

  /** The file's video packets: the largest keyframe and the mean bytes per second. */
  async function packets(file: string): Promise<{ maxKeyframe: number; bytesPerSecond: number }> {
    const { stdout } = await promisify(execFile)('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=size,flags,pts_time', '-of', 'csv=p=0', file],
    ]);
    const rows = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const keyframes = rows.filter((r) => r[2]?.includes('K')).map((r) => Number(r[1]));
    const total = rows.reduce((sum, r) => sum + Number(r[1]), 0);
    const seconds = Number(rows.at(-1)?.[0]) - Number(rows[0]?.[0]);
    return { maxKeyframe: Math.max(...keyframes), bytesPerSecond: total / seconds };
  }

  const copyTo = (file: string, realTime: boolean) => [
    ...(realTime ? ['-re'] : []),
    ...[
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-i',
      file,
      '-c',
      'copy',
      '-fflags',
      '+bitexact',
      '-flags',
      '+bitexact',
      '-f',
      'flv',
      'pipe:3',
    ],
  ];
  /** What an unwatched feed read for `ms` is read in at most: a read a tick, and the end. */
  const lazyReads = (ms: number) => Math.ceil(ms / LAZY_READ_MS) + 5;

  it('stays unwatched through keyframes larger than the pipe, read a tick at a time', { timeout: 60_000 }, async () => {
    // Past the run's first 5 s, whose bursts are not counted, the keyframes fill the pipe for a few reads each.
    const seconds = 12;
    const file = await noiseFile('keyframes.flv', 'static', 50, seconds);
    const sizes = await packets(file);
    expect(sizes.maxKeyframe, 'keyframes larger than the 64 KiB pipe').toBeGreaterThan(64 << 10);
    expect(sizes.bytesPerSecond, 'on average within what a read a tick carries').toBeLessThan(((40 << 10) * 1000) / LAZY_READ_MS);
    const reference = await realTime(() => true, copyTo(file, false));
    const lazy = await realTime(() => false, copyTo(file, true));
    expect(lazy.bytes.equals(reference.bytes)).toBe(true);
    // A tick that finds the pipe full reads it again until it is empty: a few reads more per keyframe.
    const perKeyframe = Math.ceil(sizes.maxKeyframe / (64 << 10)) + 1;
    expect(lazy.reads).toBeLessThanOrEqual(lazyReads(lazy.ms) + seconds * perKeyframe);
  });

  it(
    'reads on each write, for good, a feed faster than a read a tick can carry, so ffmpeg keeps real time',
    { timeout: 90_000 },
    async () => {
      const seconds = 9;
      const file = await noiseFile('fast.flv', 'temporal', 50, seconds);
      const sizes = await packets(file);
      // A read a tick carries at most the pipe's 64 KiB: 1.3 MB/s.
      expect(sizes.bytesPerSecond, 'faster than the pipe drained once a tick').toBeGreaterThan(((64 << 10) * 1000 * 2.5) / LAZY_READ_MS);
      const reference = await realTime(() => true, copyTo(file, false));
      const lazy = await realTime(() => false, copyTo(file, true));
      expect(lazy.bytes.equals(reference.bytes)).toBe(true);
      expect(lazy.reads).toBeGreaterThan(lazyReads(lazy.ms));
      // Read a tick at a time throughout, it would take 2.5 times as long or more.
      expect(lazy.ms).toBeLessThan(seconds * 1000 * 1.6);
    },
  );

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
