import { describe, expect, it } from 'vitest';
import { splitNalUnits } from '../../../../src/platform/gb28181/media/annexb.js';
import { crc32Mpeg2 } from '../../../../src/platform/gb28181/media/crc32.js';
import {
  packHeader,
  pesPackets,
  programStreamMap,
  PsMuxer,
  PsStreamId,
  PsStreamType,
  systemHeader,
} from '../../../../src/platform/gb28181/media/psMuxer.js';

const hex = (b: Buffer) => b.toString('hex');

/** A bitwise CRC-32/MPEG-2, written apart from the table-driven one under test. */
function referenceCrc(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let i = 0; i < 8; i += 1) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc >>> 0;
}

describe('CRC-32/MPEG-2', () => {
  it('gives the catalogue check value for "123456789"', () => {
    expect(crc32Mpeg2(Buffer.from('123456789'))).toBe(0x0376e6e7);
  });

  it('agrees with a bitwise implementation and leaves 0 over data plus its CRC', () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
    const crc = crc32Mpeg2(data);
    expect(crc).toBe(referenceCrc(data));
    const withCrc = Buffer.concat([data, Buffer.from([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff])]);
    expect(crc32Mpeg2(withCrc)).toBe(0);
  });
});

describe('program stream map (13818-1 2.5.4)', () => {
  it('H.264 + AAC, byte-exact with its CRC_32', () => {
    const psm = programStreamMap([
      { streamType: PsStreamType.H264, streamId: PsStreamId.VIDEO },
      { streamType: PsStreamType.AAC, streamId: PsStreamId.AUDIO },
    ]);
    expect(hex(psm)).toBe('000001bc0012a0ff000000081be000000fc00000' + 'ff66b18f');
    expect(crc32Mpeg2(psm)).toBe(0);
  });

  it('H.265 alone, stream type 0x24', () => {
    const psm = programStreamMap([{ streamType: PsStreamType.H265, streamId: PsStreamId.VIDEO }]);
    expect(hex(psm)).toBe('000001bc000ea0ff0000000424e00000' + 'b0421f56');
  });
});

describe('pack header (13818-1 2.5.3.3)', () => {
  it('encodes SCR base, extension and program_mux_rate around their marker bits', () => {
    expect(hex(packHeader(0, 50_000))).toBe('000001ba440004000401030d43f8');
    expect(hex(packHeader(0x1_2345_6789, 50_000))).toBe('000001ba6634573c4c01030d43f8');
    expect(hex(packHeader(2 ** 33 - 1, 0x3ffffe, 0x155))).toBe('000001ba7ffffffffeabfffffbf8');
  });

  it('wraps the SCR at 2^33 and refuses a zero mux rate', () => {
    expect(packHeader(2 ** 33 + 5, 1)).toEqual(packHeader(5, 1));
    expect(() => packHeader(0, 0)).toThrow(RangeError);
  });
});

describe('system header (13818-1 2.5.3.5)', () => {
  it('bounds one video and one audio stream', () => {
    const sh = systemHeader(
      [
        { streamType: PsStreamType.H264, streamId: PsStreamId.VIDEO },
        { streamType: PsStreamType.AAC, streamId: PsStreamId.AUDIO },
      ],
      50_000,
    );
    // rate_bound 50000 (0xc350) between markers; audio_bound 1; locks, marker, video_bound 1; 0x7f; then E0 scale 1 x512, C0 scale 0 x32.
    expect(hex(sh)).toBe('000001bb000c' + '8186a1' + '04' + 'e1' + '7f' + 'e0e200' + 'c0c020');
  });
});

describe('PES packets (13818-1 2.4.3.6)', () => {
  const pts = 0x1_2345_6789;
  const dts = 0x1_2345_0000;

  it('writes PTS and DTS when they differ, PTS alone when they do not', () => {
    const [both] = pesPackets(0xe0, Buffer.from([0xaa, 0xbb]), pts, dts);
    expect(hex(both!)).toBe('000001e0000f' + '84c00a' + '398d15cf13' + '198d150001' + 'aabb');
    const [same] = pesPackets(0xe0, Buffer.from([0xaa]), pts, pts);
    expect(hex(same!)).toBe('000001e00009' + '848005' + '298d15cf13' + 'aa');
    const [audio] = pesPackets(0xc0, Buffer.from([0xff, 0xf1]), pts);
    expect(hex(audio!)).toBe('000001c0000a' + '848005' + '298d15cf13' + 'fff1');
  });

  it('splits a frame over the 16-bit length: time stamps and alignment on the first packet only', () => {
    const payload = Buffer.from(Array.from({ length: 250 }, (_, i) => i & 0xff));
    const packets = pesPackets(0xe0, payload, pts, dts, 100);
    // First: 100 = 3 flag bytes + 10 time stamp bytes + 87 data; then 97 data each.
    expect(packets.map((p) => p.readUInt16BE(4))).toEqual([100, 100, 69]);
    expect(hex(packets[1]!.subarray(0, 9))).toBe('000001e00064' + '800000');
    expect(Buffer.concat([packets[0]!.subarray(19), packets[1]!.subarray(9), packets[2]!.subarray(9)])).toEqual(payload);
  });

  it('wraps PTS and DTS at 2^33 (13818-1 2.4.3.7)', () => {
    expect(pesPackets(0xe0, Buffer.from([1]), 2 ** 33 + 7200, 2 ** 33 + 3600)).toEqual(pesPackets(0xe0, Buffer.from([1]), 7200, 3600));
    // A DTS equal to the PTS modulo 2^33 is left out.
    expect(pesPackets(0xe0, Buffer.from([1]), 2 ** 33 + 5, 5)[0]![7]).toBe(0x80);
  });

  it('a frame of exactly 65,535 - 13 bytes fits one packet; one byte more needs two', () => {
    expect(pesPackets(0xe0, Buffer.alloc(65_522), pts, dts)).toHaveLength(1);
    const two = pesPackets(0xe0, Buffer.alloc(65_523), pts, dts);
    expect(two.map((p) => p.readUInt16BE(4))).toEqual([0xffff, 4]);
  });
});

