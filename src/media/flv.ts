/**
 * Incremental FLV demuxer: feed it bytes as they arrive (HTTP-FLV, ffmpeg
 * stdout, ...) and get whole tags back. Pure: no I/O, no timers.
 *
 * Layout (FLV v10.1 spec): 9-byte header, PreviousTagSize0, then repeated
 * [11-byte tag header][tag data][PreviousTagSize].
 */

export type FlvTagType = 'audio' | 'video' | 'script';

/** FLV video CodecID values the gateway cares about. 12 for HEVC is the common (non-Adobe) extension. */
export const FlvVideoCodec = { AVC: 7, HEVC: 12 } as const;

/** FLV SoundFormat values the gateway cares about. */
export const FlvSoundFormat = { G711_ALAW: 7, G711_MULAW: 8, AAC: 10 } as const;

/** AVCPacketType (also used for HEVC): 0 sequence header, 1 coded frames, 2 end of sequence. */
export const FlvPacketType = { SEQUENCE_HEADER: 0, NALU: 1, END_OF_SEQUENCE: 2 } as const;

export interface FlvHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface FlvTag {
  type: FlvTagType;
  /** Milliseconds (DTS for video), 32 bits including the extended byte. */
  timestamp: number;
  /** Tag body as in the file, starting with the audio/video data header byte. */
  data: Buffer;
  /** Video: FrameType 1 (keyframe). */
  keyframe?: boolean;
  /** Video: FrameType nibble (1 key, 2 inter, 3 disposable, 4 generated key, 5 info/command). */
  frameType?: number;
  /** Video: CodecID (7 AVC, 12 HEVC); for enhanced-RTMP tags, derived from the FourCC. */
  codecId?: number;
  /** Video, AVC/HEVC: 0 sequence header, 1 coded frames, 2 end of sequence. */
  avcPacketType?: number;
  /** Video, AVC/HEVC: PTS - DTS in ms. */
  compositionTime?: number;
  /** Video, enhanced-RTMP tags only: e.g. 'hvc1', 'avc1', 'av01'. */
  fourCC?: string;
  /** Audio: SoundFormat (10 AAC, 7 G.711 A-law, 8 G.711 mu-law). */
  soundFormat?: number;
  /** Audio, AAC: 0 AudioSpecificConfig, 1 raw frame. */
  aacPacketType?: number;
}

const TAG_TYPES: Record<number, FlvTagType> = { 8: 'audio', 9: 'video', 18: 'script' };
const FOURCC_CODEC: Record<string, number> = { avc1: FlvVideoCodec.AVC, hvc1: FlvVideoCodec.HEVC };
const HEADER_SIZE = 9;
const TAG_HEADER_SIZE = 11;
const PREV_TAG_SIZE = 4;

