import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginalVideoTaps } from '../../../src/pipeline/originalVideoTaps.js';

const taps = new OriginalVideoTaps();
afterEach(() => taps.close());

/** Sends datagrams to a udp:// URL as the ingest's tee does. */
async function send(url: string, ...chunks: Buffer[]): Promise<void> {
  const port = Number(new URL(url).port);
  const socket = createSocket('udp4');
  for (const chunk of chunks)
    await new Promise<void>((resolve, reject) => socket.send(chunk, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  socket.close();
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('OriginalVideoTaps', () => {
  it('gives each camera one loopback UDP URL of whole TS packets, kept across ingest restarts', async () => {
    const url = await taps.outputUrl('cam1');
    expect(url).toMatch(/^udp:\/\/127\.0\.0\.1:\d+\?pkt_size=1316$/);
    expect(await taps.outputUrl('cam1')).toBe(url);
    expect(await taps.outputUrl('cam2')).not.toBe(url);
  });

  it('hands what arrives to every subscriber until it unsubscribes; a camera without a tap has none', async () => {
    expect(taps.subscribe('nope', () => undefined)).toBeUndefined();
    const url = await taps.outputUrl('cam1');
    const a: Buffer[] = [];
    const b: Buffer[] = [];
    const offA = taps.subscribe('cam1', (c) => a.push(c))!;
    taps.subscribe('cam1', (c) => b.push(c));
    await send(url, Buffer.from('one'));
    await until(() => a.length === 1 && b.length === 1);
    offA();
    await send(url, Buffer.from('two'));
    await until(() => b.length === 2);
    expect(a.map(String)).toEqual(['one']);
    expect(b.map(String)).toEqual(['one', 'two']);
  });
});
