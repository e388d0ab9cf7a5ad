import { describe, expect, it } from 'vitest';
import { buildIngestArgs, teeSpec } from '../../../src/pipeline/ingestArgs.js';
import { parseFfprobeJson, parseRate, type StreamInfo } from '../../../src/pipeline/streamInfo.js';

const h264: StreamInfo = { video: { codec: 'h264', width: 1280, height: 720, fps: 25, profile: 'Main' }, audio: null, format: 'rtsp' };
const transcode = { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 2000, gopSeconds: 1 };

function plan(info: StreamInfo) {
  return {
    inputUrl: 'rtsp://u:p@cam/1',
    rtspTransport: 'tcp' as const,
    socketTimeoutSeconds: 5,
    info,
    liveTargets: ['rtmp://127.0.0.1:1935/raw/1?sign=a', 'rtmp://127.0.0.1:1935/shared/1?sign=b'],
    liveTranscode: transcode,
  };
}

describe('buildIngestArgs', () => {
  it('copies H.264 without audio: one pull, no encoder, tee to both tiers', () => {
    const args = buildIngestArgs(plan(h264));
    expect(args.join(' ')).toContain('-rtsp_transport tcp -timeout 5000000');
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args).toEqual(expect.arrayContaining(['-c:v', 'copy']));
    expect(args).not.toContain('-c:a');
    expect(args).not.toContain('0:a:0');
    expect(args.at(-1)).toBe(teeSpec(plan(h264).liveTargets));
    expect(args).toEqual(expect.arrayContaining(['-progress', 'pipe:1', '-nostats']));
  });

  it('transcodes H.265 to H.264 for FLV with a fixed GOP from the camera fps', () => {
    const args = buildIngestArgs(plan({ ...h264, video: { ...h264.video, codec: 'hevc', fps: 20 } }));
    expect(args).toEqual(expect.arrayContaining(['-c:v', 'libx264', '-g', '20', '-keyint_min', '20', '-bf', '0', '-maxrate', '2000k']));
  });

  it('copies AAC and re-encodes G.711 to AAC', () => {
    const aac = buildIngestArgs(plan({ ...h264, audio: { codec: 'aac', sampleRate: 48000, channels: 1 } }));
    expect(aac).toEqual(expect.arrayContaining(['-map', '0:a:0', '-c:a', 'copy']));
    const alaw = buildIngestArgs(plan({ ...h264, audio: { codec: 'pcm_alaw', sampleRate: 8000, channels: 1 } }));
    expect(alaw).toEqual(expect.arrayContaining(['-c:a', 'aac']));
  });

  it('writes a live feed to fd 3 and names the instance in its options (a pipe URL has no query)', () => {
    const args = buildIngestArgs({ ...plan(h264), liveTargets: ['pipe:3'], liveMarker: 'psvgw=0123abcd' });
    expect(args.at(-1)).toBe('[f=flv:flvflags=no_duration_filesize:flush_packets=1:onfail=ignore:dump_separator=psvgw=0123abcd]pipe:3');
    expect(() => teeSpec(['pipe:3'], null, 'psvgw=a:b')).toThrow(/instance marker/);
  });

  it('refuses a plan with nowhere to publish', () => {
    expect(() => buildIngestArgs({ ...plan(h264), liveTargets: [] })).toThrow(/live target/);
  });
});

describe('recording output of the ingest', () => {
  const recording = { pattern: '/rec/1/.incoming/r1-%06d.ts', listFile: '/rec/1/.incoming/r1.csv', segmentSeconds: 60 };
  const segment =
    '[f=segment:segment_time=60:segment_format=mpegts:segment_format_options=flush_packets=1:segment_list=/rec/1/.incoming/r1.csv:segment_list_type=csv:onfail=ignore]/rec/1/.incoming/r1-%06d.ts';

  it('adds an MPEG-TS segment slave to the same tee: still one pull, copied', () => {
    const args = buildIngestArgs({ ...plan(h264), recording });
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args.at(-1)).toBe(`${teeSpec(plan(h264).liveTargets)}|${segment}`);
    expect(args).not.toContain('libx264');
  });

  it('records the original H.265 while the live tiers get H.264: the original is mapped again and copied', () => {
    const hevc = { ...h264, video: { ...h264.video, codec: 'hevc' }, audio: { codec: 'aac', sampleRate: 48000, channels: 1 } };
    const args = buildIngestArgs({ ...plan(hevc), recording });
    expect(args.join(' ')).toContain('-map 0:v:0 -c:v:1 copy -f tee');
    const tee = args.at(-1) ?? '';
    expect(tee).toContain("[select=\\'v:0,a\\':f=flv");
    expect(tee).toContain("[select=\\'v:1,a\\':f=segment:segment_time=60");
  });

  it('refuses a recordings path the tee muxer would misread', () => {
    expect(() => buildIngestArgs({ ...plan(h264), recording: { ...recording, pattern: '/rec:x/%06d.ts' } })).toThrow(/tee muxer/);
  });
});

