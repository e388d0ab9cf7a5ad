import { describe, expect, it } from 'vitest';
import { FlvFanout, FlvTagSplitter, type FanoutBroadcast, type FanoutSession } from '../../../src/media/flvFanout.js';

const FILE_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);

/** One whole FLV tag: 11-byte header, body, PreviousTagSize. */
function tag(type: number, timestamp: number, body: number[]): Buffer {
  const out = Buffer.alloc(11 + body.length + 4);
  out[0] = type;
  out.writeUIntBE(body.length, 1, 3);
  out.writeUIntBE(timestamp & 0xffffff, 4, 3);
  out[7] = (timestamp >>> 24) & 0xff;
  Buffer.from(body).copy(out, 11);
  out.writeUInt32BE(11 + body.length, 11 + body.length);
  return out;
}

const meta = () => tag(18, 0, [0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x05]);
const avcHeader = () => tag(9, 0, [0x17, 0x00, 0, 0, 0, 1, 2, 3]);
const aacHeader = () => tag(8, 0, [0xaf, 0x00, 0x12, 0x10]);
const key = (ts: number) => tag(9, ts, [0x17, 0x01, 0, 0, 0, 0xaa, ts & 0xff]);
const inter = (ts: number) => tag(9, ts, [0x27, 0x01, 0, 0, 0, 0xbb, ts & 0xff]);
const audio = (ts: number) => tag(8, ts, [0xaf, 0x01, ts & 0xff]);

function timestampOf(t: Buffer): number {
  return (t[7] as number) * 0x1000000 + t.readUIntBE(4, 3);
}

/** A viewer whose connection holds `backlog` unsent bytes (as an HTTP response reports it). */
class Viewer implements FanoutSession {
  readonly received: Buffer[] = [];
  readonly res = { writableLength: 0 };
  constructor(
    readonly id: string,
    readonly protocol: 'flv' | 'rtmp' = 'flv',
  ) {}
  sendBuffer(buffer: Buffer): void {
    this.received.push(Buffer.from(buffer));
  }
}

/** node-media-server's play path, as far as a late viewer sees it: header, metadata, sequence headers, GOP. */
function play(broadcast: FanoutBroadcast, viewer: Viewer): void {
  const b = broadcast as unknown as Record<string, Buffer | Buffer[] | null>;
  viewer.sendBuffer(b.flvHeader as Buffer);
  for (const field of ['flvMetaData', 'flvAudioHeader', 'flvVideoHeader']) if (b[field] !== null) viewer.sendBuffer(b[field] as Buffer);
  (b.flvGopCache as Buffer[] | null)?.forEach((t) => viewer.sendBuffer(t));
  broadcast.subscribers.set(viewer.id, viewer);
}

function setUp(maxBacklogBytes = 1 << 20) {
  const broadcast: FanoutBroadcast = { streamPath: '/raw/1', subscribers: new Map() };
  const rtmpBuilt: number[] = [];
  const fanout = new FlvFanout(broadcast, Buffer.from(FILE_HEADER), {
    rtmpMessageOf: (packet) => {
      rtmpBuilt.push(packet.dts);
      return Buffer.concat([Buffer.from([packet.codec_type]), packet.data]);
    },
    maxBacklogBytes,
    maxTagBytes: 1 << 20,
  });
  return { broadcast, fanout, rtmpBuilt };
}

describe('FlvTagSplitter', () => {
  it('gives whole tags however the pipe cuts the bytes, viewing the chunk when a tag lies inside it', () => {
    const tags = [meta(), avcHeader(), key(0), inter(40), audio(41), inter(80)];
    const stream = Buffer.concat([FILE_HEADER, ...tags]);
    for (const step of [1, 3, 11, 17, stream.length]) {
      const got: Buffer[] = [];
      let header: Buffer | null = null;
      const splitter = new FlvTagSplitter(
        (h) => (header = h),
        (t) => got.push(Buffer.from(t)),
        1 << 20,
      );
      for (let at = 0; at < stream.length; at += step) splitter.push(stream.subarray(at, at + step));
      expect(header).toEqual(FILE_HEADER);
      expect(got).toEqual(tags);
    }
    // In one chunk: the tags are views of it, not copies.
    const views: Buffer[] = [];
    new FlvTagSplitter(
      () => undefined,
      (t) => views.push(t),
      1 << 20,
    ).push(stream);
    expect(views.every((t) => t.buffer === stream.buffer)).toBe(true);
  });

  it('refuses a stream that is not FLV or declares an oversized tag', () => {
    expect(() =>
      new FlvTagSplitter(
        () => undefined,
        () => undefined,
        100,
      ).push(Buffer.alloc(13)),
    ).toThrow(/not carry FLV/);
    const big = tag(9, 0, new Array<number>(200).fill(0));
    expect(() =>
      new FlvTagSplitter(
        () => undefined,
        () => undefined,
        100,
      ).push(Buffer.concat([FILE_HEADER, big])),
    ).toThrow(/200 bytes.*at most 100/);
  });
});

