import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnnexBSplitter, type AccessUnit, type VideoCodec } from '../../../../src/platform/gb28181/media/annexb.js';
import { splitAdtsFrames } from '../../../../src/platform/gb28181/media/adts.js';
import { PsMuxer } from '../../../../src/platform/gb28181/media/psMuxer.js';
import {
  frameRfc4571,
  parseRtpPacket,
  Rfc4571Deframer,
  RtpDepacketizer,
  RtpPacketizer,
} from '../../../../src/platform/gb28181/media/rtp.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../../helpers/media.js';

const SSRC = 100_001_234;

interface Probe {
  format: { format_name: string };
  streams: { codec_name: string; width: number; height: number; r_frame_rate: string; avg_frame_rate: string; nb_read_frames: string }[];
}

const tool = (name: string, args: string[]) => execFileSync(name, ['-hide_banner', '-v', 'error', ...args], { maxBuffer: 64 << 20 });

/**
 * A 2 s 320x240 25 fps clip from ffmpeg, as an Annex-B elementary stream (what `-f h264|hevc`
 * writes) and the 90 kHz PTS/DTS of its frames in decode order (read from the MP4 it came from).
 */
function makeClip(dir: string, codec: VideoCodec): { stream: Buffer; times: { pts: number; dts: number }[] } {
  const mp4 = join(dir, `${codec}.mp4`);
  const encoder = codec === 'h264' ? ['-c:v', 'libx264'] : ['-c:v', 'libx265', '-x265-params', 'log-level=error'];
  tool('ffmpeg', ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '2', ...encoder, '-y', mp4]);
  const bsf = codec === 'h264' ? 'h264_mp4toannexb' : 'hevc_mp4toannexb';
  const stream = tool('ffmpeg', ['-i', mp4, '-c', 'copy', '-bsf:v', bsf, '-f', codec === 'h264' ? 'h264' : 'hevc', '-']);
  const probe = JSON.parse(
    tool('ffprobe', ['-select_streams', 'v:0', '-show_entries', 'packet=pts,dts:stream=time_base', '-of', 'json', mp4]).toString(),
  ) as { packets: { pts: number; dts: number }[]; streams: { time_base: string }[] };
  const [num, den] = probe.streams[0]!.time_base.split('/').map(Number) as [number, number];
  // One second ahead, so the first DTS (negative with B-frames) is positive.
  const to90k = (t: number) => 90_000 + Math.round((t * num * 90_000) / den);
  return { stream, times: probe.packets.map((p) => ({ pts: to90k(p.pts), dts: to90k(p.dts) })) };
}

interface RoundTrip {
  packets: Buffer[];
  received: Buffer;
  depacketizer: RtpDepacketizer;
}

/**
 * PS frames → RTP (the 90 kHz time of each frame: its SCR, RFC 2250 3) → RFC 4571 over a
 * "TCP" byte stream cut in 1,001-byte reads → packets → frames → PS bytes.
 */
function overRtp(frames: { data: Buffer; time: number }[]): RoundTrip {
  // Sequence and timestamp start just short of their wrap, so both wrap within a clip.
  const packetizer = new RtpPacketizer({ ssrc: SSRC, sequenceStart: 65_500, timestampOffset: 2 ** 32 - 200_000 });
  const packets = frames.flatMap((f) => packetizer.packetize(f.data, f.time));
  const tcp = Buffer.concat(packets.map(frameRfc4571));
  const deframer = new Rfc4571Deframer();
  const depacketizer = new RtpDepacketizer({ ssrc: SSRC, payloadType: 96 });
  const out: Buffer[] = [];
  for (let i = 0; i < tcp.length; i += 1001) {
    for (const packet of deframer.push(tcp.subarray(i, i + 1001))) {
      for (const frame of depacketizer.push(packet)) {
        expect(frame.complete).toBe(true);
        out.push(frame.data);
      }
    }
  }
  expect(deframer.buffered).toBe(0);
  return { packets, received: Buffer.concat(out), depacketizer };
}

/** Access units of an Annex-B stream pushed in pipe-sized chunks. */
function accessUnits(codec: VideoCodec, stream: Buffer): AccessUnit[] {
  const splitter = new AnnexBSplitter(codec);
  const units: AccessUnit[] = [];
  for (let i = 0; i < stream.length; i += 4096) units.push(...splitter.push(stream.subarray(i, i + 4096)));
  return [...units, ...splitter.flush()];
}

