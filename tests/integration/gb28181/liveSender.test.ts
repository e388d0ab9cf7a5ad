import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveSender, type LiveSenderOptions } from '../../../src/platform/gb28181/media/liveSender.js';
import { parseRtpPacket, Rfc4571Deframer, RtpDepacketizer } from '../../../src/platform/gb28181/media/rtp.js';
import { addCamera, streamUrls } from '../../helpers/cameraSteps.js';
import { grayFrame, regionStats, type GrayFrame, type Region } from '../../helpers/frames.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, ffprobeStreams, requireTool, streamOf } from '../../helpers/media.js';
import { probePsVideo, psmStreamTypes } from '../../helpers/psStream.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SIZE = { width: 640, height: 360 };
const FPS = 25;
const RECT: Region = { x: 0.05, y: 0.1, w: 0.3, h: 0.4 };
const OUTSIDE: Region = { x: 0.5, y: 0.55, w: 0.45, h: 0.4 };
/** Two seconds of video: two GOPs of the test camera. */
const FRAMES_WANTED = 50;
const SSRC = 100_001_234;

/** What a receiver playing the upper platform got: RTP packets, turned back into PS frames. */
class Receiver {
  readonly depacketizer = new RtpDepacketizer({ payloadType: 96 });
  readonly ssrcs = new Set<number>();
  readonly frames: Buffer[] = [];
  private waiters: Array<() => void> = [];

  push(packet: Buffer): void {
    this.ssrcs.add(parseRtpPacket(packet).ssrc);
    for (const frame of this.depacketizer.push(packet)) if (frame.complete) this.frames.push(frame.data);
    for (const w of this.waiters) w();
  }

  /** Resolves once `count` whole frames arrived; fails at the deadline saying how many did. */
  async waitForFrames(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.frames.length} of ${count} PS frames within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
  }
}

/** The platform's UDP media port on loopback, feeding `receiver`; a large buffer, as a platform's receiver reads with. */
async function udpReceiver(receiver: Receiver): Promise<UdpSocket> {
  const udp = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  udp.on('message', (packet) => receiver.push(packet));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  return udp;
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))]);
}

