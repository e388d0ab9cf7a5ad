import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FlvTagReader, isDecodableStart, type FlvTag } from '../../../src/media/flv.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

// --- hand-built byte fixtures -------------------------------------------------

function flvHeader(flags = 0x05): Buffer {
  return Buffer.concat([Buffer.from('FLV'), Buffer.from([1, flags, 0, 0, 0, 9]), u32(0)]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** One tag plus its trailing PreviousTagSize. */
function tag(type: number, timestamp: number, data: Buffer): Buffer {
  const h = Buffer.alloc(11);
  h[0] = type;
  h.writeUIntBE(data.length, 1, 3);
  h.writeUIntBE(timestamp & 0xffffff, 4, 3);
  h[7] = (timestamp >>> 24) & 0xff;
  return Buffer.concat([h, data, u32(11 + data.length)]);
}

const script = tag(18, 0, Buffer.from([0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x08, 0, 0, 0, 0, 0, 0, 9]));
// FrameType 1 + CodecID 7, AVCPacketType 0, CTS 0, then a short AVCDecoderConfigurationRecord.
const avcSeqHeader = tag(9, 0, Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1]));
const keyframe = tag(9, 0, Buffer.from([0x17, 0x01, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88]));
// FrameType 2 (inter), CTS +40 ms, DTS with an extended timestamp byte.
const interFrame = tag(9, 0x01000028, Buffer.from([0x27, 0x01, 0, 0, 40, 0, 0, 0, 2, 0x41, 0x9a]));
const aacConfig = tag(8, 0, Buffer.from([0xaf, 0x00, 0x12, 0x10]));
const alaw = tag(8, 20, Buffer.from([0x72, 0xd5, 0xd5]));
const mulaw = tag(8, 40, Buffer.from([0x82, 0xff, 0xff]));

const stream = Buffer.concat([flvHeader(), script, avcSeqHeader, keyframe, interFrame]);

function readAll(chunks: Buffer[]): FlvTag[] {
  const r = new FlvTagReader();
  return chunks.flatMap((c) => r.push(c));
}

