import WebSocket from 'ws';
import { FlvTagReader, type FlvHeader, type FlvTag } from '../../src/media/flv.js';

export interface WsClose {
  code: number;
  reason: string;
}

/** A WS-FLV viewer: every binary message is fed to an FLV demuxer as it arrives. */
export interface WsFlvViewer {
  /** Tags parsed so far, in arrival order. */
  readonly tags: FlvTag[];
  /** The FLV file header once received. */
  readonly header: FlvHeader | null;
  /** Bytes received so far. */
  readonly bytes: number;
  /** Resolves when the server or the client closes the connection. */
  readonly closed: Promise<WsClose>;
  /** Resolves once `check(tags)` holds; rejects when the connection ends first or on timeout. */
  until(what: string, check: (tags: FlvTag[]) => boolean, timeoutMs: number): Promise<void>;
  /** Closes from the client side; resolves once closed. */
  close(): Promise<WsClose>;
}

/** Opens a WS-FLV URL; resolves once the WebSocket handshake is done. */
export async function openWsFlv(url: string, openTimeoutMs = 10_000): Promise<WsFlvViewer> {
  const ws = new WebSocket(url);
  const reader = new FlvTagReader();
  const tags: FlvTag[] = [];
  let bytes = 0;
  let failure: Error | null = null;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());

  const closed = new Promise<WsClose>((resolve) => {
    ws.once('close', (code, reason) => {
      failure ??= new Error(`WebSocket closed with code ${code} ${reason.toString()}`);
      resolve({ code, reason: reason.toString() });
      notify();
    });
  });
  ws.on('message', (data: Buffer) => {
    bytes += data.length;
    try {
      tags.push(...reader.push(Buffer.from(data)));
    } catch (err) {
      failure = err as Error;
    }
    notify();
  });
  ws.on('error', (err) => {
    failure ??= err;
    notify();
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket to ${url} not open after ${openTimeoutMs} ms`));
    }, openTimeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });

  return {
    tags,
    get header() {
      return reader.header;
    },
    get bytes() {
      return bytes;
    },
    closed,
    until: (what, check, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(evaluate);
          settle();
        };
        const evaluate = () => {
          if (check(tags)) done(resolve);
          else if (failure) done(() => reject(new Error(`${what}: ${failure?.message} (after ${tags.length} tags)`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`${what}: timed out after ${timeoutMs} ms (${tags.length} tags)`))),
          timeoutMs,
        );
        listeners.add(evaluate);
        evaluate();
      }),
    close: () => {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
      return closed;
    },
  };
}