describe('GB/T 28181 live sender: masked shared tier as PS over RTP', () => {
  let camera: TestCamera;
  let gw: GatewayProcess;
  let cameraId: string;
  let rawFrame: GrayFrame;
  let dir: string;

  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-gbmedia-'));
    camera = await TestCamera.start({ ...SIZE, fps: FPS, pattern: 'snow' });
    gw = await GatewayProcess.start({ configYaml: 'ingest:\n  backoff:\n    initialMs: 300\n    maxMs: 2000' });
    cameraId = (await addCamera(gw, camera.url, 'GB gate', { masks: [{ shape: 'rect', ...RECT, mode: 'fill' }] })).id;
    await gw.waitFor(
      'psvgw_shared_tier_up == 1',
      async () => (await gw.metric('psvgw_shared_tier_up', { camera_id: cameraId })) === 1,
      20_000,
    );
    rawFrame = await grayFrame((await streamUrls(gw, cameraId)).raw.httpFlv, SIZE);
  }, 60_000);

  afterAll(async () => {
    await stopAllGateways();
    await stopAllTestCameras();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** A sender on the shared tier's play URL, as the operator's API hands it out (the gateway wires the internal URL). */
  async function sender(
    options: Pick<LiveSenderOptions, 'transport' | 'destination' | 'stallTimeoutMs' | 'rtcpTimeoutMs'>,
  ): Promise<LiveSender> {
    const sourceUrl = (await streamUrls(gw, cameraId)).shared.httpFlv;
    return new LiveSender({ cameraId, sourceUrl, fps: FPS, ssrc: SSRC, localAddress: '127.0.0.1', connectRetryMs: 200, ...options });
  }

  /** Checks what arrived: one SSRC, H.264 PS at the camera's size and rate from a key frame, the mask region masked. */
  async function checkStream(receiver: Receiver, name: string): Promise<void> {
    expect([...receiver.ssrcs]).toEqual([SSRC]);
    expect(receiver.depacketizer.lost).toBe(0);
    const file = join(dir, `${name}.ps`);
    writeFileSync(file, Buffer.concat(receiver.frames));
    const video = streamOf(await ffprobeStreams(file), 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: SIZE.width, height: SIZE.height, r_frame_rate: `${FPS}/1` });
    const { stdout } = await promisify(execFile)('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-read_intervals', '%+#1'],
      ...['-show_entries', 'frame=key_frame,pict_type', '-of', 'json', file],
    ]);
    expect((JSON.parse(stdout) as { frames: unknown[] }).frames[0]).toMatchObject({ key_frame: 1, pict_type: 'I' });
    const shared = await grayFrame(file, SIZE);
    const masked = { shared: regionStats(shared, RECT), raw: regionStats(rawFrame, RECT) };
    const outside = { shared: regionStats(shared, OUTSIDE), raw: regionStats(rawFrame, OUTSIDE) };
    console.log(
      `${name}: ${receiver.frames.length} frames, ${receiver.depacketizer.received} packets; mask edge ${masked.shared.edge.toFixed(2)} ` +
        `vs raw ${masked.raw.edge.toFixed(2)}; outside ${outside.shared.edge.toFixed(2)} vs ${outside.raw.edge.toFixed(2)}`,
    );
    expect(masked.raw.edge).toBeGreaterThan(10);
    expect(masked.shared.edge).toBeLessThan(0.1 * masked.raw.edge);
    expect(outside.shared.edge).toBeGreaterThan(0.5 * outside.raw.edge);
  }

  it('UDP: MTU-sized RTP to the named port; a receiver gone (ICMP unreachable) ends the session', async () => {
    const receiver = new Receiver();
    // A platform's media receiver reads with a large socket buffer; the default 200 KiB overflows
    // here, where sender and receiver share one event loop and a stall of it drops datagrams.
    const udp = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    let largest = 0;
    udp.on('message', (packet) => {
      largest = Math.max(largest, packet.length);
      receiver.push(packet);
    });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    const live = await sender({ transport: 'udp', destination: { host: '127.0.0.1', port: udp.address().port } });
    await live.prepare();
    // Nothing before start() (the ACK).
    await new Promise((r) => setTimeout(r, 300));
    expect(live.counters.packets).toBe(0);
    const startedAt = Date.now();
    await live.start();
    await receiver.waitForFrames(FRAMES_WANTED, 20_000);
    console.log(`udp: start() → first RTP packet ${live.counters.firstPacketAt!.getTime() - startedAt} ms`);
    expect(largest).toBeLessThanOrEqual(1400);
    expect(live.counters.firstPacketAt).not.toBeNull();
    udp.close();
    expect(await deadline(live.ended, 5000, 'the session end')).toMatchObject({ reason: 'receiver-unreachable' });
    await checkStream(receiver, 'udp');
  }, 40_000);

  it('UDP: a receiver that sent RTCP and then falls silent (its host drops packets, no ICMP) ends the session; before any RTCP, silence does not', async () => {
    const receiver = new Receiver();
    const udp = await udpReceiver(receiver);
    const live = await sender({ transport: 'udp', destination: { host: '127.0.0.1', port: udp.address().port }, rtcpTimeoutMs: 1500 });
    const { localPort } = await live.prepare();
    await live.start();
    await receiver.waitForFrames(5, 20_000);
    // Longer than the timeout without RTCP: a platform that never sends it keeps its session.
    await new Promise((r) => setTimeout(r, 2500));
    expect(live.state).toBe('sending');
    // Receiver reports (RFC 3550 6.4.2, no report blocks) from the platform's RTP port, as a symmetric-RTP receiver sends them.
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 42]);
    for (let i = 0; i < 8; i += 1) {
      udp.send(rr, localPort!, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(live.state, 'RTCP within the timeout keeps the session').toBe('sending');
    const silentAt = Date.now();
    expect(await deadline(live.ended, 5000, 'the session end after RTCP stopped')).toMatchObject({ reason: 'receiver-silent' });
    expect(Date.now() - silentAt).toBeGreaterThanOrEqual(1000);
    udp.close();
  }, 40_000);

  it('TCP passive: the platform connects to the answered port; stop() ends the stream within 1 s', async () => {
    const receiver = new Receiver();
    const live = await sender({ transport: 'tcp-passive', destination: { host: '127.0.0.1', port: 9 } });
    const { localPort } = await live.prepare();
    expect(localPort).toBeGreaterThan(0);
    // Only the platform named in the offer may take the stream: another address is hung up on.
    const stranger = connect({ host: '127.0.0.1', port: localPort!, localAddress: '127.0.0.2' });
    stranger.on('error', () => undefined);
    await deadline(new Promise((resolve) => stranger.once('close', resolve)), 2000, 'the stranger’s hang-up');
    const deframer = new Rfc4571Deframer();
    const socket: Socket = connect({ host: '127.0.0.1', port: localPort! });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => deframer.push(chunk).forEach((p) => receiver.push(p)));
    socket.on('error', () => undefined);
    await live.start();
    await receiver.waitForFrames(FRAMES_WANTED, 20_000);
    const t0 = Date.now();
    await live.stop();
    await deadline(closed, 1000, 'the TCP close after stop()');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await live.ended).toMatchObject({ reason: 'stopped' });
    await checkStream(receiver, 'tcp-passive');
  }, 40_000);

  it('TCP active: connects out with retries to a receiver that listens late; the receiver closing ends the session', async () => {
    const receiver = new Receiver();
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // The platform is not listening yet when the ACK comes: the first attempts are refused.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const live = await sender({ transport: 'tcp-active', destination: { host: '127.0.0.1', port } });
    await live.prepare();
    const started = live.start();
    await new Promise((r) => setTimeout(r, 300));
    const late: Server = createServer();
    const accepted = new Promise<Socket>((resolve) => late.once('connection', resolve));
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    const socket = await deadline(accepted, 5000, 'the connection from the sender');
    await started;
    const deframer = new Rfc4571Deframer();
    socket.on('data', (chunk: Buffer) => deframer.push(chunk).forEach((p) => receiver.push(p)));
    await receiver.waitForFrames(FRAMES_WANTED, 20_000);
    socket.destroy();
    late.close();
    expect(await deadline(live.ended, 2000, 'the session end')).toMatchObject({ reason: 'receiver-closed' });
    await checkStream(receiver, 'tcp-active');
  }, 40_000);

  it('H.265: an H.265 source is sent as H.265 PS (PSM stream type 0x24) at its size and rate from a key frame', async () => {
    // The gateway's live tiers are H.264 (FLV), so the source here is an H.265 camera served at a shared-tier path.
    const id = '34020000001320000265';
    const hevc = await TestCamera.start({ width: 320, height: 240, fps: 15, codec: 'h265', path: `/shared/${id}` });
    const receiver = new Receiver();
    const udp = await udpReceiver(receiver);
    const live = new LiveSender({
      ...{ cameraId: id, sourceUrl: hevc.url, codec: 'h265', fps: 15, ssrc: SSRC, localAddress: '127.0.0.1' },
      ...{ transport: 'udp', destination: { host: '127.0.0.1', port: udp.address().port } },
    });
    await live.start();
    await receiver.waitForFrames(30, 20_000);
    await live.stop();
    udp.close();
    await hevc.stop();
    expect([...receiver.ssrcs]).toEqual([SSRC]);
    const ps = Buffer.concat(receiver.frames);
    const file = join(dir, 'hevc.ps');
    writeFileSync(file, ps);
    expect(await probePsVideo(file)).toEqual({ codec: 'hevc', width: 320, height: 240, rate: '15/1', firstKeyFrame: true });
    expect(psmStreamTypes(ps)).toEqual([0x24]);
  }, 40_000);

  // Last: it stops the camera.
  it('the camera going down ends the session (the SIP layer then sends BYE and an alarm)', async () => {
    const receiver = new Receiver();
    const udp = await udpReceiver(receiver);
    const live = await sender({ transport: 'udp', destination: { host: '127.0.0.1', port: udp.address().port }, stallTimeoutMs: 2000 });
    await live.start();
    await receiver.waitForFrames(5, 20_000);
    await camera.stop();
    const t0 = Date.now();
    expect(await deadline(live.ended, 15_000, 'the session end after the camera stopped')).toMatchObject({ reason: 'source-ended' });
    console.log(`camera down → session ended in ${Date.now() - t0} ms`);
    udp.close();
  }, 40_000);

  it('refuses a source that is not the shared tier', async () => {
    const raw = (await streamUrls(gw, cameraId)).raw.httpFlv;
    expect(
      () =>
        new LiveSender({ cameraId, sourceUrl: raw, fps: FPS, ssrc: SSRC, transport: 'udp', destination: { host: '127.0.0.1', port: 9 } }),
    ).toThrow(/masked shared tier only/);
  });
});