describe('FlvTagReader on hand-built bytes', () => {
  it('parses header, script, sequence header, keyframe and inter frame', () => {
    const r = new FlvTagReader();
    const tags = r.push(stream);
    expect(r.header).toEqual({ version: 1, hasAudio: true, hasVideo: true });
    expect(tags.map((t) => t.type)).toEqual(['script', 'video', 'video', 'video']);
    expect(tags[0]?.data.subarray(3, 13).toString()).toBe('onMetaData');
    expect(tags[1]).toMatchObject({ timestamp: 0, keyframe: true, codecId: 7, avcPacketType: 0 });
    expect(tags[2]).toMatchObject({ timestamp: 0, keyframe: true, codecId: 7, avcPacketType: 1, compositionTime: 0 });
    expect(tags[3]).toMatchObject({ keyframe: false, frameType: 2, codecId: 7, avcPacketType: 1, compositionTime: 40 });
    expect(tags[3]?.data[0]).toBe(0x27);
  });

  it('uses the extended timestamp byte as bits 24-31', () => {
    const tags = readAll([stream]);
    expect(tags[3]?.timestamp).toBe(0x01000028);
  });

  it('gives the same tags whatever byte the stream is split at', () => {
    const whole = readAll([stream]);
    for (let i = 0; i <= stream.length; i++) {
      expect(readAll([stream.subarray(0, i), stream.subarray(i)])).toEqual(whole);
    }
  });

  it('handles one byte at a time and emits each tag as soon as its body is complete', () => {
    const r = new FlvTagReader();
    const seen: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      if (r.push(stream.subarray(i, i + 1)).length > 0) seen.push(i);
    }
    // Each tag completes at its last data byte, 4 bytes before its PreviousTagSize ends.
    let end = flvHeader().length;
    const expected = [script, avcSeqHeader, keyframe, interFrame].map((t) => (end += t.length) - 5);
    expect(seen).toEqual(expected);
  });

  it('reads audio sound formats: AAC, G.711 A-law, mu-law', () => {
    const tags = readAll([Buffer.concat([flvHeader(0x04), aacConfig, alaw, mulaw])]);
    expect(tags.map((t) => [t.soundFormat, t.timestamp])).toEqual([
      [10, 0],
      [7, 20],
      [8, 40],
    ]);
    expect(tags[0]?.aacPacketType).toBe(0);
    expect(tags[1]?.aacPacketType).toBeUndefined();
  });

  it('recognises HEVC (CodecID 12) and enhanced-RTMP hvc1 tags', () => {
    const legacy = tag(9, 0, Buffer.from([0x1c, 0x00, 0, 0, 0, 1]));
    const enhanced = tag(9, 0, Buffer.from([0x90, ...Buffer.from('hvc1'), 1]));
    const tags = readAll([Buffer.concat([flvHeader(0x01), legacy, enhanced])]);
    expect(tags[0]).toMatchObject({ codecId: 12, avcPacketType: 0, keyframe: true });
    expect(tags[1]).toMatchObject({ codecId: 12, fourCC: 'hvc1', avcPacketType: 0, keyframe: true });
  });

  it('skips header padding when DataOffset is larger than 9', () => {
    const padded = Buffer.concat([Buffer.from('FLV'), Buffer.from([1, 1, 0, 0, 0, 12, 0xaa, 0xbb, 0xcc]), u32(0)]);
    const tags = readAll([Buffer.concat([padded, keyframe])]);
    expect(tags).toHaveLength(1);
    expect(tags[0]?.keyframe).toBe(true);
  });

  it('throws a descriptive error on a bad signature, even before 9 bytes arrive', () => {
    expect(() => new FlvTagReader().push(Buffer.from('GIF89a...'))).toThrow(/Not an FLV stream.*signature/);
    expect(() => new FlvTagReader().push(Buffer.from('FX'))).toThrow(/Not an FLV stream/);
    expect(new FlvTagReader().push(Buffer.from('FL'))).toEqual([]);
  });

  it('throws on an unknown tag type (stream out of sync)', () => {
    const bad = Buffer.concat([flvHeader(), Buffer.from([0x07, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x00])]);
    expect(() => new FlvTagReader().push(bad)).toThrow(/Bad FLV tag type 7 at byte 13/);
  });

  it('isDecodableStart: sequence header or keyframe only', () => {
    const [s, seq, key, inter] = readAll([stream]) as [FlvTag, FlvTag, FlvTag, FlvTag];
    expect([s, seq, key, inter].map(isDecodableStart)).toEqual([false, true, true, false]);
    const [aac] = readAll([Buffer.concat([flvHeader(), aacConfig])]) as [FlvTag];
    expect(isDecodableStart(aac)).toBe(false);
  });
});

describe('FlvTagReader on ffmpeg output', () => {
  it('parses 1 s of libx264 at 25 fps from lavfi', async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const flv = await ffmpegFlv();
    // Odd-sized chunks so tags straddle chunk boundaries.
    const r = new FlvTagReader();
    const tags: FlvTag[] = [];
    for (let i = 0; i < flv.length; i += 1009) tags.push(...r.push(flv.subarray(i, i + 1009)));

    const video = tags.filter((t) => t.type === 'video');
    expect(tags[0]?.type).toBe('script');
    expect(video[0]).toMatchObject({ codecId: 7, avcPacketType: 0 });
    expect(isDecodableStart(video[0] as FlvTag)).toBe(true);
    // A sequence header tag, one tag per frame, and ffmpeg's end-of-sequence tag.
    const frames = video.filter((t) => t.avcPacketType === 1);
    expect(frames).toHaveLength(25);
    expect(video).toHaveLength(27);
    expect(video[26]).toMatchObject({ avcPacketType: 2 });
    const firstKey = frames.find((t) => t.keyframe);
    expect(firstKey?.timestamp).toBe(0);
    expect(frames.filter((t) => t.keyframe)).toHaveLength(1);
    expect(frames.map((t) => t.timestamp)).toEqual([...frames.map((t) => t.timestamp)].sort((a, b) => a - b));
  }, 20_000);
});

function ffmpegFlv(): Promise<Buffer> {
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'];
  args.push('-t', '1', '-c:v', 'libx264', '-g', '25', '-f', 'flv', 'pipe:1');
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`ffmpeg exited with ${code ?? signal}: ${err}`));
    });
  });
}
