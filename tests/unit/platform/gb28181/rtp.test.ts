import { describe, expect, it } from 'vitest';
import {
  frameRfc4571,
  parseRtpPacket,
  Rfc4571Deframer,
  RtpDepacketizer,
  RtpError,
  RtpPacketizer,
} from '../../../../src/platform/gb28181/media/rtp.js';

const hex = (b: Buffer) => b.toString('hex');
const bytes = (n: number, from = 0) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

describe('RtpPacketizer (RFC 3550 5.1)', () => {
  it('writes the 12-byte header byte-exact: V=2, marker and PT 96, sequence, timestamp, SSRC', () => {
    const rtp = new RtpPacketizer({ ssrc: 100_001_234, sequenceStart: 0x1234, timestampOffset: 0 });
    const [packet] = rtp.packetize(Buffer.from([0x00, 0x00, 0x01, 0xba]), 3600);
    expect(hex(packet!)).toBe('80e0' + '1234' + '00000e10' + '05f5e5d2' + '000001ba');
  });

  it('honours another payload type', () => {
    const [packet] = new RtpPacketizer({ ssrc: 1, payloadType: 98, sequenceStart: 0, timestampOffset: 0 }).packetize(bytes(4), 0);
    expect(packet![1]).toBe(0x80 | 98);
  });

  it('cuts a frame to the MTU: one timestamp, the marker only on the last packet, sequence running on', () => {
    const rtp = new RtpPacketizer({ ssrc: 7, mtu: 100, sequenceStart: 10, timestampOffset: 0 });
    const frame = bytes(250);
    const packets = rtp.packetize(frame, 9000).map(parseRtpPacket);
    expect(packets.map((p) => p.payload.length)).toEqual([88, 88, 74]);
    expect(packets.map((p) => p.marker)).toEqual([false, false, true]);
    expect(packets.map((p) => p.sequence)).toEqual([10, 11, 12]);
    expect(new Set(packets.map((p) => p.timestamp))).toEqual(new Set([9000]));
    expect(Buffer.concat(packets.map((p) => p.payload))).toEqual(frame);
    expect(rtp.packetize(bytes(1), 12_600).map(parseRtpPacket)[0]).toMatchObject({ sequence: 13, marker: true, timestamp: 12_600 });
  });

  it('a frame of exactly the room fits one packet', () => {
    const rtp = new RtpPacketizer({ ssrc: 7, mtu: 100, sequenceStart: 0, timestampOffset: 0 });
    expect(rtp.packetize(bytes(88), 0)).toHaveLength(1);
    expect(rtp.packetize(bytes(89), 0)).toHaveLength(2);
  });

  it('wraps the sequence at 2^16 and the timestamp at 2^32', () => {
    const rtp = new RtpPacketizer({ ssrc: 7, mtu: 20, sequenceStart: 65_534, timestampOffset: 2 ** 32 - 1000 });
    const packets = rtp.packetize(bytes(30), 999).map(parseRtpPacket);
    expect(packets.map((p) => p.sequence)).toEqual([65_534, 65_535, 0, 1]);
    expect(packets[0]!.timestamp).toBe(2 ** 32 - 1);
    const next = rtp.packetize(bytes(4), 1003).map(parseRtpPacket);
    expect(next[0]).toMatchObject({ sequence: 2, timestamp: 3 });
    // A 90 kHz clock past 2^32 (13.25 h) keeps counting modulo 2^32.
    expect(new RtpPacketizer({ ssrc: 7, timestampOffset: 5 }).rtpTimestamp(2 ** 32 + 10)).toBe(15);
  });

  it('starts sequence and timestamp at random by default and refuses bad options', () => {
    const a = new RtpPacketizer({ ssrc: 7 });
    expect(a.nextSequence).toBeGreaterThanOrEqual(0);
    expect(a.nextSequence).toBeLessThan(65_536);
    expect(() => new RtpPacketizer({ ssrc: 2 ** 32 })).toThrow(RangeError);
    expect(() => new RtpPacketizer({ ssrc: 1, payloadType: 128 })).toThrow(RangeError);
    expect(() => new RtpPacketizer({ ssrc: 1, mtu: 12 })).toThrow(RangeError);
  });
});

describe('parseRtpPacket', () => {
  it('skips CSRCs, a header extension and padding', () => {
    const packet = Buffer.from(
      'b1' + '60' + '0001' + '00000002' + '00000003' + '0000000a' + 'bede0001' + '11223344' + 'cafe' + '000003',
      'hex',
    );
    expect(parseRtpPacket(packet)).toEqual({
      marker: false,
      payloadType: 96,
      sequence: 1,
      timestamp: 2,
      ssrc: 3,
      csrcs: [10],
      payload: Buffer.from('cafe', 'hex'),
    });
  });

  it('rejects short, wrong-version and inconsistent packets with an RtpError', () => {
    expect(() => parseRtpPacket(Buffer.alloc(11))).toThrow(RtpError);
    expect(() => parseRtpPacket(Buffer.from('40e0000100000002000000030000', 'hex'))).toThrow(/version 1/);
    expect(() => parseRtpPacket(Buffer.from('83e00001000000020000000300', 'hex'))).toThrow(RtpError);
    expect(() => parseRtpPacket(Buffer.from('a0e00001000000020000000305', 'hex'))).toThrow(RtpError);
    expect(() => parseRtpPacket(Buffer.from('90e000010000000200000003bede', 'hex'))).toThrow(RtpError);
  });
});

