import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildIngestArgs } from '../../../src/pipeline/ingestArgs.js';
import {
  DEMO_FONTS,
  DEMO_SOURCE_URL,
  DEMO_STREAM_INFO,
  demoInputArgs,
  findDemoFont,
  isDemoSource,
} from '../../../src/pipeline/demoSource.js';

const transcode = { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 2000, gopSeconds: 1 };
const recording = { pattern: '/data/rec/1/.incoming/r-%06d.ts', listFile: '/data/rec/1/.incoming/r.csv', segmentSeconds: 4 };

function demoPlan(font: string | null) {
  return {
    inputUrl: DEMO_SOURCE_URL,
    rtspTransport: 'tcp' as const,
    socketTimeoutSeconds: 5,
    info: DEMO_STREAM_INFO,
    liveTargets: ['rtmp://127.0.0.1:1935/raw/1?sign=a'],
    liveTranscode: transcode,
    recording,
    demoFont: font,
  };
}

describe('demo source', () => {
  it('is recognised by its URL only', () => {
    expect(isDemoSource(DEMO_SOURCE_URL)).toBe(true);
    expect(isDemoSource('rtsp://cam/1')).toBe(false);
  });

  it('reads testsrc2 at real time through lavfi, no RTSP options, and encodes H.264 with a 2 s GOP', () => {
    const args = buildIngestArgs(demoPlan(null));
    expect(args.join(' ')).toContain('-re -f lavfi -i testsrc2=size=640x360:rate=25');
    expect(args).not.toContain('-rtsp_transport');
    expect(args).not.toContain(DEMO_SOURCE_URL);
    expect(args).toEqual(expect.arrayContaining(['-c:v', 'libx264', '-g', '50', '-keyint_min', '50', '-bf', '0', '-maxrate', '2000k']));
    expect(args).not.toEqual(expect.arrayContaining(['-c:v', 'copy']));
    // The recording takes the encoded stream: no second, copied map of raw pictures.
    expect(args.filter((a) => a === '-map')).toHaveLength(1);
    expect(args.at(-1)).toContain('f=segment');
  });

  it('draws a clock with a font, and none without', () => {
    expect(demoInputArgs('/usr/share/fonts/x.ttf').at(-1)).toContain(
      "drawtext=fontfile=/usr/share/fonts/x.ttf:text='psv-gateway demo %{localtime}",
    );
    expect(demoInputArgs(null).at(-1)).not.toContain('drawtext');
    expect(() => demoInputArgs("/fonts/a:b's.ttf")).toThrow(/cannot take/);
  });

  it('finds the first font present, or none', () => {
    expect(findDemoFont(['/nonexistent/a.ttf'])).toBeNull();
    expect(findDemoFont(['/nonexistent/a.ttf', process.execPath])).toBe(process.execPath);
  });

  it("ffmpeg accepts the demo's input and encoder argv, with the clock when a font is installed", () => {
    const font = findDemoFont(DEMO_FONTS);
    const args = buildIngestArgs(demoPlan(font));
    const input = args.slice(args.indexOf('-re'), args.indexOf('-f', args.indexOf('-map')));
    const out = execFileSync(
      'ffmpeg',
      ['-hide_banner', '-loglevel', 'error', ...input.filter((a) => a !== '-re'), '-frames:v', '3', '-f', 'null', '-'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(out).toBe('');
  });
});
