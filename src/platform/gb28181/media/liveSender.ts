/**
 * One GB/T 28181 live session: the camera's masked shared tier, read through an ffmpeg child
 * as an Annex-B elementary stream, cut into access units, muxed as MPEG-PS from a key frame
 * on and sent as RTP to the upper platform over UDP (MTU-sized datagrams) or TCP (RFC 4571;
 * the gateway connects out, or listens for the platform). The SIP layer prepares a session
 * when it answers the INVITE (a TCP passive listener must exist before the answer names its
 * port) and starts it on the ACK: no media before start(). A dead receiver or an ended
 * source ends the session with a reason, for the SIP layer to send BYE.
 *
 * An unmasked H.265 camera's session reads the camera's original video instead
 * (`originalVideo`): the MPEG-TS copy its ingest tees to the gateway, fed to the reader's stdin.
 *
 * Playback and download read recorded footage instead (`playback`): the reader is an
 * ffmpeg that masks and encodes the recorded range as fast as it can, and the frames are
 * paced here (the frame rate times the scale), so pause, scale and seek act at once; the
 * reader is held back through its pipe while enough frames wait.
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

/** Recorded footage to send instead of the live shared tier. */
export interface PlaybackReader {
  /** The reader's ffmpeg arguments from `offsetSeconds` into the range: masked H.264, Annex-B on stdout. */
  args(offsetSeconds: number): string[];
  /** Media seconds per wall second to start with (1 plays in real time; a download may ask more). */
  speed?: number;
}

export interface LiveSenderOptions {
  cameraId: string;
  /** Play URL of the camera's masked shared tier (the gateway's internal token URL); a raw-tier URL is refused. Unused with `playback`. */
  sourceUrl: string;
  /** Recorded footage, masked by its reader, paced here; without it the session sends the live shared tier. */
  playback?: PlaybackReader;
  /**
   * The camera's original video as MPEG-TS chunks (the ingest's copy), read instead of
   * `sourceUrl`: subscribes and returns how to unsubscribe. Only for a camera whose shared
   * tier mirrors the raw one (the picture is the camera's own) in a codec the media server's
   * tiers cannot carry (H.265).
   */
  originalVideo?: (onData: (chunk: Buffer) => void) => () => void;
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
  | 'source-ended'
  /** Playback: every frame of the recorded range was sent. */
  | 'range-ended';

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
/** Original video waiting in the reader's stdin beyond this is dropped (the reader is behind; it resyncs on TS packets). */
const ORIGINAL_BACKLOG_LIMIT = 4 << 20;
/** Playback pacing tick, and how many seconds of frames may wait before the reader is held back. */
const PACE_TICK_MS = 10;
const PACE_BUFFER_SECONDS = 2;

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
  // The shared tier is the gateway's own, led by its GOP cache: half a second finds the video.
  return annexBReaderArgs(['-analyzeduration', '500000', '-i', sourceUrl], codec);
}

