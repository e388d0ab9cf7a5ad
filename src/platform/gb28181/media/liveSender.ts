/**
 * One GB/T 28181 live session: the camera's masked shared tier, read through an ffmpeg child
 * as an Annex-B elementary stream, cut into access units, muxed as MPEG-PS from a key frame
 * on and sent as RTP to the upper platform over UDP (MTU-sized datagrams) or TCP (RFC 4571;
 * the gateway connects out, or listens for the platform). The SIP layer prepares a session
 * when it answers the INVITE (a TCP passive listener must exist before the answer names its
 * port) and starts it on the ACK: no media before start(). A dead receiver or an ended
 * source ends the session with a reason, for the SIP layer to send BYE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { childEnv } from '../../../childEnv.js';
import type { Logger } from '../../../log.js';
import type { MediaTransport } from '../sdp.js';
import { AnnexBSplitter, ParameterSetCache, type AccessUnit, type VideoCodec } from './annexb.js';
import { PsMuxer } from './psMuxer.js';
import { frameRfc4571, RtpPacketizer } from './rtp.js';

export interface LiveSenderOptions {
  cameraId: string;
  /** Play URL of the camera's masked shared tier (the gateway's internal token URL); a raw-tier URL is refused. */
  sourceUrl: string;
  /** Codec of the shared tier; default h264. */
  codec?: VideoCodec;
  /** The shared tier's frame rate: PS time stamps count frames at this rate (the elementary stream carries none). */
  fps: number;
  transport: MediaTransport;
  /** Where the platform receives (UDP, TCP active); for TCP passive, the host is the platform's address (c=) and the port unused. */
  destination: { host: string; port: number };
  /**
   * TCP passive: whom to accept. 'destination' (default) takes a connection from the
   * destination host only, so nobody else on the network picks up the stream; 'any' for a
   * platform behind NAT whose media arrives from another address than its SDP names.
   */
  acceptFrom?: 'destination' | 'any';
  /** The RTP SSRC, from the SDP y= (see ssrc.ts). */
  ssrc: number;
  /** Default 96 (PS). */
  payloadType?: number;
  /** UDP source port or TCP passive listening port; 0 (default) picks a free one. */
  localPort?: number;
  /** Address to bind; default 0.0.0.0. */
  localAddress?: string;
  /** Largest RTP packet; default 1,400 bytes. */
  mtu?: number;
  /** TCP active: connection attempts after the first; default 3. */
  connectRetries?: number;
  /** TCP active: wait between attempts; default 1,000 ms. */
  connectRetryMs?: number;
  /** TCP passive: how long to wait for the platform to connect after start(); default 10 s. */
  acceptTimeoutMs?: number;
  /**
   * The session ends (source-ended) after this long without video from the shared tier;
   * default 5,000 ms. A viewer of the media server stays connected through a camera outage,
   * waiting for the next publish: without this the platform would get silence, not a BYE.
   */
  stallTimeoutMs?: number;
  /**
   * UDP: once the platform has sent RTCP to the session's port, this long without any ends
   * the session (its host may drop our packets without ICMP); default 30 s. A platform that
   * never sends RTCP there is not affected.
   */
  rtcpTimeoutMs?: number;
  /** Default 'ffmpeg'. */
  ffmpegPath?: string;
  logger?: Logger;
}

export type LiveSenderEndReason =
  /** stop() was called (BYE). */
  | 'stopped'
  /** The receiver closed or reset the TCP connection. */
  | 'receiver-closed'
  /** A send failed: ICMP unreachable over UDP, or a TCP write error. */
  | 'receiver-unreachable'
  /** UDP: the platform's RTCP stopped (see rtcpTimeoutMs). */
  | 'receiver-silent'
  /** TCP active: every connection attempt failed. */
  | 'connect-failed'
  /** TCP passive: the platform never connected. */
  | 'accept-timeout'
  /** The shared tier ended or the reader failed (camera down): the SIP layer sends BYE and an alarm. */
  | 'source-ended';

