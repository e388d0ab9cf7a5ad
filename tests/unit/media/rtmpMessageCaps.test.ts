import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { installMessageCaps, trustPublisher, type Cutoff } from '../../../src/media/nmsHardening.js';
import type { RtmpParser } from '../../../src/media/nmsInternals.js';

/** node-media-server's own RTMP parser, fed the bytes a client would send. */
const Rtmp = createRequire(import.meta.url)('node-media-server/src/protocol/rtmp.js') as new () => RtmpParser & {
  onOutputCallback: (b: Buffer) => void;
  onPacketCallback: (p: unknown) => void;
};

const cutoffs: Cutoff[] = [];

beforeAll(() => {
  installMessageCaps(
    {
      maxConnections: 8,
      maxConnectionsPerAddress: 8,
      preAuthMessageBytes: 64 * 1024,
      mediaMessageBytes: 1024 * 1024,
      wsMaxPayloadBytes: 1024,
      authTimeoutSeconds: 10,
    },
    (c) => cutoffs.push(c),
  );
});

/**
 * A parser past the handshake; with `largeChunks` it is also told the largest chunk
 * size (a message is then one chunk), else chunks are RTMP's default 128 bytes.
 */
function connected(largeChunks = true): RtmpParser {
  const parser = new Rtmp();
  parser.onOutputCallback = () => undefined;
  parser.onPacketCallback = () => undefined;
  expect(parser.parserData(Buffer.alloc(1 + 1536 + 1536))).toBeNull();
  if (largeChunks) expect(parser.parserData(Buffer.from('02000000000004010000000000ffffff', 'hex'))).toBeNull();
  return parser;
}

/**
 * Type-0 chunk header of a message of `length` bytes and `type` on chunk stream `cid`,
 * with the first payload byte (the parser allocates when the payload begins).
 */
function header(cid: number, length: number, type: number): Buffer {
  const b = Buffer.alloc(13);
  b[0] = cid;
  b.writeUIntBE(length, 4, 3);
  b[7] = type;
  return b;
}

describe('RTMP message caps', () => {
  it('refuses a declared length over the pre-publish cap before allocating it, and stays refused', () => {
    const parser = connected();
    const error = parser.parserData(header(6, 0xffffff, 0x14));
    expect(error).toMatch(
      /declared a 16777215-byte message before being allowed to publish, .* \(at most 65536, media\.limits\.preAuthMessageBytes\)/,
    );
    expect(parser.parserPacket.capacity).toBe(0);
    expect(parser.parserData(Buffer.alloc(10))).toBe(error);
    expect(cutoffs.at(-1)).toMatchObject({ server: 'rtmp', reason: 'message_size' });
  });

  it('counts what every chunk stream holds before publishing', () => {
    const parser = connected(false);
    // The first 128-byte chunk of a 40 000-byte message, then another such message on another chunk stream.
    expect(parser.parserData(Buffer.concat([header(4, 40_000, 0x09), Buffer.alloc(127)]))).toBeNull();
    expect(parser.parserData(header(5, 40_000, 0x08))).toMatch(/declared a 40000-byte message .*, 81024 bytes over all its chunk streams/);
  });

  it('refuses more chunk streams than a client needs before publishing', () => {
    const parser = connected();
    let error: string | null = null;
    // One-byte user control messages, each on a chunk stream of its own.
    for (let cid = 3; cid < 40 && error === null; cid++) error = parser.parserData(header(cid, 1, 0x04));
    expect(error).toMatch(/opened 17 chunk streams before being allowed to publish \(at most 16\)/);
  });

  it('turns a malformed command, which the parser throws on, into an error for the connection', () => {
    const parser = connected();
    expect(parser.parserData(header(3, 1, 0x14))).toMatch(/^malformed RTMP data: /);
    expect(cutoffs.at(-1)).toMatchObject({ server: 'rtmp', reason: 'rtmp_protocol' });
  });

  it('lets an authorised publisher send frames up to the media cap, no larger', () => {
    const parser = connected();
    trustPublisher({ rtmp: parser });
    expect(parser.parserData(header(6, 512 * 1024, 0x09))).toBeNull();
    expect(parser.parserPacket.capacity).toBeGreaterThanOrEqual(512 * 1024);
    const fresh = connected();
    trustPublisher({ rtmp: fresh });
    expect(fresh.parserData(header(6, 2 * 1024 * 1024, 0x09))).toMatch(
      /declared a 2097152-byte message \(at most 1048576, media\.limits\.mediaMessageBytes\)/,
    );
  });
});
