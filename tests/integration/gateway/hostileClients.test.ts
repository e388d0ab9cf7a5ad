import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { withOutsidePeer } from '../../helpers/outsidePeer.js';

/**
 * Clients that never authenticate, against a real gateway with the default media
 * settings (HTTP-FLV on every address, as shipped): they must be cut off before they
 * cost the gateway memory, and RTMP must not be reachable from the network at all.
 */

const MiB = 1024 * 1024;
/** What "a few MB" of growth means here: well under the 15 MiB and 100 MiB the attacks send. */
const RSS_GROWTH_BOUND = 6 * MiB;

describe('media server against hostile clients', () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await GatewayProcess.start({ env: { PSVGW_MEDIA_HOST: '0.0.0.0' } });
  });

  afterAll(async () => {
    await stopAllGateways();
  });

  it('keeps RTMP off the network by default while HTTP-FLV is served on every address', async () => {
    await withOutsidePeer(async (peer) => {
      expect(await peer.connect(gw.ports.flv), 'HTTP-FLV from outside (the address works)').toEqual(['open']);
      expect(await peer.connect(gw.ports.rtmp), 'RTMP from outside').toEqual(['refused']);
    });
  });

  it('cuts off an RTMP client that declares a 16 MiB message before authenticating', async () => {
    const socket = await rtmpHandshake(gw.ports.rtmp);
    const watch = await RssWatch.start(gw.pid);
    // Chunk size as large as a message may be, then one 16 MiB - 1 message on chunk stream 6.
    socket.write(Buffer.from('02000000000004010000000000ffffff', 'hex'));
    socket.write(Buffer.from('0600000000ffffff1400000000', 'hex'));
    const result = await pump(socket, 15 * MiB, 256 * 1024);
    const growth = await watch.stop();
    expect.soft(result.closedByGateway, `sent ${result.sent} bytes and the connection is still open`).toBe(true);
    expect(growth, `gateway RSS grew by ${(growth / MiB).toFixed(1)} MiB`).toBeLessThanOrEqual(RSS_GROWTH_BOUND);
  });

  it('cuts off an RTMP client that sends a malformed command, and keeps running', async () => {
    const socket = await rtmpHandshake(gw.ports.rtmp);
    // An AMF0 command message of one zero byte: the command name cannot be read.
    socket.write(Buffer.from('03000000000001140000000000', 'hex'));
    const result = await pump(socket, 0, 1);
    expect(result.closedByGateway).toBe(true);
    await sleep(500);
    expect(gw.child.exitCode, gw.log.tail()).toBeNull();
    expect((await gw.api('GET', '/healthz', undefined, null)).status).toBe(200);
  });

  it('cuts off an RTMP connection that neither publishes nor plays by the deadline', async () => {
    const socket = await rtmpHandshake(gw.ports.rtmp);
    const received = collect(socket);
    const opened = Date.now();
    await until('the gateway to cut the idle connection', () => received.closed, 40_000);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(9_000); // media.limits.authTimeoutSeconds: 10
    expect(await gw.metric('psvgw_media_connections_cut_total', { server: 'rtmp', reason: 'auth_timeout' })).toBe(1);
  });

  it('refuses an HTTP-FLV publish without reading the 16 MiB tag it declares', async () => {
    const socket = connect({ host: '127.0.0.1', port: gw.ports.flv });
    const received = collect(socket);
    socket.write('POST /main/hostile.flv HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n');
    const watch = await RssWatch.start(gw.pid);
    // FLV file header, then a video tag header declaring 16 MiB - 1.
    socket.write(Buffer.from('464c5601010000000900000000' + '09ffffff00000000000000', 'hex'));
    await pump(socket, 15 * MiB, 256 * 1024);
    const growth = await watch.stop();
    expect.soft(received.text()).toMatch(/^HTTP\/1\.1 403 /);
    expect(growth, `gateway RSS grew by ${(growth / MiB).toFixed(1)} MiB`).toBeLessThanOrEqual(RSS_GROWTH_BOUND);
  });

  it('cuts off a WS-FLV client that sends a 100 MiB frame', async () => {
    const socket = await wsUpgrade(gw.ports.flv, '/main/hostile.flv');
    const watch = await RssWatch.start(gw.pid);
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(100 * MiB));
    // FIN + binary, masked with a zero key (the payload goes as is), 64-bit length.
    socket.write(Buffer.concat([Buffer.from([0x82, 0xff]), length, Buffer.alloc(4)]));
    const result = await pump(socket, 100 * MiB, MiB);
    const growth = await watch.stop();
    expect.soft(result.closedByGateway, `sent ${result.sent} bytes and the connection is still open`).toBe(true);
    expect.soft(result.sent, 'bytes of the frame the gateway took before cutting it off').toBeLessThan(100 * MiB);
    expect(growth, `gateway RSS grew by ${(growth / MiB).toFixed(1)} MiB`).toBeLessThanOrEqual(RSS_GROWTH_BOUND);
  });

  it('drops a refused HTTP-FLV request on a keep-alive connection at once', async () => {
    const socket = connect({ host: '127.0.0.1', port: gw.ports.flv });
    const received = collect(socket);
    socket.write('GET /main/0123456789.flv?token=forged HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    await until('the 403 response', () => /\r\n\r\n[^]*\n/.test(received.text()), 10_000);
    expect(received.text()).toMatch(/^HTTP\/1\.1 403 /);
    // Each sample while the connection is (or was) held: nobody is subscribed.
    const samples: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push(await gw.metric('psvgw_media_subscribers'));
      await sleep(200);
    }
    expect(samples).toEqual([0, 0, 0, 0, 0]);
    expect(await gw.metric('psvgw_stream_viewers', { camera_id: '0123456789', tier: 'main' })).toBeUndefined();
    await until('the gateway to end the refused connection', () => received.closed, 10_000);
    expect(received.text()).not.toContain('FLV\x01');
  });

  it('limits the connections one outside address holds', async () => {
    await withOutsidePeer(async (peer) => {
      const outcomes = await peer.connect(gw.ports.flv, { count: 34, holdMs: 2000 });
      expect(outcomes.filter((o) => o === 'open')).toHaveLength(32); // media.limits.maxConnectionsPerAddress
      expect(outcomes.filter((o) => o === 'closed')).toHaveLength(2);
    });
    await until(
      'the cut-off count in the metrics',
      async () => {
        const cut = await gw.metric('psvgw_media_connections_cut_total', { server: 'http', reason: 'per_address' });
        return cut === 2;
      },
      10_000,
    );
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Everything a socket receives, and whether the other side closed it. */
function collect(socket: Socket): { text(): string; readonly closed: boolean } {
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  return {
    text: () => Buffer.concat(chunks).toString('latin1'),
    get closed() {
      return closed;
    },
  };
}

/** Connects and completes a plain RTMP handshake (C0 C1, S0 S1 S2, C2). */
async function rtmpHandshake(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  const received = collect(socket);
  socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
  await until('S0 S1 S2', () => received.text().length >= 1 + 2 * 1536, 10_000);
  socket.write(Buffer.alloc(1536));
  return socket;
}

/** Connects and upgrades to a WebSocket, with no playback token: a client that never authenticates. */
async function wsUpgrade(port: number, path: string): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  const received = collect(socket);
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await until('the WebSocket upgrade', () => received.text().includes('\r\n\r\n'), 10_000);
  expect(received.text()).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

/**
 * Writes `total` zero bytes as fast as the gateway reads them; stops when it closes the
 * connection. Then waits a while for a close that is still on its way.
 */
async function pump(socket: Socket, total: number, chunkSize: number): Promise<{ sent: number; closedByGateway: boolean }> {
  let closed = socket.destroyed;
  const closedNow = new Promise<void>((resolve) => {
    socket.once('close', () => {
      closed = true;
      resolve();
    });
  });
  socket.on('error', () => undefined);
  const chunk = Buffer.alloc(chunkSize);
  let sent = 0;
  while (sent < total && !closed) {
    const drained = socket.write(chunk);
    sent += chunk.length;
    if (!drained) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closedNow]);
  }
  await Promise.race([closedNow, sleep(5000)]);
  const closedByGateway = closed;
  socket.destroy();
  return { sent, closedByGateway };
}

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Samples a process's resident memory every 20 ms; stop() gives the peak over the baseline. */
class RssWatch {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly pid: number,
    private readonly baseline: number,
  ) {
    this.timer = setInterval(() => (this.peak = Math.max(this.peak, rssBytes(pid))), 20);
  }

  /** The baseline is the highest of a few samples, so ordinary jitter does not count as growth. */
  static async start(pid: number): Promise<RssWatch> {
    let baseline = 0;
    for (let i = 0; i < 5; i++) {
      baseline = Math.max(baseline, rssBytes(pid));
      await sleep(100);
    }
    return new RssWatch(pid, baseline);
  }

  /** Keeps sampling a second after the attack, while the gateway would still be buffering. */
  async stop(): Promise<number> {
    await sleep(1000);
    clearInterval(this.timer);
    this.peak = Math.max(this.peak, rssBytes(this.pid));
    return this.peak - this.baseline;
  }
}