export interface LiveSenderEnd {
  reason: LiveSenderEndReason;
  detail: string;
}

export interface LiveSenderCounters {
  packets: number;
  bytes: number;
  frames: number;
  /** Frames skipped: before the first key frame, or while a slow TCP receiver caught up. */
  skippedFrames: number;
  firstPacketAt: Date | null;
}

export type LiveSenderState = 'new' | 'prepared' | 'sending' | 'ended';

/** Above this much unsent data the receiver (or the link) is too slow; frames are skipped up to the next key frame. */
const BACKLOG_LIMIT = 4 << 20;
/**
 * UDP pacing: at most this many bytes leave per tick (~1 ms). The session starts with the
 * GOP cache, up to a GOP of frames at once; sent in one burst it overflows a receiver's
 * socket buffer (200 KiB by default on Linux) and the first GOP is lost.
 */
const UDP_BURST_BYTES = 16 << 10;
/** stop() must finish within a second; ffmpeg gets this long to exit on SIGTERM. */
const KILL_GRACE_MS = 500;
const STDERR_KEEP = 2048;
const STALL_CHECK_MS = 250;

/** The tier a play URL reads: the path's first segment (rtmp://…/shared/<id>, http://…/shared/<id>.flv). */
export function tierOfPlayUrl(url: string, cameraId: string): 'shared' | 'other' {
  let path: string[];
  try {
    path = new URL(url).pathname.split('/').filter(Boolean);
  } catch {
    return 'other';
  }
  const stream = (path[1] ?? '').replace(/\.flv$/, '');
  return path.length === 2 && path[0] === 'shared' && stream === cameraId ? 'shared' : 'other';
}

/** The reader: the shared tier copied as an Annex-B elementary stream on stdout (no re-encoding). */
export function liveReaderArgs(sourceUrl: string, codec: VideoCodec): string[] {
  const [bsf, format] = codec === 'h264' ? ['h264_mp4toannexb', 'h264'] : ['hevc_mp4toannexb', 'hevc'];
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    // The shared tier is the gateway's own, led by its GOP cache: half a second finds the video.
    ...['-analyzeduration', '500000', '-i', sourceUrl],
    ...['-map', '0:v:0', '-c', 'copy', '-bsf:v', bsf, '-f', format, 'pipe:1'],
  ];
}

/** RTCP (RFC 3550 6.1, packet types SR 200 to APP 204; RFC 5761 4 tells it from RTP this way). */
function isRtcp(packet: Buffer): boolean {
  return packet.length >= 8 && packet[0]! >> 6 === 2 && packet[1]! >= 200 && packet[1]! <= 204;
}

/** Emits `ended` once, with the reason (the `ended` promise carries the same). */
export class LiveSender extends EventEmitter<{ ended: [LiveSenderEnd] }> {
  readonly counters: LiveSenderCounters = { packets: 0, bytes: 0, frames: 0, skippedFrames: 0, firstPacketAt: null };
  /** Settles once, with why the session ended. */
  readonly ended: Promise<LiveSenderEnd>;
  private endWith!: (end: LiveSenderEnd) => void;
  private stateNow: LiveSenderState = 'new';
  private udp: UdpSocket | null = null;
  private server: Server | null = null;
  private tcp: Socket | null = null;
  private ffmpeg: ChildProcess | null = null;
  private ffmpegExited: Promise<void> = Promise.resolve();
  private acceptTimer: NodeJS.Timeout | null = null;
  private udpQueue: Buffer[] = [];
  /** The next packet of udpQueue to send: a read index, so a burst costs no array shift per packet. */
  private udpHead = 0;
  private udpQueuedBytes = 0;
  private udpDrainTimer: NodeJS.Timeout | null = null;
  private stallCheck: NodeJS.Timeout | null = null;
  private lastSourceDataAt = 0;
  /** When the platform's RTCP last reached the UDP socket; 0 until it sends any. */
  private lastRtcpAt = 0;
  private readonly splitter: AnnexBSplitter;
  private readonly parameterSets: ParameterSetCache;
  private readonly muxer: PsMuxer;
  private readonly packetizer: RtpPacketizer;
  private readonly frameTicks: number;
  /** Waiting for a key frame: at the start, and after frames were skipped. */
  private needKeyFrame = true;
  private stderrTail = '';
  private readonly codec: VideoCodec;

