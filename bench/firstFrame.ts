import { request } from 'node:http';
import WebSocket from 'ws';
import { FlvPacketType, FlvTagReader, isDecodableStart, type FlvTag } from '../src/media/index.js';
import { nowMs } from './children.js';

/**
 * Time from a viewer's request to its first decodable video: the video sequence header
 * and then a keyframe, read with the gateway's own FLV parser.
 */
class DecodableWatch {
  private readonly reader = new FlvTagReader();
  private sawHeader = false;

  /** True once the bytes so far hold a sequence header followed by a keyframe. */
  push(chunk: Buffer): boolean {
    for (const tag of this.reader.push(chunk)) if (this.decodable(tag)) return true;
    return false;
  }

  private decodable(tag: FlvTag): boolean {
    if (!isDecodableStart(tag)) return false;
    if (tag.avcPacketType === FlvPacketType.SEQUENCE_HEADER) {
      this.sawHeader = true;
      return false;
    }
    return this.sawHeader;
  }
}

export type Protocol = 'http-flv' | 'ws-flv';

/** Opens one viewer and resolves with ms to its first decodable frame; rejects on timeout or error. */
export function timeToFirstFrame(protocol: Protocol, url: string, timeoutMs: number): Promise<number> {
  return protocol === 'http-flv' ? httpFirstFrame(url, timeoutMs) : wsFirstFrame(url, timeoutMs);
}

function httpFirstFrame(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const watch = new DecodableWatch();
    let sentAt = 0;
    const req = request(url, { agent: false, headers: { connection: 'close' } });
    const timer = setTimeout(() => finish(new Error(`no decodable frame within ${timeoutMs} ms`)), timeoutMs);
    const finish = (outcome: number | Error) => {
      clearTimeout(timer);
      req.destroy();
      if (typeof outcome === 'number') resolve(outcome);
      else reject(outcome);
    };
    // The request goes out as soon as the loopback connection is up.
    req.on('socket', (socket) => socket.once('connect', () => (sentAt = nowMs())));
    req.on('response', (res) => {
      if (res.statusCode !== 200) return finish(new Error(`HTTP ${res.statusCode}`));
      res.on('data', (chunk: Buffer) => {
        try {
          if (watch.push(chunk)) finish(nowMs() - sentAt);
        } catch (err) {
          finish(err as Error);
        }
      });
      res.on('end', () => finish(new Error('stream ended before a decodable frame')));
    });
    req.on('error', (err) => finish(err));
    req.end();
  });
}

function wsFirstFrame(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const watch = new DecodableWatch();
    const sentAt = nowMs();
    const ws = new WebSocket(url);
    const timer = setTimeout(() => finish(new Error(`no decodable frame within ${timeoutMs} ms`)), timeoutMs);
    const finish = (outcome: number | Error) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      if (typeof outcome === 'number') resolve(outcome);
      else reject(outcome);
    };
    ws.on('message', (data: Buffer) => {
      try {
        if (watch.push(data)) finish(nowMs() - sentAt);
      } catch (err) {
        finish(err as Error);
      }
    });
    ws.on('error', (err) => finish(err));
    ws.on('close', () => finish(new Error('closed before a decodable frame')));
  });
}

/**
 * A viewer that stays connected (reconnecting when the server ends the stream) and
 * notes when each video tag arrives: "the stream flows again" for a viewer is the first
 * video tag received after a given instant on a connection opened before that instant
 * (later connections would first get the GOP cache, which may be stale).
 */
export class FlvViewer {
  readonly videoArrivals: number[] = [];
  /** When each connection was opened. */
  readonly connections: number[] = [];
  private closed = false;
  private current: { destroy(): void } | null = null;

  constructor(private readonly url: string) {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const reader = new FlvTagReader();
    this.connections.push(nowMs());
    const req = request(this.url, { agent: false });
    this.current = req;
    const again = () => {
      if (this.current !== req) return;
      this.current = null;
      setTimeout(() => this.connect(), 100);
    };
    req.on('response', (res) => {
      res.on('data', (chunk: Buffer) => {
        try {
          for (const tag of reader.push(chunk)) if (tag.type === 'video') this.videoArrivals.push(nowMs());
        } catch {
          req.destroy();
        }
      });
      res.on('end', again);
      res.on('error', again);
    });
    req.on('error', again);
    req.end();
  }

  /** First video arrival after `since`, provided the connection carrying it opened before `since`. */
  firstVideoAfter(since: number): number | null {
    const opened = this.connections.filter((c) => c < since).at(-1);
    if (opened === undefined || this.connections.some((c) => c >= since)) return null;
    return this.videoArrivals.find((t) => t > since) ?? null;
  }

  close(): void {
    this.closed = true;
    this.current?.destroy();
    this.current = null;
  }
}
