import { stripSetDataFrame } from './flvMetadata.js';

/**
 * The live tiers' fan-out: an ingest writes FLV to a pipe, this splits it into whole tags
 * (header parsing only: a tag that lies inside one read chunk is a view of that chunk, only
 * a tag cut by a chunk boundary is copied), keeps what a late viewer needs (FLV header,
 * metadata, sequence headers, the GOP since the last keyframe, copied into reused memory) and
 * writes each tag to the stream's subscribers. With no subscriber a tag costs the split and the
 * copy into the GOP cache, nothing else, and no chunk outlives its read, so the pipe is read
 * into one reused buffer (FfmpegProcess's `onPipe3View`); with one, each read is copied once
 * before its tags are written. RTMP messages (the gateway's own readers) are built only while
 * one reads.
 */

const TAG_HEADER = 11;
const PREV_TAG_SIZE = 4;
/** FLV file header (9 bytes) and PreviousTagSize0. */
const FILE_HEADER = 13;
const AUDIO = 8;
const VIDEO = 9;
const SCRIPT = 18;
const AAC = 10;
/** A GOP longer than this many tags is not cached (a camera without keyframes must not fill memory). */
const MAX_GOP_TAGS = 4096;
const MAX_GOP_BYTES = 16 << 20;
/** First size of a GOP cache's memory; it doubles as a camera's GOPs need (2 Mbit/s, 2 s GOPs: 512 KiB). */
const GOP_ARENA_BYTES = 256 << 10;

/** A subscriber as node-media-server keeps it (FLV over HTTP or WebSocket, or RTMP). */
export interface FanoutSession {
  id: string;
  protocol: string;
  sendBuffer(buffer: Buffer): void;
  /** HTTP response (`writableLength`) or WebSocket (`bufferedAmount`) of an FLV session. */
  res?: unknown;
  /** Socket of an RTMP session. */
  socket?: unknown;
}

/** What node-media-server's play path reads from a broadcast (see BroadcastServer.postPlay). */
export interface FanoutBroadcast {
  streamPath: string;
  subscribers: Map<string, FanoutSession>;
}

/** Builds the RTMP message of a tag (node-media-server's Rtmp.createMessage). */
export type RtmpMessageOf = (packet: { codec_type: number; dts: number; pts: number; size: number; data: Buffer }) => Buffer;

export interface FanoutOptions {
  rtmpMessageOf: RtmpMessageOf;
  /** Bytes a subscriber may have waiting in its socket before it is skipped to the next keyframe. */
  maxBacklogBytes: number;
  /** Largest tag accepted from the pipe (media.limits.mediaMessageBytes). */
  maxTagBytes: number;
}

export interface FanoutStats {
  /** Tags read from the pipe. */
  tags: number;
  /** Tags written to at least one subscriber: the per-packet work beyond reading the pipe. */
  fannedOut: number;
  /** RTMP messages built. */
  rtmpBuilt: number;
  /** Tags not written to a subscriber that was too far behind. */
  skipped: number;
}

/** Splits an FLV byte stream into its file header and whole tags (header, body, PreviousTagSize). */
export class FlvTagSplitter {
  private carry: Buffer | null = null;
  private headerSeen = false;

  constructor(
    private readonly onHeader: (header: Buffer) => void,
    private readonly onTag: (tag: Buffer) => void,
    private readonly maxTagBytes: number,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    // A unit cut by the previous chunk's end: complete it with just the bytes it lacks.
    while (this.carry !== null) {
      const want = this.unitLength(this.carry, 0, this.carry.length);
      const take = Math.min(want - this.carry.length, chunk.length - off);
      if (take > 0) this.carry = Buffer.concat([this.carry, chunk.subarray(off, off + take)]);
      off += take;
      if (this.carry.length < want) return;
      if (this.unitLength(this.carry, 0, this.carry.length) > want) continue; // now the tag's size is known
      const unit = this.carry;
      this.carry = null;
      this.emit(unit);
    }
    for (;;) {
      const left = chunk.length - off;
      if (left === 0) return;
      const need = this.unitLength(chunk, off, left);
      if (left < need) {
        this.carry = Buffer.from(chunk.subarray(off));
        return;
      }
      this.emit(chunk.subarray(off, off + need));
      off += need;
    }
  }