  constructor(private readonly options: LiveSenderOptions) {
    super();
    if (tierOfPlayUrl(options.sourceUrl, options.cameraId) !== 'shared')
      throw new Error(`camera ${options.cameraId}: a GB/T 28181 session reads the masked shared tier only (shared/${options.cameraId})`);
    if (!(options.fps > 0 && options.fps <= 240)) throw new RangeError(`frame rate ${options.fps} out of range 0..240`);
    this.codec = options.codec ?? 'h264';
    this.splitter = new AnnexBSplitter(this.codec);
    this.parameterSets = new ParameterSetCache(this.codec);
    this.muxer = new PsMuxer({ video: this.codec });
    this.packetizer = new RtpPacketizer({ ssrc: options.ssrc, payloadType: options.payloadType ?? 96, mtu: options.mtu ?? 1400 });
    this.frameTicks = 90_000 / options.fps;
    this.ended = new Promise((resolve) => (this.endWith = resolve));
  }

  get state(): LiveSenderState {
    return this.stateNow;
  }

  /**
   * Opens the local end before the SIP answer: the UDP socket (its port goes in the answer)
   * or the TCP passive listener (accepting the platform's connection from now on).
   * Returns the local port to name in the answer SDP (undefined for TCP active).
   */
  async prepare(): Promise<{ localPort?: number }> {
    if (this.stateNow !== 'new') throw new Error(`prepare() on a ${this.stateNow} session`);
    const { transport, localPort = 0, localAddress = '0.0.0.0' } = this.options;
    let port: number | undefined;
    if (transport === 'udp') port = await this.openUdp(localAddress, localPort);
    else if (transport === 'tcp-passive') port = await this.listen(localAddress, localPort);
    this.setState('prepared');
    return port === undefined ? {} : { localPort: port };
  }

  /** Starts the media (the ACK came): connects out for TCP active, then reads, muxes and sends. */
  async start(): Promise<void> {
    if (this.stateNow === 'new') await this.prepare();
    if (this.stateNow !== 'prepared') return;
    this.setState('sending');
    if (this.options.transport === 'tcp-active') {
      const socket = await this.connectWithRetries();
      if (socket === null) return;
      this.attachTcp(socket);
    } else if (this.options.transport === 'tcp-passive' && this.tcp === null) {
      this.acceptTimer = setTimeout(
        () => this.finish('accept-timeout', `the platform did not connect within ${this.acceptTimeoutMs} ms`),
        this.acceptTimeoutMs,
      );
    }
    this.spawnReader();
  }

  /** Ends the session (BYE): no packet leaves after this resolves; resolves within a second. */
  async stop(): Promise<void> {
    this.finish('stopped', 'stopped');
    await Promise.race([this.ffmpegExited, new Promise((r) => setTimeout(r, KILL_GRACE_MS + 200).unref())]);
  }

  private get acceptTimeoutMs(): number {
    return this.options.acceptTimeoutMs ?? 10_000;
  }

  /** A method, not a field test: the state changes across awaits, which TypeScript's narrowing does not see. */
  private isEnded(): boolean {
    return this.stateNow === 'ended';
  }

  private setState(state: LiveSenderState): void {
    this.stateNow = state;
  }

