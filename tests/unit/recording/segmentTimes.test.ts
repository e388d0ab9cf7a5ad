import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Recorder } from '../../../src/recording/index.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { NOW, recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

const retention = { days: 30, profile: 'strict', rule: 'profile' as const, article: 'strict: qingdao-2020 Art. 19(7)' };

/** Two real 2-second MPEG-TS segments and ffmpeg's CSV list of them, written by ffmpeg's segment muxer. */
function makeSegments(dir: string): { names: string[]; list: string } {
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '4'],
    ...['-c:v', 'libx264', '-g', '10', '-f', 'segment', '-segment_time', '2', '-segment_format', 'mpegts'],
    ...['-segment_list', join(dir, 'list.csv'), '-segment_list_type', 'csv', join(dir, 'seg-%06d.ts')],
  ]);
  return {
    names: readdirSync(dir)
      .filter((n) => n.endsWith('.ts'))
      .sort(),
    list: readFileSync(join(dir, 'list.csv'), 'utf8'),
  };
}

describe('segment times come from the stream, anchored to the wall clock when the segment opened', () => {
  let f: Fixture;
  let work: string;
  let recorder: Recorder;

  beforeEach(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    f = await recordingFixture();
    work = mkdtempSync(join(tmpdir(), 'psvgw-segtimes-'));
  });
  afterEach(async () => {
    await recorder.close();
    await f.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  /** A recorder on the fixture's store and clock, polling every 50 ms. */
  const newRecorder = (extra: Partial<ConstructorParameters<typeof Recorder>[0]>) =>
    new Recorder({
      dir: f.dir,
      segmentSeconds: 2,
      ffprobePath: 'ffprobe',
      store: f.store,
      ledger: f.ledger,
      logger: f.logger,
      pollMs: 50,
      clock: () => f.clock.now,
      ...extra,
    });

  it('ignores a changed file modification time', async () => {
    const made = makeSegments(work);
    expect(made.names).toHaveLength(2);
    recorder = newRecorder({ retention: () => retention });
    await recorder.start();
    const out = recorder.prepareRun(f.cam.id);
    if (out === null) throw new Error('the recorder gave no segment output');
    // The segments arrive as the ingest's would, each with its modification time set to 2001.
    const target = (i: number) => out.pattern.replace('%06d', String(i).padStart(6, '0'));
    const old = new Date('2001-01-01T00:00:00Z');
    made.names.forEach((name, i) => {
      renameSync(join(work, name), target(i));
      utimesSync(target(i), old, old);
    });
    // ffmpeg's list names the files it wrote; rewritten for the run's names, written whole.
    const list = made.names.reduce((text, name, i) => text.replaceAll(name, basename(target(i))), made.list);
    writeFileSync(`${out.listFile}.tmp`, list);
    renameSync(`${out.listFile}.tmp`, out.listFile);
    expect(dirname(out.listFile)).toBe(dirname(target(0)));

    const segments = await vi.waitFor(
      async () => {
        const entries = await f.store.recordings.entries({ cameraId: f.cam.id, kind: 'segment' });
        if (entries.length < 2) throw new Error(`${entries.length} of 2 segments indexed`);
        return entries;
      },
      { timeout: 30_000, interval: 100 },
    );
    const [first, second] = segments;
    const [start0, end0, start1] = list
      .trim()
      .split('\n')
      .flatMap((line) => line.split(',').slice(1).map(Number));
    // The wall clock stood at NOW when the run began and its first file appeared.
    expect(first?.startMs).toBe(NOW);
    expect(first?.endMs).toBe(NOW + Math.round(((end0 ?? 0) - (start0 ?? 0)) * 1000));
    expect(second?.startMs).toBe(NOW + Math.round(((start1 ?? 0) - (start0 ?? 0)) * 1000));
    // The retention in force is written into each entry (covered by its hash).
    for (const s of segments) expect(s.detail).toEqual({ retention });
  });

  it('after a crash, a restart anchors the leftovers of a run where the crashed process had anchored it', async () => {
    const made = makeSegments(work);
    // What a process killed after indexing the run's first segment leaves in .incoming: the
    // list, the second segment (mtime 2001) and the wall clock at which the first one opened.
    const runId = `r${NOW - 3_600_000}-1`;
    const anchorMs = NOW - 3_590_000;
    const incoming = join(f.dir, f.cam.id, '.incoming');
    mkdirSync(incoming, { recursive: true });
    const names = made.names.map((_, i) => `${runId}-${String(i).padStart(6, '0')}.ts`);
    renameSync(join(work, made.names[1] ?? ''), join(incoming, names[1] ?? ''));
    utimesSync(join(incoming, names[1] ?? ''), new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'));
    const list = made.names.reduce((text, name, i) => text.replaceAll(name, names[i] ?? ''), made.list);
    writeFileSync(join(incoming, `${runId}.csv`), list);
    writeFileSync(join(incoming, `${runId}.anchor`), String(anchorMs));

    recorder = newRecorder({});
    await recorder.start();
    const [start0, , start1] = list
      .trim()
      .split('\n')
      .flatMap((line) => line.split(',').slice(1).map(Number));
    const [second] = await f.store.recordings.entries({ cameraId: f.cam.id, kind: 'segment' });
    expect(second?.startMs).toBe(anchorMs + Math.round(((start1 ?? 0) - (start0 ?? 0)) * 1000));
    expect(second?.detail).toEqual({ recovered: true });
    expect(readdirSync(incoming)).toEqual([]);
  });
});