/** A reader of any input (the shared tier, or the ingest's copy of the camera's video): its first video as Annex-B on stdout. */
export function annexBReaderArgs(input: string[], codec: VideoCodec): string[] {
  const [bsf, format] = codec === 'h264' ? ['h264_mp4toannexb', 'h264'] : ['hevc_mp4toannexb', 'hevc'];
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
    ...input,
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
  /** UDP sends handed to the socket and not yet done: closing the socket would drop them. */
  private udpInFlight = 0;
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
  /** Ends the subscription to the original video, if the reader has one. */
  private unsubscribe: (() => void) | null = null;
  private readonly codec: VideoCodec;
  /** The frame's place in media time (frames since the range's start; a seek moves it). */
  private mediaFrame = 0;
  /** Playback: frames read and waiting for their time, the reader in use, the pace. */
  private readonly paced: AccessUnit[] = [];
  private pacedHead = 0;
  private readerDone = false;
  private paceTimer: NodeJS.Timeout | null = null;
  /** Pace reference: at wall time paceStartAt, paceSent frames had been sent since. */
  private paceStartAt = 0;
  private paceSent = 0;
  private speed = 1;
  private pausedNow = false;

  constructor(private readonly options: LiveSenderOptions) {
    super();
    if (
      options.playback === undefined &&
      options.originalVideo === undefined &&
      tierOfPlayUrl(options.sourceUrl, options.cameraId) !== 'shared'
    )
      throw new Error(`camera ${options.cameraId}: a GB/T 28181 session reads the masked shared tier only (shared/${options.cameraId})`);
    if (!(options.fps > 0 && options.fps <= 240)) throw new RangeError(`frame rate ${options.fps} out of range 0..240`);
    this.codec = options.codec ?? 'h264';
    this.splitter = new AnnexBSplitter(this.codec);
    this.parameterSets = new ParameterSetCache(this.codec);
    this.muxer = new PsMuxer({ video: this.codec });
    this.packetizer = new RtpPacketizer({ ssrc: options.ssrc, payloadType: options.payloadType ?? 96, mtu: options.mtu ?? 1400 });
    this.frameTicks = 90_000 / options.fps;
    this.speed = options.playback?.speed ?? 1;
    this.ended = new Promise((resolve) => (this.endWith = resolve));
  }

  get state(): LiveSenderState {
    return this.stateNow;
  }

  /** Playback: whether the pace is paused, and the speed (1 real time). */
  get pace(): { paused: boolean; speed: number } {
    return { paused: this.pausedNow, speed: this.speed };
  }

  /** Playback: no frame leaves until resume(). */
  pause(): void {
    this.requirePlayback('pause');
    if (this.pausedNow) return;
    this.pausedNow = true;
    if (this.paceTimer !== null) clearTimeout(this.paceTimer);
    this.paceTimer = null;
  }

  /** Playback: frames leave again, at the current speed. */
  resume(): void {
    this.requirePlayback('resume');
    if (!this.pausedNow) return;
    this.pausedNow = false;
    this.rebasePace();
    this.pump();
  }

  /** Playback: media seconds per wall second from now on (MANSRTSP Scale, a download's speed). */
  setSpeed(speed: number): void {
    this.requirePlayback('setSpeed');
    if (!(speed > 0 && speed <= 16)) throw new RangeError(`playback speed ${speed} out of range 0..16`);
    this.speed = speed;
    this.rebasePace();
  }

  /** Playback: continues from `offsetSeconds` into the range with a fresh reader, from its first key frame. */
  seek(offsetSeconds: number): void {
    const playback = this.requirePlayback('seek');
    if (!(offsetSeconds >= 0)) throw new RangeError(`seek offset ${offsetSeconds} must be 0 or more seconds`);
    if (this.stateNow !== 'sending') return;
    this.stopReader();
    this.paced.length = 0;
    this.pacedHead = 0;
    this.mediaFrame = Math.round(offsetSeconds * this.options.fps);
    this.needKeyFrame = true;
    this.rebasePace();
    this.spawnReader(playback.args(offsetSeconds));
  }

  private requirePlayback(what: string): PlaybackReader {
    if (this.options.playback === undefined) throw new Error(`${what}() on a live session: only playback is paced`);
    return this.options.playback;
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
    const { playback, originalVideo } = this.options;
    this.spawnReader(
      playback?.args(0) ??
        (originalVideo === undefined
          ? liveReaderArgs(this.options.sourceUrl, this.codec)
          : annexBReaderArgs(['-f', 'mpegts', '-analyzeduration', '1000000', '-i', 'pipe:0'], this.codec)),
    );
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

  private spawnReader(args: string[]): void {
    const { originalVideo } = this.options;
    const child = spawn(this.options.ffmpegPath ?? 'ffmpeg', args, {
      env: childEnv(),
      stdio: [originalVideo === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    this.ffmpeg = child;
    if (originalVideo !== undefined) {
      child.stdin!.on('error', () => undefined); // EPIPE once it exits: its close says why
      this.unsubscribe = originalVideo((chunk) => {
        if (child.stdin!.writableLength < ORIGINAL_BACKLOG_LIMIT) child.stdin!.write(chunk);
      });
    }
    this.ffmpegExited = new Promise((resolve) => child.once('close', () => resolve()));
    this.lastSourceDataAt = Date.now();
    const stallMs = this.options.stallTimeoutMs ?? 5000;
    const from = originalVideo === undefined ? 'the shared tier' : "the camera (its ingest's copy)";
    const rtcpMs = this.options.rtcpTimeoutMs ?? 30_000;
    // Recorded footage does not stall on its own: its reader is held back on purpose (pause, pacing).
    const live = this.options.playback === undefined;
    if (this.stallCheck !== null) clearInterval(this.stallCheck);
    this.stallCheck = setInterval(() => {
      const now = Date.now();
      if (live && now - this.lastSourceDataAt > stallMs) this.finish('source-ended', `no video from ${from} for ${stallMs} ms`);
      else if (this.lastRtcpAt > 0 && now - this.lastRtcpAt > rtcpMs)
        this.finish('receiver-silent', `no RTCP from the platform for ${rtcpMs} ms after it had sent some`);
    }, STALL_CHECK_MS);
    // A seek starts another reader: what the old one still had in its pipe is not this range's.
    const splitter = this.options.playback === undefined ? this.splitter : new AnnexBSplitter(this.codec);
    this.readerDone = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (child !== this.ffmpeg) return;
      this.lastSourceDataAt = Date.now();
      for (const au of splitter.push(chunk)) {
        if (this.options.playback === undefined) this.sendAccessUnit(au);
        else this.queueAccessUnit(au, child);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.once('error', (err) => this.finish('source-ended', `the reader of ${from} did not start: ${err.message}`));
    child.once('close', (code, signal) => {
      if (child !== this.ffmpeg) return; // replaced by a seek
      if (this.options.playback !== undefined && code === 0) {
        for (const au of splitter.flush()) this.queueAccessUnit(au, child);
        this.readerDone = true;
        this.pump();
        return;
      }
      // The source URL carries a token: ffmpeg's messages are kept out of the reason.
      const last =
        this.stderrTail
          .replace(/token=[^&\s]+/g, 'token=…')
          .trim()
          .split('\n')
          .pop() ?? '';
      this.finish('source-ended', `the reader of ${from} exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`);
    });
  }

  /** Playback: a frame waits for its time; a full queue holds the reader back. */
  private queueAccessUnit(au: AccessUnit, child: ChildProcess): void {
    this.paced.push(au);
    if (this.paced.length - this.pacedHead > PACE_BUFFER_SECONDS * this.options.fps * Math.max(1, this.speed)) child.stdout?.pause();
    this.pump();
  }

  private rebasePace(): void {
    this.paceStartAt = Date.now();
    this.paceSent = 0;
  }

  /** Playback: sends the frames that are due (frame rate × speed since the pace's reference), then waits for the next. */
  private pump(): void {
    if (this.paceTimer !== null || this.pausedNow || this.stateNow !== 'sending') return;
    if (this.paceStartAt === 0) this.rebasePace();
    const due = Math.floor(((Date.now() - this.paceStartAt) / 1000) * this.options.fps * this.speed) + 1;
    while (this.paceSent < due && this.pacedHead < this.paced.length && this.stateNow === 'sending') {
      const au = this.paced[this.pacedHead]!;
      this.pacedHead += 1;
      this.paceSent += 1;
      this.sendAccessUnit(au);
    }
    if (this.pacedHead >= 256) {
      this.paced.splice(0, this.pacedHead);
      this.pacedHead = 0;
    }
    const waiting = this.paced.length - this.pacedHead;
    if (waiting <= this.options.fps * Math.max(1, this.speed)) this.ffmpeg?.stdout?.resume();
    if (waiting === 0 && this.readerDone) {
      // The last frames may still sit in the UDP queue or the socket: the end waits for them.
      if (this.udpQueuedBytes === 0 && this.udpInFlight === 0)
        return this.finish('range-ended', 'every frame of the recorded range was sent');
    } else if (waiting === 0) {
      // Behind the pace (a slow reader): the frames go out as they come, without a burst to catch up.
      if (this.paceSent < due) this.rebasePace();
      return; // the next frame read calls again
    }
    if (this.stateNow === 'sending') this.paceTimer = setTimeout(() => ((this.paceTimer = null), this.pump()), PACE_TICK_MS);
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
    const time = this.mediaFrame * this.frameTicks;
    this.mediaFrame += 1;
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
      this.udpInFlight += 1;
      this.udp.send(packet, (err) => {
        this.udpInFlight -= 1;
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

  /** Stops the reader (SIGTERM, then SIGKILL); its later output and exit are ignored (see spawnReader). */
  private stopReader(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    const child = this.ffmpeg;
    if (child === null) return;
    // ffmpeg blocked on a full pipe must read on to see the signal.
    child.stdout?.resume();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS).unref();
    }
  }

  /** Ends once: stops the reader, closes the sockets, reports why. */
  private finish(reason: LiveSenderEndReason, detail: string): void {
    if (this.isEnded()) return;
    this.setState('ended');
    if (this.acceptTimer !== null) clearTimeout(this.acceptTimer);
    if (this.udpDrainTimer !== null) clearTimeout(this.udpDrainTimer);
    if (this.stallCheck !== null) clearInterval(this.stallCheck);
    if (this.paceTimer !== null) clearTimeout(this.paceTimer);
    this.paced.length = 0;
    this.udpQueue = [];
    this.udpHead = 0;
    this.udpQueuedBytes = 0;
    this.stopReader();
    this.udp?.close();
    this.tcp?.destroy();
    this.server?.close();
    const end = { reason, detail };
    this.options.logger?.info({ cameraId: this.options.cameraId, ...end, packets: this.counters.packets }, 'GB/T 28181 live session ended');
    this.endWith(end);
    this.emit('ended', end);
  }
}