  /** Length of the unit starting at `off` given `avail` bytes of it: as far as can be told yet. */
  private unitLength(buf: Buffer, off: number, avail: number): number {
    if (!this.headerSeen) return FILE_HEADER;
    if (avail < TAG_HEADER) return TAG_HEADER;
    const type = (buf[off] as number) & 0x1f;
    if (type !== AUDIO && type !== VIDEO && type !== SCRIPT) {
      throw new Error(`bad FLV tag type ${type} in the ingest's pipe (stream out of sync)`);
    }
    const size = buf.readUIntBE(off + 1, 3);
    if (size > this.maxTagBytes) throw new Error(`an FLV tag of ${size} bytes in the ingest's pipe (at most ${this.maxTagBytes})`);
    return TAG_HEADER + size + PREV_TAG_SIZE;
  }

  private emit(unit: Buffer): void {
    if (this.headerSeen) {
      this.onTag(unit);
      return;
    }
    if (unit.toString('latin1', 0, 3) !== 'FLV') throw new Error('the ingest pipe does not carry FLV (bad signature)');
    if (unit.readUInt32BE(5) !== 9) throw new Error('the ingest pipe carries an FLV header of an unexpected size');
    this.headerSeen = true;
    this.onHeader(unit);
  }
}

interface TagInfo {
  type: number;
  /** A decoder can start here: a video keyframe. */
  keyframe: boolean;
  /** Sequence header (video or AAC) or metadata: always delivered, also to a skipped subscriber. */
  config: boolean;
}

function classify(tag: Buffer): TagInfo {
  const type = (tag[0] as number) & 0x1f;
  const b0 = tag[TAG_HEADER] ?? 0;
  const b1 = tag[TAG_HEADER + 1];
  if (type === SCRIPT) return { type, keyframe: false, config: true };
  if (type === AUDIO) return { type, keyframe: false, config: b0 >> 4 === AAC && b1 === 0 };
  if (b0 & 0x80) {
    // Enhanced RTMP: FrameType in bits 4-6, PacketType in bits 0-3 (0: sequence start).
    const sequence = (b0 & 0x0f) === 0;
    return { type, keyframe: !sequence && ((b0 >> 4) & 0x07) === 1, config: sequence };
  }
  const sequence = b1 === 0 && ((b0 & 0x0f) === 7 || (b0 & 0x0f) === 12);
  return { type, keyframe: !sequence && b0 >> 4 === 1, config: sequence };
}

function timestampOf(tag: Buffer): number {
  return ((tag[7] as number) * 0x1000000 + tag.readUIntBE(4, 3)) >>> 0;
}

function writeTimestamp(tag: Buffer, ts: number): void {
  tag.writeUIntBE(ts & 0xffffff, 4, 3);
  tag[7] = (ts >>> 24) & 0xff;
}

/**
 * The tags since the last keyframe, copied one after another into memory of its own that the
 * next GOP reuses. A GOP held as views of the pipe's read chunks kept every chunk and one
 * object per tag alive for a whole GOP: long enough to be promoted, so that the old
 * generation filled and was marked and swept every few seconds with no viewer at all. A late
 * viewer gets copies (the next GOP overwrites this memory), made once per GOP however many come.
 */
class GopCache {
  private arena: Buffer | null = null;
  /** End offset of each tag in the arena. */
  private readonly ends: number[] = [];
  private used = 0;
  /** A keyframe started the GOP and it has stayed within the limits. */
  private open = false;
  private copies: Buffer[] | null = null;

  /** A keyframe: the GOP starts over with it. */
  start(tag: Buffer): void {
    this.clear();
    this.open = true;
    this.append(tag);
  }

