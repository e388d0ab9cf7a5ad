import { createRequire } from 'node:module';
import type { Server as NetServer, Socket } from 'node:net';
import { GatewayError } from '../errors.js';
import { stripSetDataFrame } from './flvMetadata.js';
import type { FanoutBroadcast, RtmpMessageOf } from './flvFanout.js';

/**
 * The internals of node-media-server 4.4 the gateway relies on, in one place (the
 * version is pinned by package-lock): its registry of broadcasts (one per stream path)
 * and its FLV header builder.
 */
export interface NmsSubscriber {
  broadcast?: NmsBroadcast;
  /** The path the subscriber asked for (a mirrored path's viewers sit on the source's broadcast). */
  streamPath?: string;
  /** Ends the session (HTTP response, WebSocket, RTMP socket). */
  close?: () => void;
}

/** A play session as its broadcast sees it: donePlay drops it from the subscribers. */
export interface NmsPlaySession {
  id: string;
  broadcast?: { donePlay?: (session: NmsPlaySession) => void };
}

export interface NmsBroadcast {
  streamPath: string;
  flvHeader: Buffer;
  flvMetaData: Buffer | null;
  subscribers: Map<string, NmsSubscriber>;
  /** Set while a publish that ended may still be resumed. */
  _publishGraceTimer?: unknown;
  /** Last timestamp per track (8 audio, 9 video), the offsets of a resumed publish. */
  _lastDts: Record<number, number | undefined>;
}

/** One chunk stream's message being reassembled by the RTMP parser. */
export interface RtmpChunkPacket {
  header: { length: number; type: number };
  /** Bytes allocated for its payload. */
  capacity: number;
}

/** node-media-server's RTMP parser (protocol/rtmp.js), one per connection. */
export interface RtmpParser {
  parserPacket: RtmpChunkPacket;
  inPackets: Map<number, RtmpChunkPacket>;
  /** Allocates parserPacket's payload for the length its header declares. */
  packetAlloc(): void;
  /** Feeds received bytes; a returned string is an error after which the session ends the socket. */
  parserData(buffer: Buffer): string | null;
}

interface NmsContext {
  config: { bind?: string };
  broadcasts: Map<string, NmsBroadcast>;
  sessions: Map<string, { socket?: Socket; rtmp?: RtmpParser }>;
}

/** The listeners inside a constructed NodeMediaServer (before run()). */
export interface NmsListeners {
  rtmp: NetServer;
  /** Its run() starts the RTMP listener on Context.config.bind. */
  rtmpServer: { run: () => void };
  http: NetServer;
  ws: {
    options: { maxPayload?: number };
    on(event: 'connection', listener: (ws: NmsWebSocket, req: { socket: { remoteAddress?: string } }) => void): void;
  };
}

export interface NmsWebSocket {
  on(event: 'error', listener: (err: Error) => void): void;
  terminate(): void;
}

/** The fields of node-media-server's BroadcastServer the live fan-out sets (see liveFeeds.ts). */
export interface NmsFedBroadcast extends FanoutBroadcast {
  publisher: object | null;
  /** Drops the broadcast from the registry when it has neither publisher nor subscriber. */
  _destroyIfEmpty: () => void;
}

interface NmsInternals {
  context: NmsContext;
  broadcasts: Map<string, NmsBroadcast>;
  createFlvHeader: (hasAudio: boolean, hasVideo: boolean) => Buffer;
  rtmpParser: { prototype: RtmpParser; createMessage: RtmpMessageOf };
  /** node-media-server's BroadcastServer: what its play sessions subscribe to. */
  newBroadcast: (streamPath: string) => NmsFedBroadcast;
}

/** The node-media-server line whose internals the hooks below were written against. */
const SUPPORTED_NMS = /^4\.4\./;

let internals: NmsInternals | null = null;