// Hand-made access units: NAL headers with a first slice bit set; bodies are filler.
const sps = Buffer.from([0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e]);
const pps = Buffer.from([0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
const idr = Buffer.from([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33]);
const nonIdr = Buffer.from([0, 0, 0, 1, 0x41, 0x9a, 0x02]);

/** The start codes and stream ids of a pack, in order. */
function startCodes(data: Buffer): number[] {
  const out: number[] = [];
  for (let i = data.indexOf(Buffer.from([0, 0, 1])); i >= 0; i = data.indexOf(Buffer.from([0, 0, 1]), i + 3)) {
    if (data[i + 3]! >= 0xb9) out.push(data[i + 3]!);
  }
  return out;
}

describe('PsMuxer', () => {
  it('gives key frames a pack header, system header, PSM and PES; other frames a pack header and PES', () => {
    const mux = new PsMuxer({ video: 'h264' });
    const key = mux.writeVideo(Buffer.concat([sps, pps, idr]), 7200, 3600);
    expect(key.keyFrame).toBe(true);
    expect(startCodes(key.data)).toEqual([0xba, 0xbb, 0xbc, 0xe0]);
    expect(hex(key.data.subarray(0, 14))).toBe(hex(packHeader(3600, 50_000)));
    const p = mux.writeVideo(nonIdr, 10_800, 7200);
    expect(p.keyFrame).toBe(false);
    expect(startCodes(p.data)).toEqual([0xba, 0xe0]);
    // The PES payload is the access unit in Annex-B form.
    const pes = p.data.subarray(14);
    expect(pes.subarray(pes[8]! + 9)).toEqual(nonIdr);
  });

  it('puts cached SPS/PPS in front of an IDR sent without them, making it a key frame', () => {
    const mux = new PsMuxer({ video: 'h264' });
    mux.writeVideo(Buffer.concat([sps, pps, idr]), 0);
    const bare = mux.writeVideo(idr, 3600);
    expect(bare.keyFrame).toBe(true);
    const pes = bare.data.subarray(bare.data.indexOf(Buffer.from([0, 0, 1, 0xe0])));
    const types = splitNalUnits('h264', pes.subarray(9 + pes[8]!)).map((n) => n.type);
    expect(types).toEqual([7, 8, 5]);
  });

  it('maps the streams once even when the first frame is not a key frame', () => {
    const mux = new PsMuxer({ video: 'h265' });
    expect(startCodes(mux.writeVideo(Buffer.from([0, 0, 0, 1, 0x02, 0x01, 0x80]), 0).data)).toEqual([0xba, 0xbb, 0xbc, 0xe0]);
    expect(startCodes(mux.writeVideo(Buffer.from([0, 0, 0, 1, 0x02, 0x01, 0x80]), 3600).data)).toEqual([0xba, 0xe0]);
  });

  it('interleaves AAC on 0xC0 without letting the SCR run backwards', () => {
    const mux = new PsMuxer({ video: 'h264', audio: 'aac' });
    const v = mux.writeVideo(Buffer.concat([sps, pps, idr]), 9000, 9000);
    const a = mux.writeAudio(Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x01, 0x7f, 0xfc, 0x21]), 8000);
    expect(startCodes(a.data)).toEqual([0xba, 0xc0]);
    expect(a.data.subarray(0, 14)).toEqual(v.data.subarray(0, 14));
    expect(() => new PsMuxer({ video: 'h264' }).writeAudio(Buffer.alloc(8), 0)).toThrow(/no audio/);
  });

  it('lets the SCR wrap with the 33-bit clock instead of holding it back', () => {
    const mux = new PsMuxer({ video: 'h264' });
    mux.writeVideo(nonIdr, 2 ** 33 - 3600, 2 ** 33 - 3600);
    expect(mux.writeVideo(nonIdr, 2 ** 33, 2 ** 33).data.subarray(0, 14)).toEqual(packHeader(0, 50_000));
  });
});
