/**
 * RTP for GB/T 28181 PS media (RFC 3550; GB/T 28181-2016 Annex C: PS over RTP, PT 96,
 * 90 kHz): one PS frame becomes MTU-sized packets sharing the frame's timestamp, with the
 * marker on the last. RFC 4571 framing for RTP over TCP. A depacketizer turns packets back
 * into frames and counts losses. Pure: no sockets, no timers.
 */
import { randomInt } from 'node:crypto';

export const RTP_HEADER_SIZE = 12;
const RTP_VERSION = 2;
const SEQUENCE_WRAP = 2 ** 16;
const TIMESTAMP_WRAP = 2 ** 32;
/** RFC 4571 2: a 16-bit length in front of each packet. */
const RFC4571_LENGTH_SIZE = 2;

export interface RtpPacketizerOptions {
  /** The session's SSRC, e.g. from the SDP y= line (see ssrc.ts). */
  ssrc: number;
  /** Dynamic payload type; GB/T 28181 uses 96 for PS. */
  payloadType?: number;
  /** Largest RTP packet (header included) in bytes; default 1,400, under a 1,500-byte Ethernet MTU with IP/UDP headers. */
  mtu?: number;
  /** First sequence number; random by default (RFC 3550 5.1). */
  sequenceStart?: number;
  /** Added to every 90 kHz timestamp; random by default (RFC 3550 5.1). */
  timestampOffset?: number;
}

export class RtpError extends Error {
  override name = 'RtpError';
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** The payload, without header, CSRCs, extension or padding. */
  payload: Buffer;
}

function checkUint(name: string, value: number, bits: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits)
    throw new RangeError(`${name} ${value} is not a ${bits}-bit unsigned integer`);
  return value;
}

/** Cuts frames into RTP packets; sequence numbers run on across frames and wrap at 2^16. */
export class RtpPacketizer {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly mtu: number;
  private sequence: number;
  private readonly timestampOffset: number;

  constructor(options: RtpPacketizerOptions) {
    this.ssrc = checkUint('SSRC', options.ssrc, 32);
    this.payloadType = checkUint('payload type', options.payloadType ?? 96, 7);
    this.mtu = options.mtu ?? 1400;
    if (!Number.isInteger(this.mtu) || this.mtu <= RTP_HEADER_SIZE || this.mtu > 0xffff)
      throw new RangeError(`MTU ${this.mtu} out of range`);
    this.sequence = checkUint('sequence start', options.sequenceStart ?? randomInt(SEQUENCE_WRAP), 16);
    this.timestampOffset = checkUint('timestamp offset', options.timestampOffset ?? randomInt(2 ** 32 - 1), 32);
  }

  /** The sequence number the next packet will carry. */
  get nextSequence(): number {
    return this.sequence;
  }

  /** The RTP timestamp of a frame at this 90 kHz time (any non-negative count; wraps at 2^32). */
  rtpTimestamp(time90k: number): number {
    return (((this.timestampOffset + Math.round(time90k)) % TIMESTAMP_WRAP) + TIMESTAMP_WRAP) % TIMESTAMP_WRAP;
  }

  /**
   * All packets of one frame: the same timestamp, the marker on the last (RFC 3550 5.1).
   * For a PS pack the time is its SCR, the target transmission time of its first byte (RFC 2250 3).
   */
  packetize(frame: Buffer, time90k: number): Buffer[] {
    const timestamp = this.rtpTimestamp(time90k);
    const room = this.mtu - RTP_HEADER_SIZE;
    const packets: Buffer[] = [];
    let offset = 0;
    do {
      const chunk = frame.subarray(offset, offset + room);
      offset += chunk.length;
      const packet = Buffer.alloc(RTP_HEADER_SIZE + chunk.length);
      packet[0] = RTP_VERSION << 6; // no padding, no extension, no CSRC
      packet[1] = (offset >= frame.length ? 0x80 : 0) | this.payloadType;
      packet.writeUInt16BE(this.sequence, 2);
      packet.writeUInt32BE(timestamp, 4);
      packet.writeUInt32BE(this.ssrc, 8);
      chunk.copy(packet, RTP_HEADER_SIZE);
      packets.push(packet);
      this.sequence = (this.sequence + 1) % SEQUENCE_WRAP;
    } while (offset < frame.length);
    return packets;
  }
}

/** Reads an RTP packet (RFC 3550 5.1), skipping CSRCs, a header extension (5.3.1) and padding. */
export function parseRtpPacket(packet: Buffer): RtpPacket {
  if (packet.length < RTP_HEADER_SIZE) throw new RtpError(`RTP packet of ${packet.length} bytes is shorter than its header`);
  const version = packet[0]! >> 6;
  if (version !== RTP_VERSION) throw new RtpError(`RTP version ${version}, expected 2`);
  const padding = (packet[0]! & 0x20) !== 0;
  const extension = (packet[0]! & 0x10) !== 0;
  const csrcCount = packet[0]! & 0x0f;
  let offset = RTP_HEADER_SIZE + 4 * csrcCount;
  if (packet.length < offset) throw new RtpError('RTP packet shorter than its CSRC list');
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i += 1) csrcs.push(packet.readUInt32BE(RTP_HEADER_SIZE + 4 * i));
  if (extension) {
    if (packet.length < offset + 4) throw new RtpError('RTP packet shorter than its header extension');
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  let end = packet.length;
  if (padding) {
    const count = packet[packet.length - 1]!;
    if (count === 0) throw new RtpError('RTP padding count of 0');
    end -= count;
  }
  if (end < offset) throw new RtpError('RTP header, extension and padding exceed the packet');
  return {
    marker: (packet[1]! & 0x80) !== 0,
    payloadType: packet[1]! & 0x7f,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    csrcs,
    payload: packet.subarray(offset, end),
  };
}