  private openUdp(address: string, port: number): Promise<number> {
    const family = this.options.destination.host.includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket(family);
    this.udp = socket;
    // A connected UDP socket reports the receiver's ICMP port unreachable as an error on a later send.
    socket.on('error', (err) => this.finish('receiver-unreachable', `UDP: ${err.message}`));
    // Connected: only the destination's datagrams arrive, i.e. RTCP from a symmetric-RTP receiver.
    socket.on('message', (packet) => {
      if (isRtcp(packet)) this.lastRtcpAt = Date.now();
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, family === 'udp6' && address === '0.0.0.0' ? '::' : address, () => {
        socket.connect(this.options.destination.port, this.options.destination.host, () => {
          socket.off('error', reject);
          resolve(socket.address().port);
        });
      });
    });
  }

  private listen(address: string, port: number): Promise<number> {
    const server = createServer((socket) => {
      // One connection per session (a=connection:new); later ones are refused.
      if (!this.acceptable(socket.remoteAddress)) {
        this.options.logger?.warn(
          { cameraId: this.options.cameraId, remote: socket.remoteAddress },
          'GB/T 28181 media connection from another address refused',
        );
        socket.destroy();
        return;
      }
      if (this.tcp !== null || this.stateNow === 'ended') {
        socket.destroy();
        return;
      }
      if (this.acceptTimer !== null) clearTimeout(this.acceptTimer);
      this.attachTcp(socket);
      server.close();
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        const bound = server.address();
        resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
      });
    });
  }

  private acceptable(remote: string | undefined): boolean {
    if (this.options.acceptFrom === 'any') return true;
    const plain = (address: string | undefined) => (address ?? '').replace(/^::ffff:/, '');
    return plain(remote) === plain(this.options.destination.host);
  }

  /** TCP active: the first attempt plus `connectRetries` more, `connectRetryMs` apart. Null when every one failed or the session ended. */
  private async connectWithRetries(): Promise<Socket | null> {
    const { host, port } = this.options.destination;
    const attempts = 1 + (this.options.connectRetries ?? 3);
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect({ host, port }, () => {
            s.off('error', reject);
            resolve(s);
          });
          s.once('error', reject);
        });
        if (this.isEnded()) {
          socket.destroy();
          return null;
        }
        return socket;
      } catch (err) {
        lastError = (err as Error).message;
        this.options.logger?.warn({ cameraId: this.options.cameraId, attempt, err: lastError }, 'GB/T 28181 media connect failed');
      }
      if (this.isEnded()) return null;
      if (attempt < attempts) await new Promise((r) => setTimeout(r, this.options.connectRetryMs ?? 1000));
      if (this.isEnded()) return null;
    }
    this.finish('connect-failed', `no TCP connection to ${host}:${port} after ${attempts} attempts: ${lastError}`);
    return null;
  }

  private attachTcp(socket: Socket): void {
    this.tcp = socket;
    socket.setNoDelay(true);
    // The platform sends nothing we need (maybe RTCP); reading keeps the socket's close visible.
    socket.on('data', () => undefined);
    socket.on('error', (err) => this.finish('receiver-closed', `TCP: ${err.message}`));
    socket.on('close', () => this.finish('receiver-closed', 'the platform closed the TCP connection'));
  }

  private spawnReader(): void {
    const child = spawn(this.options.ffmpegPath ?? 'ffmpeg', liveReaderArgs(this.options.sourceUrl, this.codec), {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.ffmpeg = child;
    this.ffmpegExited = new Promise((resolve) => child.once('close', () => resolve()));
    this.lastSourceDataAt = Date.now();
    const stallMs = this.options.stallTimeoutMs ?? 5000;
    const rtcpMs = this.options.rtcpTimeoutMs ?? 30_000;
    this.stallCheck = setInterval(() => {
      const now = Date.now();
      if (now - this.lastSourceDataAt > stallMs) this.finish('source-ended', `no video from the shared tier for ${stallMs} ms`);
      else if (this.lastRtcpAt > 0 && now - this.lastRtcpAt > rtcpMs)
        this.finish('receiver-silent', `no RTCP from the platform for ${rtcpMs} ms after it had sent some`);
    }, STALL_CHECK_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      this.lastSourceDataAt = Date.now();
      for (const au of this.splitter.push(chunk)) this.sendAccessUnit(au);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.once('error', (err) => this.finish('source-ended', `the shared-tier reader did not start: ${err.message}`));
    child.once('close', (code, signal) => {
      // The source URL carries a token: ffmpeg's messages are kept out of the reason.
      const last =
        this.stderrTail
          .replace(/token=[^&\s]+/g, 'token=…')
          .trim()
          .split('\n')
          .pop() ?? '';
      this.finish('source-ended', `the shared-tier reader exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`);
    });
  }

  private sendAccessUnit(raw: AccessUnit): void {
    if (this.stateNow !== 'sending') return;
    const au = this.parameterSets.complete(raw);
    const connected = this.options.transport === 'udp' || this.tcp !== null;
    const backlogged = (this.tcp?.writableLength ?? this.udpQueuedBytes) > BACKLOG_LIMIT;
    if (!connected || backlogged) this.needKeyFrame = true;
    if (this.needKeyFrame && (!au.keyFrame || !connected || backlogged)) {
      this.counters.skippedFrames += 1;
      return;
    }
    this.needKeyFrame = false;
    const time = this.counters.frames * this.frameTicks;
    this.counters.frames += 1;
    const pack = this.muxer.writeVideo(au, time);
    for (const packet of this.packetizer.packetize(pack.data, time)) this.sendPacket(packet);
  }

  private sendPacket(packet: Buffer): void {
    if (this.stateNow !== 'sending') return;
    if (this.udp !== null) {
      this.udpQueue.push(packet);
      this.udpQueuedBytes += packet.length;
      if (this.udpDrainTimer === null) this.drainUdp();
    } else if (this.tcp !== null) {
      this.tcp.write(frameRfc4571(packet));
      this.count(packet);
    }
  }

  /** Sends up to UDP_BURST_BYTES of the queue now and the rest on later ticks. */
  private drainUdp(): void {
    this.udpDrainTimer = null;
    let sent = 0;
    while (this.udp !== null && this.stateNow === 'sending' && sent < UDP_BURST_BYTES) {
      const packet = this.udpQueue[this.udpHead];
      if (packet === undefined) {
        this.udpQueue = [];
        this.udpHead = 0;
        return;
      }
      this.udpHead += 1;
      this.udpQueuedBytes -= packet.length;
      sent += packet.length;
      this.udp.send(packet, (err) => {
        if (err) this.finish('receiver-unreachable', `UDP send: ${err.message}`);
      });
      this.count(packet);
    }
    // Drop what was sent now and then, so a queue that never runs dry does not keep every packet.
    if (this.udpHead >= 1024) {
      this.udpQueue = this.udpQueue.slice(this.udpHead);
      this.udpHead = 0;
    }
    if (this.udpHead < this.udpQueue.length && this.stateNow === 'sending') this.udpDrainTimer = setTimeout(() => this.drainUdp(), 1);
  }

  private count(packet: Buffer): void {
    this.counters.packets += 1;
    this.counters.bytes += packet.length;
    this.counters.firstPacketAt ??= new Date();
  }

  /** Ends once: stops the reader, closes the sockets, reports why. */
  private finish(reason: LiveSenderEndReason, detail: string): void {
    if (this.isEnded()) return;
    this.setState('ended');
    if (this.acceptTimer !== null) clearTimeout(this.acceptTimer);
    if (this.udpDrainTimer !== null) clearTimeout(this.udpDrainTimer);
    if (this.stallCheck !== null) clearInterval(this.stallCheck);
    this.udpQueue = [];
    this.udpHead = 0;
    this.udpQueuedBytes = 0;
    const child = this.ffmpeg;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS).unref();
    }
    this.udp?.close();
    this.tcp?.destroy();
    this.server?.close();
    const end = { reason, detail };
    this.options.logger?.info({ cameraId: this.options.cameraId, ...end, packets: this.counters.packets }, 'GB/T 28181 live session ended');
    this.endWith(end);
    this.emit('ended', end);
  }
}