  /** A tag of the current GOP; none is kept before the first keyframe, nor once the GOP outgrew the limits. */
  append(tag: Buffer): void {
    if (!this.open) return;
    const end = this.used + tag.length;
    if (this.ends.length >= MAX_GOP_TAGS || end > MAX_GOP_BYTES) {
      this.clear();
      return;
    }
    let arena = this.arena ?? Buffer.allocUnsafeSlow(GOP_ARENA_BYTES);
    if (end > arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.min(MAX_GOP_BYTES, Math.max(end, arena.length * 2)));
      arena.copy(grown, 0, 0, this.used);
      arena = grown;
    }
    this.arena = arena;
    tag.copy(arena, this.used);
    this.used = end;
    this.ends.push(end);
    this.copies = null;
  }

  clear(): void {
    this.open = false;
    this.ends.length = 0;
    this.used = 0;
    this.copies = null;
  }

  /** The publish ended: its memory goes too. */
  release(): void {
    this.clear();
    this.arena = null;
  }

  /** Copies of the GOP's tags, or null when there is none to start a viewer with. */
  tags(): Buffer[] | null {
    const arena = this.arena;
    if (!this.open || arena === null) return null;
    return (this.copies ??= this.ends.map((end, i) => Buffer.from(arena.subarray(this.ends[i - 1] ?? 0, end))));
  }
}

/** Bytes a subscriber's transport has accepted but not yet sent. */
function backlogOf(session: FanoutSession): number {
  const res = session.res as { writableLength?: number; bufferedAmount?: number } | undefined;
  const socket = session.socket as { writableLength?: number } | undefined;
  return res?.bufferedAmount ?? res?.writableLength ?? socket?.writableLength ?? 0;
}

/**
 * One stream path's fan-out. `attach` makes a node-media-server broadcast serve a late
 * viewer from this cache (its play path reads the fields defined here), `run` starts a
 * new publish into it; timestamps of a run that follows another are shifted past the last
 * one, so viewers who stayed see one continuous timeline.
 */
export class FlvFanout {
  readonly stats: FanoutStats = { tags: 0, fannedOut: 0, rtmpBuilt: 0, skipped: 0 };
  private header: Buffer;
  private metaData: Buffer | null = null;
  private audioHeader: Buffer | null = null;
  private videoHeader: Buffer | null = null;
  private readonly gop = new GopCache();
  private offset = 0;
  private lastDts = 0;
  /** Subscribers that fell behind: they get nothing but configuration until the next keyframe. */
  private readonly behind = new WeakSet<FanoutSession>();

  constructor(
    private broadcast: FanoutBroadcast,
    defaultHeader: Buffer,
    private readonly opts: FanoutOptions,
  ) {
    this.header = defaultHeader;
    this.attach(broadcast);
  }

  /** Makes `broadcast` (node-media-server's, possibly one viewers are already waiting on) read its caches from here. */
  attach(broadcast: FanoutBroadcast): void {
    this.broadcast = broadcast;
    const rtmp = (tag: Buffer | null) => (tag === null ? null : this.rtmpOf(tag));
    const ignore = { set: () => undefined, configurable: true, enumerable: true };
    Object.defineProperties(broadcast, {
      flvHeader: { ...ignore, get: () => this.header },
      flvMetaData: { ...ignore, get: () => this.metaData },
      flvAudioHeader: { ...ignore, get: () => this.audioHeader },
      flvVideoHeader: { ...ignore, get: () => this.videoHeader },
      flvGopCache: { ...ignore, get: () => this.gop.tags() },
      rtmpMetaData: { ...ignore, get: () => rtmp(this.metaData) },
      rtmpAudioHeader: { ...ignore, get: () => rtmp(this.audioHeader) },
      rtmpVideoHeader: { ...ignore, get: () => rtmp(this.videoHeader) },
      rtmpGopCache: { ...ignore, get: () => this.gop.tags()?.map((tag) => this.rtmpOf(tag)) ?? null },
    });
  }

  get broadcastServed(): FanoutBroadcast {
    return this.broadcast;
  }

