import type { Logger } from '../log.js';
import { FlvFanout, type FanoutStats } from './flvFanout.js';
import { nmsInternals, type NmsBroadcast, type NmsFedBroadcast } from './nmsInternals.js';

/**
 * Publishes into node-media-server without RTMP: an ingest run writes FLV to its fd 3, the
 * fan-out (flvFanout.ts) splits it into tags and serves the stream path's broadcast, the
 * same object node-media-server's HTTP-FLV, WS-FLV and RTMP play sessions subscribe to. So
 * the play path (tokens, hooks, viewer accounting, mirrors) is node-media-server's as
 * before; only its per-packet publish side (RTMP chunk parsing, an FLV and an RTMP message
 * built for every packet) is gone.
 */

/** One ingest run's publish: its FLV bytes in, then its end. */
export interface LiveFeedRun {
  /** Where the run writes FLV: the tee slave's URL (its fd 3). */
  readonly url: string;
  /** `chunk` may be a view of a reused read buffer: valid only during the call (the fan-out copies what it keeps). */
  write(chunk: Buffer): void;
  end(): void;
  /** Whether the stream has a subscriber now (a viewer, a push, a mirror's viewer): see FfmpegProcess's `pipe3Prompt`. */
  watched(): boolean;
}

/** Stands for the run as the broadcast's publisher (node-media-server counts plays on it). */
export interface FeedPublisher {
  id: string;
  ip: string;
  protocol: 'pipe';
  streamPath: string;
  inBytes: number;
  playCount: number;
}

export interface LiveFeedsOptions {
  maxTagBytes: number;
  maxBacklogBytes: number;
  /** The FLV header served until the run's own arrives. */
  header: (streamPath: string) => Buffer;
  published: (streamPath: string, publisher: FeedPublisher) => void;
  unpublished: (streamPath: string, publisher: FeedPublisher) => void;
  logger: Logger;
}

let runs = 0;

export class LiveFeeds {
  private readonly fanouts = new Map<string, FlvFanout>();

  constructor(private readonly opts: LiveFeedsOptions) {}

  open(streamPath: string): LiveFeedRun {
    const { broadcasts, newBroadcast, rtmpParser } = nmsInternals();
    let broadcast = broadcasts.get(streamPath) as unknown as NmsFedBroadcast | undefined;
    // Viewers who came first wait on a broadcast their session made: it is adopted. A path
    // served as another's mirror gets its own broadcast.
    if (broadcast?.streamPath !== streamPath) {
      broadcast = newBroadcast(streamPath);
      broadcasts.set(streamPath, broadcast as unknown as NmsBroadcast);
    }
    if (broadcast.publisher !== null) throw new Error(`${streamPath} already has a publisher`);
    let fanout = this.fanouts.get(streamPath);
    if (fanout === undefined) {
      fanout = new FlvFanout(broadcast, this.opts.header(streamPath), {
        rtmpMessageOf: (packet) => rtmpParser.createMessage(packet),
        maxBacklogBytes: this.opts.maxBacklogBytes,
        maxTagBytes: this.opts.maxTagBytes,
      });
      this.fanouts.set(streamPath, fanout);
    } else if (fanout.broadcastServed !== broadcast) fanout.attach(broadcast);
    runs += 1;
    const publisher: FeedPublisher = { id: `feed-${runs}`, ip: '', protocol: 'pipe', streamPath, inBytes: 0, playCount: 0 };
    broadcast.publisher = publisher;
    const splitter = fanout.run();
    this.opts.published(streamPath, publisher);
    const served = broadcast;
    const ownFanout = fanout;
    let open = true;
    let ended = false;
    return {
      url: 'pipe:3',
      write: (chunk) => {
        if (!open) return;
        publisher.inBytes += chunk.length;
        try {
          splitter.push(chunk);
        } catch (err) {
          // Not reachable with ffmpeg's own FLV; if it were, the rest of this run is unreadable.
          open = false;
          this.opts.logger.error({ err, stream: streamPath }, 'live feed unreadable: its viewers get no more of this run');
        }
      },
      watched: () => ownFanout.broadcastServed.subscribers.size > 0,
      end: () => {
        if (ended) return;
        ended = true;
        open = false;
        ownFanout.end();
        if (served.publisher === publisher) served.publisher = null;
        this.opts.unpublished(streamPath, publisher);
        served._destroyIfEmpty();
      },
    };
  }

  /** Totals over every stream's fan-out (the per-packet work done, or not, without viewers). */
  stats(): FanoutStats {
    const total: FanoutStats = { tags: 0, fannedOut: 0, rtmpBuilt: 0, skipped: 0 };
    for (const fanout of this.fanouts.values()) {
      total.tags += fanout.stats.tags;
      total.fannedOut += fanout.stats.fannedOut;
      total.rtmpBuilt += fanout.stats.rtmpBuilt;
      total.skipped += fanout.stats.skipped;
    }
    return total;
  }
}