describe('FlvFanout', () => {
  it('does no per-packet work for a stream nobody watches beyond keeping its GOP', () => {
    const { fanout, rtmpBuilt } = setUp();
    const feed = fanout.run();
    feed.push(Buffer.concat([FILE_HEADER, meta(), avcHeader(), aacHeader()]));
    for (let i = 0; i < 100; i++) feed.push(i % 25 === 0 ? key(i * 40) : inter(i * 40));
    expect(fanout.stats.tags).toBe(103);
    expect(fanout.stats.fannedOut).toBe(0);
    expect(rtmpBuilt).toEqual([]);
  });

  it('starts a late viewer at the last keyframe, after the sequence headers and metadata', () => {
    const { broadcast, fanout } = setUp();
    const feed = fanout.run();
    feed.push(Buffer.concat([FILE_HEADER, meta(), avcHeader(), aacHeader(), key(0), inter(40), audio(41)]));
    feed.push(Buffer.concat([key(80), inter(120), audio(121)]));
    const late = new Viewer('late');
    play(broadcast, late);
    feed.push(inter(160));
    expect(late.received).toEqual([FILE_HEADER, meta(), aacHeader(), avcHeader(), key(80), inter(120), audio(121), inter(160)]);
    expect(fanout.stats.fannedOut).toBe(1);
  });

  it("keeps its GOP in its own memory: the pipe's read buffer may be reused once a chunk is pushed", () => {
    const { broadcast, fanout } = setUp();
    const feed = fanout.run();
    feed.push(Buffer.concat([FILE_HEADER, meta(), avcHeader()]));
    // One buffer for every read, as a reader with a fixed buffer has it.
    const readBuffer = Buffer.alloc(4096);
    for (const t of [key(0), inter(40), inter(80)]) {
      t.copy(readBuffer);
      feed.push(readBuffer.subarray(0, t.length));
      readBuffer.fill(0x55);
    }
    const late = new Viewer('late');
    play(broadcast, late);
    expect(late.received.slice(3)).toEqual([key(0), inter(40), inter(80)]);
  });

  it("hands a viewer bytes of its own, not a view of the pipe's reused read buffer", () => {
    const { broadcast, fanout } = setUp();
    const feed = fanout.run();
    feed.push(Buffer.concat([FILE_HEADER, meta(), avcHeader(), key(0)]));
    // A transport that queues what it is given (a socket not yet drained) keeps the buffer itself.
    const queued: Buffer[] = [];
    broadcast.subscribers.set('q', { id: 'q', protocol: 'flv', sendBuffer: (b) => queued.push(b), res: { writableLength: 0 } });
    const readBuffer = Buffer.alloc(4096);
    for (const t of [inter(40), Buffer.concat([inter(80), audio(81)])]) {
      t.copy(readBuffer);
      feed.push(readBuffer.subarray(0, t.length));
      readBuffer.fill(0x55);
    }
    expect(queued).toEqual([inter(40), inter(80), audio(81)]);
  });

  it('drops a GOP cache that outgrows its limit until the next keyframe', () => {
    const { broadcast, fanout } = setUp();
    const feed = fanout.run();
    feed.push(Buffer.concat([FILE_HEADER, meta(), avcHeader(), key(0)]));
    for (let i = 1; i <= 4096; i++) feed.push(inter(i * 40));
    expect((broadcast as unknown as { flvGopCache: unknown }).flvGopCache).toBeNull();
    feed.push(key(4097 * 40));
    feed.push(inter(4098 * 40));
    const late = new Viewer('late');
    play(broadcast, late);
    expect(late.received.slice(3)).toEqual([key(4097 * 40), inter(4098 * 40)]);
  });

  it('skips a slow viewer to the next keyframe once it has drained, instead of buffering without bound', () => {
    const { broadcast, fanout } = setUp(1000);
    const feed = fanout.run();
    feed.push(Buffer.concat([FILE_HEADER, avcHeader(), key(0)]));
    const slow = new Viewer('slow');
    const fast = new Viewer('fast');
    play(broadcast, slow);
    play(broadcast, fast);
    const before = slow.received.length;
    slow.res.writableLength = 5000; // its peer stopped reading
    feed.push(Buffer.concat([inter(40), audio(41), inter(80)]));
    expect(slow.received.length).toBe(before);
    slow.res.writableLength = 0; // drained: still nothing until a picture can be decoded
    feed.push(inter(120));
    expect(slow.received.length).toBe(before);
    feed.push(Buffer.concat([key(160), inter(200)]));
    expect(slow.received.slice(before)).toEqual([key(160), inter(200)]);
    expect(fast.received.slice(-6)).toEqual([inter(40), audio(41), inter(80), inter(120), key(160), inter(200)]);
    expect(fanout.stats.skipped).toBe(4);
  });

  it('builds RTMP messages only while an RTMP reader plays, once per tag for all of them', () => {
    const { broadcast, fanout, rtmpBuilt } = setUp();
    const feed = fanout.run();
    feed.push(Buffer.concat([FILE_HEADER, avcHeader(), key(0), inter(40)]));
    expect(rtmpBuilt).toEqual([]);
    broadcast.subscribers.set('r1', new Viewer('r1', 'rtmp'));
    broadcast.subscribers.set('r2', new Viewer('r2', 'rtmp'));
    feed.push(inter(80));
    expect(rtmpBuilt).toEqual([80]);
  });

  it('continues the timeline of viewers who stay through an ingest restart', () => {
    const { broadcast, fanout } = setUp();
    const viewer = new Viewer('v');
    broadcast.subscribers.set('v', viewer);
    const first = fanout.run();
    first.push(Buffer.concat([FILE_HEADER, avcHeader(), key(0), inter(5000)]));
    fanout.end();
    expect((broadcast as unknown as { flvGopCache: unknown }).flvGopCache).toBeNull();
    const second = fanout.run();
    second.push(Buffer.concat([FILE_HEADER, avcHeader(), key(0), inter(40)]));
    const times = viewer.received.filter((t) => t[0] === 9 && t[12] === 1).map(timestampOf);
    expect(times).toEqual([0, 5000, 5001, 5041]);
  });
});
