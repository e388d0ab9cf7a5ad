import { createRequire } from 'node:module';
import { stripSetDataFrame } from './flvMetadata.js';

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

interface NmsInternals {
  broadcasts: Map<string, NmsBroadcast>;
  createFlvHeader: (hasAudio: boolean, hasVideo: boolean) => Buffer;
}

let internals: NmsInternals | null = null;

export function nmsInternals(): NmsInternals {
  if (internals) return internals;
  const require = createRequire(import.meta.url);
  const context = require('node-media-server/src/core/context.js') as { broadcasts: NmsInternals['broadcasts'] };
  const flv = require('node-media-server/src/protocol/flv.js') as { createHeader: NmsInternals['createFlvHeader'] };
  internals = { broadcasts: context.broadcasts, createFlvHeader: (a, v) => flv.createHeader(a, v) };
  return internals;
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
