/**
 * MPEG-2 Program Stream muxer (ISO/IEC 13818-1 2.5) in the form GB/T 28181-2016 Annex C
 * asks for: each frame is one pack (pack header), key frames also carry the system header
 * and the program stream map, then the frame in PES packets. Pure: frames in, bytes out.
 */
import { accessUnitOf, ParameterSetCache, splitNalUnits, toAnnexB, type AccessUnit, type VideoCodec } from './annexb.js';
import { crc32Mpeg2 } from './crc32.js';

export type AudioCodec = 'aac';

/** stream_type (13818-1 Table 2-34; GB/T 28181-2016 Annex C adds H.265 as 0x24). */
export const PsStreamType = { H264: 0x1b, H265: 0x24, AAC: 0x0f } as const;
/** stream_id (13818-1 Table 2-22): the first video and the first audio stream. */
export const PsStreamId = { VIDEO: 0xe0, AUDIO: 0xc0 } as const;

export interface PsStream {
  streamType: number;
  streamId: number;
}

export interface PsMuxerOptions {
  video: VideoCodec;
  /** Audio interleaved in the same program stream; AAC as ADTS frames. */
  audio?: AudioCodec;
  /** program_mux_rate in units of 50 bytes/s (13818-1 2.5.3.4); never 0. Default 50,000 (20 Mbit/s). */
  muxRate?: number;
  /** Largest PES_packet_length (the bytes after that field); a longer frame is split. Default 65,535. */
  maxPesPacketLength?: number;
}

export interface PsFrame {
  data: Buffer;
  /** This pack carries a decoder entry point (system header, PSM and a key frame). */
  keyFrame: boolean;
}

/** PTS, DTS and SCR base are 33-bit counts of a 90 kHz clock and wrap (13818-1 2.4.3.7, 2.5.3.4). */
const CLOCK_WRAP = 2 ** 33;
const DEFAULT_MUX_RATE = 50_000;
const MAX_PES_PACKET_LENGTH = 0xffff;
/** The PES header bytes counted in PES_packet_length before the optional fields: flags (2) and PES_header_data_length (1). */
const PES_FLAG_BYTES = 3;
/** P-STD_buffer_size_bound (13818-1 2.5.3.6): video in 1024-byte units, audio in 128-byte units. */
const VIDEO_BUFFER_BOUND_KB = 512;
const AUDIO_BUFFER_BOUND_128 = 32;

const wrap33 = (t: number): number => ((Math.round(t) % CLOCK_WRAP) + CLOCK_WRAP) % CLOCK_WRAP;

/** The top 3 and low 30 bits of a 33-bit time stamp, each safe for 32-bit bitwise operators. */
function split33(t: number): [number, number] {
  const v = wrap33(t);
  return [Math.floor(v / 2 ** 30) & 0x07, v % 2 ** 30];
}

/** pack_header() (13818-1 Table 2-38): SCR base in 90 kHz ticks, no stuffing. */
export function packHeader(scr: number, muxRate: number, scrExtension = 0): Buffer {
  if (!Number.isInteger(muxRate) || muxRate <= 0 || muxRate >= 1 << 22) throw new RangeError(`program_mux_rate ${muxRate} out of range`);
  const [hi, lo] = split33(scr);
  const ext = scrExtension & 0x1ff;
  return Buffer.from([
    0x00,
    0x00,
    0x01,
    0xba,
    // '01', SCR[32..30], marker, SCR[29..28]
    0x44 | (hi << 3) | ((lo >>> 28) & 0x03),
    (lo >>> 20) & 0xff,
    // SCR[19..15], marker, SCR[14..13]
    (((lo >>> 15) & 0x1f) << 3) | 0x04 | ((lo >>> 13) & 0x03),
    (lo >>> 5) & 0xff,
    // SCR[4..0], marker, SCR_extension[8..7]
    ((lo & 0x1f) << 3) | 0x04 | ((ext >>> 7) & 0x03),
    ((ext & 0x7f) << 1) | 0x01,
    (muxRate >>> 14) & 0xff,
    (muxRate >>> 6) & 0xff,
    ((muxRate & 0x3f) << 2) | 0x03,
    // reserved '11111', pack_stuffing_length 0
    0xf8,
  ]);
}