export function nmsInternals(): NmsInternals {
  if (internals) return internals;
  const require = createRequire(import.meta.url);
  const { version } = require('node-media-server/package.json') as { version: string };
  if (!SUPPORTED_NMS.test(version)) throw internalsChanged(`version ${version} is not 4.4.x`);
  const context = require('node-media-server/src/core/context.js') as NmsContext;
  const flv = require('node-media-server/src/protocol/flv.js') as { createHeader: NmsInternals['createFlvHeader'] };
  const rtmpParser = require('node-media-server/src/protocol/rtmp.js') as NmsInternals['rtmpParser'];
  const proto = rtmpParser.prototype as Partial<RtmpParser> | undefined;
  if (typeof proto?.packetAlloc !== 'function' || typeof proto.parserData !== 'function')
    throw internalsChanged('protocol/rtmp.js no longer has packetAlloc / parserData');
  if (!(context.broadcasts instanceof Map) || !(context.sessions instanceof Map))
    throw internalsChanged('core/context.js no longer keeps broadcasts and sessions in Maps');
  if (typeof rtmpParser.createMessage !== 'function') throw internalsChanged('protocol/rtmp.js no longer has createMessage');
  const Broadcast = require('node-media-server/src/server/broadcast_server.js') as new (path: string) => NmsFedBroadcast;
  const probe = new Broadcast('/probe/probe');
  if (!(probe.subscribers instanceof Map) || !('publisher' in probe) || typeof probe._destroyIfEmpty !== 'function')
    throw internalsChanged('server/broadcast_server.js no longer has subscribers / publisher / _destroyIfEmpty');
  internals = {
    context,
    broadcasts: context.broadcasts,
    createFlvHeader: (a, v) => flv.createHeader(a, v),
    rtmpParser,
    newBroadcast: (path) => new Broadcast(path),
  };
  return internals;
}

/** The listeners of a constructed server, checked to be what the gateway hooks into. */
export function nmsListeners(nms: object): NmsListeners {
  const inner = nms as {
    rtmpServer?: { tcpServer?: NetServer; run?: () => void };
    httpServer?: { httpServer?: NetServer; wsServer?: NmsListeners['ws'] };
  };
  const rtmpServer = inner.rtmpServer;
  const rtmp = rtmpServer?.tcpServer;
  const http = inner.httpServer?.httpServer;
  const ws = inner.httpServer?.wsServer;
  if (!rtmp || typeof rtmpServer?.run !== 'function' || !http || typeof ws?.options !== 'object')
    throw internalsChanged('NodeMediaServer no longer has rtmpServer.tcpServer / httpServer.httpServer / httpServer.wsServer');
  return { rtmp, rtmpServer: rtmpServer as { run: () => void }, http, ws };
}

function internalsChanged(what: string): GatewayError {
  return new GatewayError('MEDIA_INTERNALS_CHANGED', `node-media-server changed where the gateway hooks into it: ${what}.`, {
    hint: 'Install the node-media-server version pinned in package-lock.json (`npm ci`), or adapt src/media/nmsInternals.ts to the new one.',
  });
}

/** Sessions subscribed to any stream (viewers, internal readers, refused ones not yet dropped). */
export function subscriberCount(): number {
  let count = 0;
  for (const broadcast of nmsInternals().broadcasts.values()) count += broadcast.subscribers.size;
  return count;
}

const metadataFixed = new WeakSet<object>();

/** Late viewers get the cached metadata tag: cache it in the form FLV readers understand. */
export function fixMetadataOf(broadcast: { flvMetaData: Buffer | null }): void {
  if (metadataFixed.has(broadcast)) return;
  metadataFixed.add(broadcast);
  let cached: Buffer | null = broadcast.flvMetaData === null ? null : stripSetDataFrame(broadcast.flvMetaData);
  Object.defineProperty(broadcast, 'flvMetaData', {
    get: () => cached,
    set: (tag: Buffer | null) => {
      cached = tag === null ? null : stripSetDataFrame(tag);
    },
  });
}

/**
 * A publish on a path whose previous publisher left less than 30 s ago is a "resume" to
 * node-media-server: it shifts each track of the new publish by that track's last
 * timestamp, so viewers see one continuous timeline. A track the previous publish did not
 * carry (a camera replaced by one with audio) would be shifted by 0 and play seconds, or
 * hours, apart from the video. One offset for every track keeps them together.
 */
export function alignResumeOffsets(streamPath: string): void {
  const broadcast = nmsInternals().broadcasts.get(streamPath);
  if (!broadcast || broadcast._publishGraceTimer === null || broadcast._publishGraceTimer === undefined) return;
  const last = Math.max(broadcast._lastDts[8] ?? 0, broadcast._lastDts[9] ?? 0);
  broadcast._lastDts[8] = last;
  broadcast._lastDts[9] = last;
}