describe("the camera's original video output of the ingest", () => {
  const hevc: StreamInfo = { ...h264, video: { ...h264.video, codec: 'hevc' }, audio: { codec: 'aac', sampleRate: 48000, channels: 1 } };
  const url = 'udp://127.0.0.1:40000?pkt_size=1316';
  const tap = "[select=\\'v:1\\':f=mpegts:onfail=ignore]udp://127.0.0.1:40000?pkt_size=1316";

  it('an H.265 camera: the original video, copied, goes to the loopback output as MPEG-TS from the same pull, without audio', () => {
    const args = buildIngestArgs({ ...plan(hevc), originalVideoUrl: url });
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args.join(' ')).toContain('-map 0:v:0 -c:v:1 copy -f tee');
    expect(args.at(-1)).toBe(`${teeSpec(plan(hevc).liveTargets, 'v:0,a')}|${tap}`);
  });

  it('next to the recording, both read the same copied original', () => {
    const recording = { pattern: '/rec/1/%06d.ts', listFile: '/rec/1/r.csv', segmentSeconds: 60 };
    const tee = buildIngestArgs({ ...plan(hevc), recording, originalVideoUrl: url }).at(-1) ?? '';
    expect(tee).toContain("[select=\\'v:1,a\\':f=segment");
    expect(tee.endsWith(`|${tap}`)).toBe(true);
  });

  it('a camera whose live tiers copy its video (H.264) has no such output: the tiers carry the original', () => {
    const args = buildIngestArgs({ ...plan(h264), originalVideoUrl: url });
    expect(args.at(-1)).toBe(teeSpec(plan(h264).liveTargets));
    expect(args.join(' ')).not.toContain('-c:v:1');
  });
});

describe('teeSpec', () => {
  it('escapes tee separators inside URLs and keeps one tier failing from killing the other', () => {
    expect(teeSpec(['rtmp://h/a?x=1|2'])).toBe('[f=flv:flvflags=no_duration_filesize:flush_packets=1:onfail=ignore]rtmp://h/a?x=1\\|2');
  });
});

describe('ffprobe output', () => {
  it('reads codecs, size, rate and audio', () => {
    const info = parseFfprobeJson(
      JSON.stringify({
        streams: [
          {
            codec_type: 'video',
            codec_name: 'hevc',
            width: 1920,
            height: 1080,
            avg_frame_rate: '0/0',
            r_frame_rate: '25/1',
            profile: 'Main',
          },
          { codec_type: 'audio', codec_name: 'pcm_alaw', sample_rate: '8000', channels: 1 },
        ],
        format: { format_name: 'rtsp' },
      }),
    );
    expect(info).toEqual({
      video: { codec: 'hevc', width: 1920, height: 1080, fps: 25, profile: 'Main' },
      audio: { codec: 'pcm_alaw', sampleRate: 8000, channels: 1 },
      format: 'rtsp',
    });
  });

  it('has no answer for a stream without video', () => {
    expect(parseFfprobeJson(JSON.stringify({ streams: [{ codec_type: 'audio', codec_name: 'aac' }] }))).toBeNull();
  });

  it.each([
    ['25/1', 25],
    ['30000/1001', 29.97],
    ['0/0', null],
    ['90000/1', null],
    [undefined, null],
  ])('rate %s → %s', (raw, fps) => {
    expect(parseRate(raw)).toBe(fps);
  });
});