/** system_header() (13818-1 Table 2-40); rate_bound must be at least every pack's program_mux_rate. */
export function systemHeader(streams: readonly PsStream[], rateBound: number): Buffer {
  const audio = streams.filter((s) => s.streamId >= 0xc0 && s.streamId <= 0xdf).length;
  const video = streams.filter((s) => s.streamId >= 0xe0 && s.streamId <= 0xef).length;
  const out = Buffer.alloc(12 + 3 * streams.length);
  out.writeUInt32BE(0x000001bb, 0);
  out.writeUInt16BE(6 + 3 * streams.length, 4);
  out[6] = 0x80 | ((rateBound >>> 15) & 0x7f);
  out[7] = (rateBound >>> 7) & 0xff;
  out[8] = ((rateBound & 0x7f) << 1) | 0x01;
  // audio_bound, fixed_flag 0 (variable rate), CSPS_flag 0
  out[9] = (audio & 0x3f) << 2;
  // system_audio_lock_flag and system_video_lock_flag: all time stamps come from one 90 kHz clock; marker; video_bound
  out[10] = 0xc0 | 0x20 | (video & 0x1f);
  // packet_rate_restriction_flag 0, reserved_bits '1111111'
  out[11] = 0x7f;
  streams.forEach((s, i) => {
    const isVideo = s.streamId >= 0xe0;
    const bound = isVideo ? VIDEO_BUFFER_BOUND_KB : AUDIO_BUFFER_BOUND_128;
    out[12 + 3 * i] = s.streamId;
    // '11', P-STD_buffer_bound_scale (1: 1024-byte units for video, 0: 128-byte units for audio), 13-bit bound
    out.writeUInt16BE(0xc000 | (isVideo ? 0x2000 : 0) | (bound & 0x1fff), 13 + 3 * i);
  });
  return out;
}

