import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnnexBSplitter, type AccessUnit, type VideoCodec } from '../../../../src/platform/gb28181/media/annexb.js';
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

describe.each(['h264', 'h265'] as const)('%s clip → PS → RTP (over RFC 4571) → PS, read by ffprobe', (codec) => {
  let dir: string;
  let units: AccessUnit[];
  let times: { pts: number; dts: number }[];
  let sent: Buffer;
  let packets: Buffer[];
  let received: Buffer;
  let depacketizer: RtpDepacketizer;

  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), `psvgw-ps-${codec}-`));
    const clip = makeClip(dir, codec);
    times = clip.times;
    // The elementary stream arrives in pipe-sized chunks.
    const splitter = new AnnexBSplitter(codec);
    units = [];
    for (let i = 0; i < clip.stream.length; i += 4096) units.push(...splitter.push(clip.stream.subarray(i, i + 4096)));
    units.push(...splitter.flush());

    const muxer = new PsMuxer({ video: codec });
    // Sequence and timestamp start just short of their wrap, so both wrap within the clip.
    const packetizer = new RtpPacketizer({ ssrc: SSRC, sequenceStart: 65_500, timestampOffset: 2 ** 32 - 200_000 });
    const frames = units.map((au, i) => ({ ps: muxer.writeVideo(au, times[i]!.pts, times[i]!.dts), dts: times[i]!.dts }));
    sent = Buffer.concat(frames.map((f) => f.ps.data));
    packets = frames.flatMap((f) => packetizer.packetize(f.ps.data, f.dts));

    // Over TCP: RFC 4571 framed, read back in chunks that cut through lengths and headers.
    const tcp = Buffer.concat(packets.map(frameRfc4571));
    const deframer = new Rfc4571Deframer();
    depacketizer = new RtpDepacketizer({ ssrc: SSRC, payloadType: 96 });
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
    received = Buffer.concat(out);
    writeFileSync(join(dir, 'out.ps'), received);
  }, 120_000);

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('splits the stream into one access unit per frame, the first a key frame', () => {
    expect(units).toHaveLength(50);
    expect(times).toHaveLength(50);
    expect(units[0]!.keyFrame).toBe(true);
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
