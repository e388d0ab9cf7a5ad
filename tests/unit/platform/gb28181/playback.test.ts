import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../../src/domain/index.js';
import { mansrtspAnswer, MansrtspError, parseMansrtsp } from '../../../../src/platform/gb28181/manscdp/mansrtsp.js';
import { buildMediaStatusNotify } from '../../../../src/platform/gb28181/manscdp/response.js';
import {
  gbLocalTime,
  offerRange,
  parseGbLocalTime,
  playbackReaderArgs,
  recordedFootage,
  recordedRuns,
} from '../../../../src/platform/gb28181/playback.js';

const ENCODER = { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 2000, gopSeconds: 1 };

describe('MANSRTSP in INFO', () => {
  it('reads PLAY with a seek and a scale, PAUSE and TEARDOWN', () => {
    expect(parseMansrtsp('PLAY RTSP/1.0\r\nCSeq: 5\r\nRange: npt=12.5-\r\n\r\n')).toEqual({ method: 'PLAY', cseq: 5, seekSeconds: 12.5 });
    expect(parseMansrtsp('PLAY RTSP/1.0\r\nCSeq: 6\r\nRange: npt=now-\r\n')).toEqual({ method: 'PLAY', cseq: 6 });
    expect(parseMansrtsp(Buffer.from('PLAY RTSP/1.0\nCSeq: 7\nScale: 2.0\n'))).toEqual({ method: 'PLAY', cseq: 7, scale: 2 });
    expect(parseMansrtsp('PAUSE RTSP/1.0\r\nCSeq: 8\r\nPauseTime: now\r\n')).toEqual({ method: 'PAUSE', cseq: 8 });
    expect(parseMansrtsp('TEARDOWN RTSP/1.0\r\nCSeq: 9\r\n')).toEqual({ method: 'TEARDOWN', cseq: 9 });
  });

  it('refuses malformed requests with the RTSP status to answer', () => {
    const refusal = (body: string) => {
      try {
        parseMansrtsp(body);
      } catch (err) {
        if (err instanceof MansrtspError) return [err.status, err.cseq];
        throw err;
      }
      return 'accepted';
    };
    expect(refusal('PLAY HTTP/1.1\r\nCSeq: 1\r\n')).toEqual([400, 1]);
    expect(refusal('PLAY RTSP/1.0\r\n')).toEqual([400, undefined]);
    expect(refusal('RECORD RTSP/1.0\r\nCSeq: 2\r\n')).toEqual([405, 2]);
    expect(refusal('PLAY RTSP/1.0\r\nCSeq: 3\r\nScale: 3\r\n')).toEqual([400, 3]);
    expect(refusal('PLAY RTSP/1.0\r\nCSeq: 4\r\nRange: clock=20261205T080000Z-\r\n')).toEqual([457, 4]);
    expect(refusal('')).toEqual([400, undefined]);
  });

  it('answers RTSP/1.0 with the CSeq', () => {
    expect(mansrtspAnswer(200, 5)).toBe('RTSP/1.0 200 OK\r\nCSeq: 5\r\n\r\n');
    expect(mansrtspAnswer(457, 4)).toBe('RTSP/1.0 457 Invalid Range\r\nCSeq: 4\r\n\r\n');
  });
});