/** program_stream_map() (13818-1 Table 2-41) with no descriptors, closed by CRC_32 over the whole map. */
export function programStreamMap(streams: readonly PsStream[], version = 0): Buffer {
  const esMapLength = 4 * streams.length;
  const out = Buffer.alloc(16 + esMapLength);
  out.writeUInt32BE(0x000001bc, 0);
  out.writeUInt16BE(10 + esMapLength, 4);
  // current_next_indicator 1, single_extension_stream_flag 0, reserved 1, program_stream_map_version
  out[6] = 0xa0 | (version & 0x1f);
  // reserved '1111111', marker
  out[7] = 0xff;
  out.writeUInt16BE(0, 8); // program_stream_info_length
  out.writeUInt16BE(esMapLength, 10);
  streams.forEach((s, i) => {
    out[12 + 4 * i] = s.streamType;
    out[13 + 4 * i] = s.streamId;
    out.writeUInt16BE(0, 14 + 4 * i); // elementary_stream_info_length
  });
  out.writeUInt32BE(crc32Mpeg2(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

/** A PTS or DTS field (13818-1 2.4.3.6): 4-bit prefix, 33 bits split 3/15/15 by marker bits. */
function timeStamp(prefix: number, t: number): Buffer {
  const [hi, lo] = split33(t);
  return Buffer.from([
    (prefix << 4) | (hi << 1) | 0x01,
    (lo >>> 22) & 0xff,
    ((lo >>> 14) & 0xfe) | 0x01,
    (lo >>> 7) & 0xff,
    ((lo & 0x7f) << 1) | 0x01,
  ]);
}

/**
 * PES_packet()s for one frame (13818-1 2.4.3.6). The first carries PTS (and DTS when it
 * differs from PTS; an absent DTS equals the PTS, 2.4.3.7) with data_alignment_indicator;
 * a frame over the 16-bit PES_packet_length goes on in packets without time stamps.
 */
export function pesPackets(
  streamId: number,
  payload: Buffer,
  pts: number,
  dts?: number,
  maxPacketLength = MAX_PES_PACKET_LENGTH,
): Buffer[] {
  const withDts = dts !== undefined && wrap33(dts) !== wrap33(pts);
  const optional = withDts ? Buffer.concat([timeStamp(0x3, pts), timeStamp(0x1, dts)]) : timeStamp(0x2, pts);
  if (maxPacketLength > MAX_PES_PACKET_LENGTH || maxPacketLength <= PES_FLAG_BYTES + optional.length) {
    throw new RangeError(`PES packet length ${maxPacketLength} out of range`);
  }
  const packets: Buffer[] = [];
  let offset = 0;
  do {
    const first = offset === 0;
    const fields = first ? optional : Buffer.alloc(0);
    const chunk = payload.subarray(offset, offset + maxPacketLength - PES_FLAG_BYTES - fields.length);
    const header = Buffer.alloc(9);
    header.writeUInt32BE(0x00000100 | streamId, 0);
    header.writeUInt16BE(PES_FLAG_BYTES + fields.length + chunk.length, 4);
    // '10', not scrambled, priority 0, data_alignment_indicator on the frame's first packet, no copyright, copy
    header[6] = first ? 0x84 : 0x80;
    header[7] = first ? (withDts ? 0xc0 : 0x80) : 0x00;
    header[8] = fields.length;
    packets.push(Buffer.concat([header, fields, chunk]));
    offset += chunk.length;
  } while (offset < payload.length);
  return packets;
}

/** The muxer of one program stream: one video stream and optionally one audio stream. */
export class PsMuxer {
  readonly streams: readonly PsStream[];
  private readonly muxRate: number;
  private readonly maxPesPacketLength: number;
  private readonly parameterSets: ParameterSetCache;
  private readonly entryHeaders: Buffer;
  private lastScr: number | null = null;
  private mapWritten = false;

  constructor(private readonly options: PsMuxerOptions) {
    this.muxRate = options.muxRate ?? DEFAULT_MUX_RATE;
    this.maxPesPacketLength = options.maxPesPacketLength ?? MAX_PES_PACKET_LENGTH;
    const video: PsStream = { streamType: options.video === 'h264' ? PsStreamType.H264 : PsStreamType.H265, streamId: PsStreamId.VIDEO };
    this.streams = options.audio === 'aac' ? [video, { streamType: PsStreamType.AAC, streamId: PsStreamId.AUDIO }] : [video];
    this.parameterSets = new ParameterSetCache(options.video);
    this.entryHeaders = Buffer.concat([systemHeader(this.streams, this.muxRate), programStreamMap(this.streams)]);
  }

  /**
   * One access unit (Annex-B bytes or already split) with 90 kHz PTS/DTS. Key frames, and
   * the first frame of the stream whatever it is, carry the system header and the PSM.
   */
  writeVideo(frame: AccessUnit | Buffer, pts: number, dts: number = pts): PsFrame {
    const parsed = Buffer.isBuffer(frame) ? accessUnitOf(this.options.video, splitNalUnits(this.options.video, frame)) : frame;
    if (parsed.codec !== this.options.video) throw new Error(`a ${parsed.codec} access unit for a ${this.options.video} stream`);
    const au = this.parameterSets.complete(parsed);
    const withMap = au.keyFrame || !this.mapWritten;
    this.mapWritten = true;
    const pes = pesPackets(PsStreamId.VIDEO, toAnnexB(au.nals), pts, dts, this.maxPesPacketLength);
    const parts = [packHeader(this.scrFor(dts), this.muxRate), ...(withMap ? [this.entryHeaders] : []), ...pes];
    return { data: Buffer.concat(parts), keyFrame: au.keyFrame };
  }

  /** One or more whole ADTS frames (ISO/IEC 13818-7) with the PTS of the first. */
  writeAudio(adts: Buffer, pts: number): PsFrame {
    if (this.options.audio === undefined) throw new Error('this program stream has no audio stream');
    const pes = pesPackets(PsStreamId.AUDIO, adts, pts, undefined, this.maxPesPacketLength);
    return { data: Buffer.concat([packHeader(this.scrFor(pts), this.muxRate), ...pes]), keyFrame: false };
  }

  /**
   * SCR = the frame's decoding time: receivers take the clock from it, so it must not run
   * backwards when audio and video interleave (a jump back of over half the range is a wrap).
   */
  private scrFor(t: number): number {
    const scr = wrap33(t);
    const last = this.lastScr;
    const behind = last !== null && scr < last && last - scr < CLOCK_WRAP / 2;
    this.lastScr = behind ? last : scr;
    return this.lastScr;
  }
}