  /**
   * A new publish: returns where to push its bytes. A pushed chunk may be a view of a read
   * buffer that is reused once `push` returns: what is kept (file header, configuration, GOP,
   * a cut tag) is copied, and while the stream has a subscriber, whose transport may queue what
   * it is given, the chunk is copied once before its tags are written.
   */
  run(): { push(chunk: Buffer): void } {
    const splitter = this.splitter();
    const subscribers = () => this.broadcast.subscribers.size;
    return { push: (chunk) => splitter.push(subscribers() === 0 ? chunk : Buffer.from(chunk)) };
  }

  private splitter(): FlvTagSplitter {
    const previousEnd = this.lastDts;
    let first = true;
    return new FlvTagSplitter(
      (header) => {
        this.header = Buffer.from(header);
      },
      (tag) => {
        if (first) {
          first = false;
          // A run's own timeline starts near 0: continue the previous run's instead.
          this.offset = previousEnd === 0 ? 0 : Math.max(0, previousEnd + 1 - timestampOf(tag));
        }
        this.onTag(tag);
      },
      this.opts.maxTagBytes,
    );
  }

  /** The publish ended: late viewers get nothing stale; the ones playing stay and wait for the next run. */
  end(): void {
    this.metaData = null;
    this.audioHeader = null;
    this.videoHeader = null;
    this.gop.release();
  }

  private onTag(tag: Buffer): void {
    this.stats.tags += 1;
    let dts = timestampOf(tag);
    if (this.offset !== 0) {
      dts = (dts + this.offset) >>> 0;
      writeTimestamp(tag, dts);
    }
    this.lastDts = dts;
    const info = classify(tag);
    this.cache(tag, info);
    if (this.broadcast.subscribers.size === 0) return;
    this.fanOut(tag, info, dts);
  }

  private cache(tag: Buffer, info: TagInfo): void {
    if (info.config) {
      // Kept past this chunk's lifetime and written once per late viewer: a copy of its own.
      if (info.type === SCRIPT) this.metaData = stripSetDataFrame(Buffer.from(tag));
      else if (info.type === AUDIO) this.audioHeader = Buffer.from(tag);
      else this.videoHeader = Buffer.from(tag);
      return;
    }
    if (info.keyframe) this.gop.start(tag);
    else this.gop.append(tag);
  }

  private fanOut(tag: Buffer, info: TagInfo, dts: number): void {
    this.stats.fannedOut += 1;
    const out = info.type === SCRIPT && this.metaData !== null ? this.metaData : tag;
    let rtmp: Buffer | null = null;
    for (const session of this.broadcast.subscribers.values()) {
      if (!info.config && !this.keepsUp(session, info.keyframe)) {
        this.stats.skipped += 1;
        continue;
      }
      if (session.protocol === 'rtmp') session.sendBuffer((rtmp ??= this.rtmpOf(out, dts)));
      else if (session.protocol === 'flv') session.sendBuffer(out);
    }
  }

  /**
   * Whether to write a media tag to `session`: one whose transport holds more than the
   * backlog limit misses tags until it has drained and a keyframe comes, so a slow viewer
   * costs a bounded buffer and resumes with a decodable picture, never a smeared one.
   */
  private keepsUp(session: FanoutSession, keyframe: boolean): boolean {
    const backlog = backlogOf(session);
    if (this.behind.has(session)) {
      if (!keyframe || backlog > this.opts.maxBacklogBytes / 2) return false;
      this.behind.delete(session);
      return true;
    }
    if (backlog <= this.opts.maxBacklogBytes) return true;
    this.behind.add(session);
    return false;
  }

  private rtmpOf(tag: Buffer, dts = timestampOf(tag)): Buffer {
    this.stats.rtmpBuilt += 1;
    const size = tag.length - TAG_HEADER - PREV_TAG_SIZE;
    const data = tag.subarray(TAG_HEADER, TAG_HEADER + size);
    return this.opts.rtmpMessageOf({ codec_type: (tag[0] as number) & 0x1f, dts, pts: dts, size, data });
  }
}