describe('recorded footage for RecordInfo and playback', () => {
  it('joins adjacent segments into runs; a hole or a cut-short segment starts a new run', () => {
    const seg = (startMs: number, endMs: number, partial = false) => ({ startMs, endMs, partial });
    expect(recordedRuns([])).toEqual([]);
    expect(recordedRuns([seg(0, 2000), seg(2040, 4000), seg(4000, 6000)])).toEqual([{ startMs: 0, endMs: 6000 }]);
    expect(recordedRuns([seg(0, 2000), seg(2000, 3000, true), seg(3100, 5000), seg(9000, 11_000)])).toEqual([
      { startMs: 0, endMs: 3000 },
      { startMs: 3100, endMs: 5000 },
      { startMs: 9000, endMs: 11_000 },
    ]);
  });

  it('writes and reads MANSCDP local times, refusing anything else', () => {
    const ms = new Date(2026, 11, 5, 8, 3, 9).getTime();
    expect(gbLocalTime(ms)).toBe('2026-12-05T08:03:09');
    expect(parseGbLocalTime('2026-12-05T08:03:09')).toBe(ms);
    expect(parseGbLocalTime('2026-12-05 08:03:09')).toBe(ms);
    expect(() => parseGbLocalTime('2026-02-30T00:00:00')).toThrow(/calendar/);
    expect(() => parseGbLocalTime('yesterday')).toThrow(/YYYY-MM-DD/);
  });

  it('takes t= in Unix or NTP seconds and refuses an empty range', () => {
    expect(offerRange({ start: 1_765_000_000, stop: 1_765_000_060 })).toEqual({ fromMs: 1_765_000_000_000, toMs: 1_765_000_060_000 });
    expect(offerRange({ start: 1_765_000_000 + 2_208_988_800, stop: 1_765_000_060 + 2_208_988_800 })).toEqual({
      fromMs: 1_765_000_000_000,
      toMs: 1_765_000_060_000,
    });
    expect(() => offerRange({ start: 0, stop: 0 })).toThrow(/start before its end/);
    expect(() => offerRange({ start: 1_765_000_060, stop: 1_765_000_000 })).toThrow(/start before its end/);
  });

  it('reads the joined segments from the offset, masks them with the planned graph and writes H.264 Annex-B to stdout', () => {
    const plan = {
      listFile: '/w/segments.txt',
      cut: { offsetSeconds: 1.5, durationSeconds: 20 },
      imageFiles: ['/w/mask-0.pgm'],
      filterComplex: '[0:v]…[masked]',
      fps: 25,
      encoder: ENCODER,
    };
    const args = playbackReaderArgs(plan, 4);
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args.slice(args.indexOf('-ss'), args.indexOf('-ss') + 10)).toEqual([
      ...['-ss', '5.500', '-t', '16.000', '-f', 'concat', '-safe', '0', '-i', '/w/segments.txt'],
    ]);
    expect(args).toEqual(expect.arrayContaining(['-loop', '1', '-framerate', '25', '-i', '/w/mask-0.pgm']));
    expect(at('-filter_complex')).toBe(plan.filterComplex);
    expect(at('-map')).toBe('[masked]');
    expect(at('-c:v')).toBe('libx264');
    expect(at('-g')).toBe('25');
    expect(args.slice(-3)).toEqual(['-f', 'h264', 'pipe:1']);
    // Past the end: nothing left to read rather than a negative duration.
    const past = playbackReaderArgs(plan, 30);
    expect(past[past.indexOf('-t') + 1]).toBe('0.000');
  });

  it('writes MediaStatus 121', () => {
    const body = buildMediaStatusNotify({ sn: 7, deviceId: '34020000001320000001' }, { charset: 'UTF-8' }).toString('utf8');
    expect(body).toContain('<Notify>');
    expect(body).toContain('<CmdType>MediaStatus</CmdType>');
    expect(body).toContain('<NotifyType>121</NotifyType>');
  });
});

describe('recordedFootage', () => {
  const entry = (seq: number, startMs: number, endMs: number, extra: Partial<ChainEntry> = {}): ChainEntry =>
    ({
      cameraId: 'c1',
      seq,
      kind: 'segment',
      path: `c1/day/${seq}.ts`,
      startMs,
      endMs,
      partial: false,
      deletedAt: null,
      ...extra,
    }) as ChainEntry;

  it("joins the range's live segments, plans the camera's current masks on the recording's picture, with the camera's encoder; close removes the work files", async () => {
    const work = mkdtempSync(join(tmpdir(), 'psvgw-footage-test-'));
    try {
      const footage = recordedFootage({
        entries: () =>
          Promise.resolve([entry(1, 0, 2000), entry(2, 2000, 4000, { deletedAt: '2026-12-05T00:00:00Z' }), entry(3, 4000, 6000)]),
        recordingsDir: '/rec',
        camera: (_id, first) => {
          expect(first).toBe('/rec/c1/day/1.ts');
          return Promise.resolve({
            masks: [{ shape: 'rect', x: 0.1, y: 0.1, w: 0.2, h: 0.2, mode: 'fill' }] as never,
            width: 320,
            height: 180,
            fps: 25,
            encoder: { preset: 'ultrafast' },
          });
        },
        encoder: ENCODER,
        workDir: work,
      });
      expect((await footage.segments('c1', 1000, 5000)).map((s) => s.seq)).toEqual([1, 3]);
      const reading = (await footage.open('c1', 1000, 5000))!;
      expect(reading).toMatchObject({ coveredFromMs: 1000, coveredToMs: 5000, durationSeconds: 2, fps: 25, width: 320, height: 180 });
      const args = reading.args(0);
      const list = args[args.indexOf('concat') + 4]!;
      expect(readFileSync(list, 'utf8')).toBe("file '/rec/c1/day/1.ts'\nfile '/rec/c1/day/3.ts'\n");
      const mask = args[args.indexOf('-loop') + 5]!;
      expect(readFileSync(mask).subarray(0, 2).toString()).toBe('P5');
      expect(args[args.indexOf('-preset') + 1]).toBe('ultrafast');
      expect(args[args.indexOf('-filter_complex') + 1]).toContain('drawbox');
      await reading.close();
      expect(existsSync(dirname(list))).toBe(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('opens nothing for a range without a recording', async () => {
    const footage = recordedFootage({
      entries: () => Promise.resolve([entry(1, 0, 2000)]),
      recordingsDir: '/rec',
      camera: () => Promise.reject(new Error('not asked')),
      encoder: ENCODER,
    });
    expect(await footage.open('c1', 5000, 9000)).toBeNull();
  });
});