/** RFC 4571 2: the packet behind its 16-bit length, for RTP over TCP (GB/T 28181-2016 Annex C / the TCP media transport). */
export function frameRfc4571(packet: Buffer): Buffer {
  if (packet.length > 0xffff) throw new RangeError(`a ${packet.length}-byte packet does not fit RFC 4571 framing`);
  const out = Buffer.alloc(RFC4571_LENGTH_SIZE + packet.length);
  out.writeUInt16BE(packet.length, 0);
  packet.copy(out, RFC4571_LENGTH_SIZE);
  return out;
}

/** Reads RFC 4571 framed packets from a TCP byte stream, whatever the chunking. */
export class Rfc4571Deframer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const packets: Buffer[] = [];
    let offset = 0;
    while (this.pending.length - offset >= RFC4571_LENGTH_SIZE) {
      const length = this.pending.readUInt16BE(offset);
      if (this.pending.length - offset - RFC4571_LENGTH_SIZE < length) break;
      packets.push(this.pending.subarray(offset + RFC4571_LENGTH_SIZE, offset + RFC4571_LENGTH_SIZE + length));
      offset += RFC4571_LENGTH_SIZE + length;
    }
    this.pending = this.pending.subarray(offset);
    return packets;
  }

  /** Bytes of a packet not yet complete. */
  get buffered(): number {
    return this.pending.length;
  }
}

export interface RtpFrame {
  timestamp: number;
  /** The frame's payload bytes (a PS pack), in arrival order. */
  data: Buffer;
  /** No packet of this frame was lost and it ended with a marker. */
  complete: boolean;
}

export interface RtpDepacketizerOptions {
  /** Packets from another SSRC are dropped (and counted) when set. */
  ssrc?: number;
  /** Packets of another payload type are dropped (and counted) when set. */
  payloadType?: number;
}

/**
 * Packets (in arrival order; no reordering) back into frames. A gap in sequence numbers
 * counts as loss and marks the frame it falls in incomplete; a packet from behind the
 * expected sequence (late or duplicated) is dropped.
 */
export class RtpDepacketizer {
  /** Packets missing from the sequence so far. */
  lost = 0;
  /** Packets dropped: late, duplicated, another SSRC or payload type. */
  dropped = 0;
  /** Datagrams that are not RTP packets, dropped: a receiver must not stop on stray input. */
  malformed = 0;
  received = 0;
  private expected: number | null = null;
  private parts: Buffer[] = [];
  private timestamp: number | null = null;
  private damaged = false;

  constructor(private readonly options: RtpDepacketizerOptions = {}) {}

  /** Feeds one packet; returns the frames it completes (a frame also ends when the timestamp changes without a marker). */
  push(raw: Buffer): RtpFrame[] {
    let packet: RtpPacket;
    try {
      packet = parseRtpPacket(raw);
    } catch (err) {
      if (!(err instanceof RtpError)) throw err;
      this.malformed += 1;
      return [];
    }
    const { ssrc, payloadType } = this.options;
    if ((ssrc !== undefined && packet.ssrc !== ssrc) || (payloadType !== undefined && packet.payloadType !== payloadType)) {
      this.dropped += 1;
      return [];
    }
    const frames: RtpFrame[] = [];
    let gapped = false;
    if (this.expected !== null) {
      const gap = (packet.sequence - this.expected + SEQUENCE_WRAP) % SEQUENCE_WRAP;
      // Half the sequence space ahead counts as loss, the other half as a late packet (RFC 3550 A.1).
      if (gap >= SEQUENCE_WRAP / 2) {
        this.dropped += 1;
        return [];
      }
      this.lost += gap;
      gapped = gap > 0;
    }
    this.expected = (packet.sequence + 1) % SEQUENCE_WRAP;
    this.received += 1;
    if (this.timestamp !== null && packet.timestamp !== this.timestamp) frames.push(this.takeFrame(false));
    // Lost packets just before a new timestamp may have been this frame's first ones.
    if (gapped) this.damaged = true;
    this.timestamp = packet.timestamp;
    this.parts.push(packet.payload);
    if (packet.marker) frames.push(this.takeFrame(true));
    return frames;
  }

  /** A frame still open at end of stream, incomplete (its marker never came). */
  flush(): RtpFrame[] {
    return this.timestamp === null ? [] : [this.takeFrame(false)];
  }

  private takeFrame(marked: boolean): RtpFrame {
    const frame = { timestamp: this.timestamp ?? 0, data: Buffer.concat(this.parts), complete: marked && !this.damaged };
    this.parts = [];
    this.timestamp = null;
    this.damaged = false;
    return frame;
  }
}