describe.each(['h264', 'h265'] as const)('%s clip → PS → RTP (over RFC 4571) → PS, read by ffprobe', (codec) => {
  let dir: string;
  let units: AccessUnit[];
  let times: { pts: number; dts: number }[];
  let sent: Buffer;
  let packets: Buffer[];
  let received: Buffer;
  let depacketizer: RtpDepacketizer;
  let splitFrames: number;

  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), `psvgw-ps-${codec}-`));
    const clip = makeClip(dir, codec);
    times = clip.times;
    units = accessUnits(codec, clip.stream);
    // H.264 goes in PES packets of at most 4,000 bytes, so its larger frames are split (13818-1 2.4.3.7).
    const muxer = new PsMuxer({ video: codec, maxPesPacketLength: codec === 'h264' ? 4000 : undefined });
    const frames = units.map((au, i) => ({ data: muxer.writeVideo(au, times[i]!.pts, times[i]!.dts).data, time: times[i]!.dts }));
    sent = Buffer.concat(frames.map((f) => f.data));
    splitFrames = frames.filter(
      (f) => f.data.indexOf(Buffer.from([0, 0, 1, 0xe0]), f.data.indexOf(Buffer.from([0, 0, 1, 0xe0])) + 4) >= 0,
    ).length;
    ({ packets, received, depacketizer } = overRtp(frames));
    writeFileSync(join(dir, 'out.ps'), received);
  }, 120_000);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('splits the stream into one access unit per frame, the first a key frame', () => {
    expect(units).toHaveLength(50);
    expect(times).toHaveLength(50);
    expect(units[0]!.keyFrame).toBe(true);
    if (codec === 'h264') expect(splitFrames).toBeGreaterThan(0);
  });

  it('sends MTU-sized packets, one timestamp per frame, the marker on each frame’s last packet', () => {
    const parsed = packets.map(parseRtpPacket);
    expect(Math.max(...packets.map((p) => p.length))).toBeLessThanOrEqual(1400);
    expect(parsed.filter((p) => p.marker)).toHaveLength(50);
    parsed.forEach((p, i) => {
      const next = parsed[i + 1];
      if (next !== undefined) {
        expect(next.sequence).toBe((p.sequence + 1) % 65_536);
        if (!p.marker) expect(next.timestamp).toBe(p.timestamp);
      }
    });
    expect(parsed.some((p) => p.sequence === 0)).toBe(true);
    expect(parsed.some((p) => p.timestamp < 200_000)).toBe(true);
    expect(depacketizer.lost).toBe(0);
    expect(received).toEqual(sent);
  });

  it('is read by ffprobe at 320x240, 25 fps, 50 frames, the first a key frame', () => {
    const file = join(dir, 'out.ps');
    expect(readFileSync(file).length).toBeGreaterThan(0);
    const probe = JSON.parse(
      tool('ffprobe', [
        ...['-count_frames', '-select_streams', 'v:0'],
        ...[
          '-show_entries',
          'stream=codec_name,width,height,r_frame_rate,avg_frame_rate,nb_read_frames:format=format_name',
          '-of',
          'json',
          file,
        ],
      ]).toString(),
    ) as Probe;
    // Probed as MPEG-PS; the codec comes from the PSM's stream type (0xE0 alone would read as MPEG video).
    expect(probe.format.format_name).toBe('mpeg');
    const [stream] = probe.streams;
    expect(stream).toMatchObject({ codec_name: codec === 'h264' ? 'h264' : 'hevc', width: 320, height: 240, r_frame_rate: '25/1' });
    expect(stream!.avg_frame_rate).toBe('25/1');
    expect(Number(stream!.nb_read_frames)).toBe(50);
    const first = JSON.parse(
      tool('ffprobe', [
        '-select_streams',
        'v:0',
        '-read_intervals',
        '%+#1',
        '-show_entries',
        'frame=key_frame,pict_type',
        '-of',
        'json',
        file,
      ]).toString(),
    ) as { frames: { key_frame: number; pict_type: string }[] };
    expect(first.frames[0]).toMatchObject({ key_frame: 1, pict_type: 'I' });
  });
});

describe('H.264 with AAC interleaved → PS → RTP → PS, read by ffprobe', () => {
  let dir: string;

  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-ps-aac-'));
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('maps AAC as stream type 0x0F on 0xC0 next to the video', () => {
    const clip = makeClip(dir, 'h264');
    const adts = tool('ffmpeg', [
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=1000:sample_rate=44100',
      '-t',
      '2',
      '-c:a',
      'aac',
      '-f',
      'adts',
      '-',
    ]);
    const muxer = new PsMuxer({ video: 'h264', audio: 'aac' });
    const video = accessUnits('h264', clip.stream).map((au, i) => ({
      time: clip.times[i]!.dts,
      write: () => muxer.writeVideo(au, clip.times[i]!.pts, clip.times[i]!.dts),
    }));
    let samples = 0;
    const audio = splitAdtsFrames(adts).map((frame) => {
      const pts = 90_000 + Math.round((samples * 90_000) / frame.sampleRate);
      samples += frame.samples;
      return { time: pts, write: () => muxer.writeAudio(frame.data, pts) };
    });
    // Interleaved in time order, as a live source delivers them.
    const frames = [...video, ...audio].sort((a, b) => a.time - b.time).map((f) => ({ data: f.write().data, time: f.time }));
    const { received } = overRtp(frames);
    const file = join(dir, 'av.ps');
    writeFileSync(file, received);
    const probe = JSON.parse(
      tool('ffprobe', [
        '-count_frames',
        '-show_entries',
        'stream=codec_type,codec_name,sample_rate,nb_read_frames',
        '-of',
        'json',
        file,
      ]).toString(),
    ) as { streams: { codec_type: string; codec_name: string; sample_rate?: string; nb_read_frames: string }[] };
    const byType = Object.fromEntries(probe.streams.map((s) => [s.codec_type, s]));
    expect(byType.video).toMatchObject({ codec_name: 'h264', nb_read_frames: '50' });
    expect(byType.audio).toMatchObject({ codec_name: 'aac', sample_rate: '44100', nb_read_frames: String(audio.length) });
  });
});