/** FIFO of received chunks; bytes are copied once, when a whole unit is taken out. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  byteAt(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i] as number;
      i -= c.length;
    }
    throw new RangeError('ByteQueue.byteAt past end');
  }

  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
      off += k;
    }
    this.length -= n;
    return out;
  }
}

type State =
  | { kind: 'header' }
  | { kind: 'skip'; bytes: number }
  | { kind: 'prevTagSize' }
  | { kind: 'tagHeader' }
  | { kind: 'tagBody'; type: FlvTagType; size: number; timestamp: number };

export class FlvTagReader {
  /** Set once the file header has been read. */
  header: FlvHeader | null = null;

  private readonly queue = new ByteQueue();
  private state: State = { kind: 'header' };
  /** Stream offset of the next byte to take, for error messages. */
  private offset = 0;

  /**
   * Adds bytes and returns every tag completed by them. Chunks may be split
   * anywhere. The reader keeps references to chunks until consumed, so do not
   * modify a chunk after pushing it.
   */
  push(chunk: Buffer): FlvTag[] {
    this.queue.push(chunk);
    const tags: FlvTag[] = [];
    for (;;) {
      const tag = this.step();
      if (tag === false) return tags;
      if (tag) tags.push(tag);
    }
  }

  /** One state transition: a tag, null (progress without a tag) or false (need more bytes). */
  private step(): FlvTag | null | false {
    const q = this.queue;
    const s = this.state;
    switch (s.kind) {
      case 'header': {
        // Check the signature as soon as bytes arrive so a wrong stream fails fast.
        for (let i = 0; i < Math.min(3, q.length); i++) {
          if (q.byteAt(i) !== 'FLV'.charCodeAt(i)) {
            const got = Array.from({ length: Math.min(3, q.length) }, (_, j) => q.byteAt(j));
            throw new Error(`Not an FLV stream: bad signature ${Buffer.from(got).toString('hex')} (expected 464c56 "FLV")`);
          }
        }
        if (q.length < HEADER_SIZE) return false;
        const h = this.take(HEADER_SIZE);
        const flags = h[4] as number;
        const dataOffset = h.readUInt32BE(5);
        if (dataOffset < HEADER_SIZE) throw new Error(`Bad FLV header: DataOffset ${dataOffset} < 9`);
        this.header = { version: h[3] as number, hasAudio: (flags & 0x04) !== 0, hasVideo: (flags & 0x01) !== 0 };
        this.state = dataOffset > HEADER_SIZE ? { kind: 'skip', bytes: dataOffset - HEADER_SIZE } : { kind: 'prevTagSize' };
        return null;
      }
      case 'skip': {
        if (q.length === 0) return false;
        const n = Math.min(s.bytes, q.length);
        this.take(n);
        this.state = n === s.bytes ? { kind: 'prevTagSize' } : { kind: 'skip', bytes: s.bytes - n };
        return null;
      }
      case 'prevTagSize': {
        // Not checked against the previous tag: some muxers write 0 here.
        if (q.length < PREV_TAG_SIZE) return false;
        this.take(PREV_TAG_SIZE);
        this.state = { kind: 'tagHeader' };
        return null;
      }
      case 'tagHeader': {
        if (q.length < TAG_HEADER_SIZE) return false;
        const at = this.offset;
        const h = this.take(TAG_HEADER_SIZE);
        const b0 = h[0] as number;
        if (b0 & 0x20) throw new Error(`FLV tag at byte ${at} is encrypted (Filter bit set); not supported`);
        const type = TAG_TYPES[b0 & 0x1f];
        if (!type) throw new Error(`Bad FLV tag type ${b0 & 0x1f} at byte ${at}; stream is corrupt or out of sync`);
        // TimestampExtended is the high byte above the 24-bit Timestamp.
        const timestamp = ((h[7] as number) * 0x1000000 + h.readUIntBE(4, 3)) >>> 0;
        this.state = { kind: 'tagBody', type, size: h.readUIntBE(1, 3), timestamp };
        return null;
      }
      case 'tagBody': {
        if (q.length < s.size) return false;
        const data = this.take(s.size);
        this.state = { kind: 'prevTagSize' };
        return describeTag(s.type, s.timestamp, data);
      }
    }
  }

  private take(n: number): Buffer {
    this.offset += n;
    return this.queue.take(n);
  }
}

function describeTag(type: FlvTagType, timestamp: number, data: Buffer): FlvTag {
  const tag: FlvTag = { type, timestamp, data };
  const b0 = data[0];
  if (b0 === undefined) return tag;
  if (type === 'video') {
    if (b0 & 0x80) describeEnhancedVideo(tag, b0, data);
    else {
      tag.frameType = b0 >> 4;
      tag.codecId = b0 & 0x0f;
      if ((tag.codecId === FlvVideoCodec.AVC || tag.codecId === FlvVideoCodec.HEVC) && data.length >= 2) {
        tag.avcPacketType = data[1];
        if (data.length >= 5) tag.compositionTime = data.readIntBE(2, 3);
      }
    }
    tag.keyframe = tag.frameType === 1;
  } else if (type === 'audio') {
    tag.soundFormat = b0 >> 4;
    if (tag.soundFormat === FlvSoundFormat.AAC && data.length >= 2) tag.aacPacketType = data[1];
  }
  return tag;
}

/** Enhanced RTMP (IsExHeader bit): FrameType in bits 4-6, PacketType in 0-3, then a FourCC. */
function describeEnhancedVideo(tag: FlvTag, b0: number, data: Buffer): void {
  tag.frameType = (b0 >> 4) & 0x07;
  if (data.length < 5) return;
  tag.fourCC = data.toString('latin1', 1, 5);
  tag.codecId = FOURCC_CODEC[tag.fourCC];
  // PacketType: 0 SequenceStart, 1 CodedFrames (with composition time), 2 SequenceEnd, 3 CodedFramesX (time 0).
  switch (b0 & 0x0f) {
    case 0:
      tag.avcPacketType = FlvPacketType.SEQUENCE_HEADER;
      break;
    case 1:
      tag.avcPacketType = FlvPacketType.NALU;
      if (data.length >= 8) tag.compositionTime = data.readIntBE(5, 3);
      break;
    case 2:
      tag.avcPacketType = FlvPacketType.END_OF_SEQUENCE;
      break;
    case 3:
      tag.avcPacketType = FlvPacketType.NALU;
      tag.compositionTime = 0;
      break;
  }
}

/** True where a decoder can begin: a video sequence header or a keyframe. */
export function isDecodableStart(tag: FlvTag): boolean {
  if (tag.type !== 'video') return false;
  if (tag.avcPacketType === FlvPacketType.SEQUENCE_HEADER) return true;
  return tag.keyframe === true && tag.avcPacketType !== FlvPacketType.END_OF_SEQUENCE;
}