describe('RFC 4571 framing', () => {
  it('prefixes the 16-bit length and reads packets back whatever the chunking', () => {
    const packets = [bytes(20), bytes(1), bytes(300, 7), bytes(12, 99)];
    const stream = Buffer.concat(packets.map(frameRfc4571));
    expect(hex(frameRfc4571(Buffer.from([0xab, 0xcd])))).toBe('0002abcd');
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const deframer = new Rfc4571Deframer();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...deframer.push(stream.subarray(i, i + size)));
      expect(out).toEqual(packets);
      expect(deframer.buffered).toBe(0);
    }
    expect(() => frameRfc4571(Buffer.alloc(65_536))).toThrow(RangeError);
  });
});

describe('RtpDepacketizer', () => {
  const sender = () => new RtpPacketizer({ ssrc: 42, mtu: 20, sequenceStart: 65_530, timestampOffset: 0 });

  it('gives whole frames back across the sequence wrap', () => {
    const rtp = sender();
    const frames = [bytes(30), bytes(5, 50), bytes(17, 80)];
    const packets = frames.flatMap((f, i) => rtp.packetize(f, i * 3600));
    const d = new RtpDepacketizer({ ssrc: 42, payloadType: 96 });
    const out = packets.flatMap((p) => d.push(p));
    expect(out).toEqual(frames.map((data, i) => ({ timestamp: i * 3600, data, complete: true })));
    expect(d.lost).toBe(0);
    expect(d.received).toBe(packets.length);
  });

  it('counts lost packets and marks the frames they fall in incomplete', () => {
    const rtp = sender();
    const packets = [bytes(30), bytes(30), bytes(8)].flatMap((f, i) => rtp.packetize(f, i * 3600));
    // Frame 0: packets 0-3; frame 1: 4-7 (lose 5); frame 2: 8.
    const d = new RtpDepacketizer();
    const out = packets.filter((_, i) => i !== 5).flatMap((p) => d.push(p));
    expect(out.map((f) => f.complete)).toEqual([true, false, true]);
    expect(d.lost).toBe(1);
  });

  it('ends a frame whose marker was lost when the next timestamp arrives; the next frame is suspect too', () => {
    const rtp = sender();
    const packets = [bytes(30), bytes(8)].flatMap((f, i) => rtp.packetize(f, i * 3600));
    const d = new RtpDepacketizer();
    const out = packets.filter((_, i) => i !== 3).flatMap((p) => d.push(p));
    expect(out.map((f) => [f.timestamp, f.complete])).toEqual([
      [0, false],
      [3600, false],
    ]);
    expect(d.flush()).toEqual([]);
  });

  it('drops late and duplicated packets, other SSRCs and payload types', () => {
    const rtp = sender();
    const packets = rtp.packetize(bytes(30), 0);
    const d = new RtpDepacketizer({ ssrc: 42, payloadType: 96 });
    d.push(packets[0]!);
    d.push(packets[1]!);
    expect(d.push(packets[0]!)).toEqual([]);
    expect(d.push(new RtpPacketizer({ ssrc: 43, sequenceStart: 0, timestampOffset: 0 }).packetize(bytes(3), 0)[0]!)).toEqual([]);
    expect(
      d.push(new RtpPacketizer({ ssrc: 42, payloadType: 8, sequenceStart: 0, timestampOffset: 0 }).packetize(bytes(3), 0)[0]!),
    ).toEqual([]);
    expect(d.dropped).toBe(3);
    const rest = packets.slice(2).flatMap((p) => d.push(p));
    expect(rest).toEqual([{ timestamp: 0, data: bytes(30), complete: true }]);
    expect(d.lost).toBe(0);
  });

  it('counts and drops datagrams that are not RTP instead of throwing', () => {
    const d = new RtpDepacketizer();
    expect(d.push(Buffer.from('hello'))).toEqual([]);
    expect(d.push(Buffer.alloc(0))).toEqual([]);
    expect(d.malformed).toBe(2);
    expect(d.push(sender().packetize(bytes(3), 0)[0]!)).toEqual([{ timestamp: 0, data: bytes(3), complete: true }]);
  });

  it('hands over an unfinished frame on flush', () => {
    const d = new RtpDepacketizer();
    d.push(sender().packetize(bytes(30), 0)[0]!);
    expect(d.flush()).toEqual([{ timestamp: 0, data: bytes(8), complete: false }]);
  });
});
