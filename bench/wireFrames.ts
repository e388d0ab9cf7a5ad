import { createHash, type Hash } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { FlvPacketType, FlvTagReader, FlvVideoCodec } from '../src/media/index.js';
import { nowMs } from './children.js';
import type { Frame } from './frames.js';

/**
 * Frames as they cross the wire, with no decoder and no demuxer buffering on either side:
 * the camera's RTP (frame complete at the RTP marker bit) and the gateway's FLV tags.
 * Each frame is fingerprinted by the md5 of its H.264 slice NAL units (types 1-5), which
 * copy mode carries byte for byte; parameter sets, SEI and delimiters are left out because
 * muxers may add or move them.
 */

const isSlice = (nal: Buffer) => {
  const type = (nal[0] ?? 0) & 0x1f;
  return type >= 1 && type <= 5;
};

/** A minimal RTSP client (DESCRIBE, SETUP over TCP interleaved, PLAY) for the camera's video track. */
export class RtpFrameReader {
  readonly frames: Frame[] = [];
  /** RTP payload bytes of the video track received so far, and when the first arrived. */
  bytes = 0;
  firstByteAt: number | null = null;
  /** RTP sequence-number discontinuities seen. */
  seqGaps = 0;
  private lastSeq = -1;
  error: string | null = null;
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private cseq = 0;
  private pending: ((res: { status: number; headers: Record<string, string>; body: string }) => void) | null = null;
  private hash: Hash | null = null;
  private fuNal: Buffer[] | null = null;
  private frameTs: number | null = null;
  private lastPacketAt = 0;

  constructor(private readonly url: string) {
    const u = new URL(url);
    this.socket = connect(Number(u.port || 554), u.hostname);
    this.socket.on('data', (chunk) => this.onData(chunk, nowMs()));
    this.socket.on('error', (err) => (this.error = err.message));
    this.socket.once('connect', () => void this.handshake().catch((err: unknown) => (this.error = String(err))));
  }

  private async handshake(): Promise<void> {
    const described = await this.send('DESCRIBE', this.url, { Accept: 'application/sdp' });
    if (described.status !== 200) throw new Error(`DESCRIBE ${described.status}`);
    const base = described.headers['content-base'] ?? this.url;
    const video = described.body.split(/^m=/m).find((s) => s.startsWith('video'));
    const control = video ? /^a=control:(\S+)/m.exec(video)?.[1] : undefined;
    if (!control) throw new Error('no video track in the SDP');
    const track = /^rtsp:/i.test(control) ? control : `${base.replace(/\/?$/, '/')}${control}`;
    const setup = await this.send('SETUP', track, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    if (setup.status !== 200) throw new Error(`SETUP ${setup.status}`);
    const session = (setup.headers.session ?? '').split(';')[0] as string;
    const play = await this.send('PLAY', base, { Session: session, Range: 'npt=0.000-' });
    if (play.status !== 200) throw new Error(`PLAY ${play.status}`);
  }

  private send(
    method: string,
    uri: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    this.cseq += 1;
    const lines = [
      `${method} ${uri} RTSP/1.0`,
      `CSeq: ${this.cseq}`,
      'User-Agent: psvgw-bench',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    return new Promise((resolve) => {
      this.pending = resolve;
      this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  }

  private onData(chunk: Buffer, at: number): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length === 0) return;
      if (b[0] === 0x24) {
        if (b.length < 4) return;
        const size = b.readUInt16BE(2);
        if (b.length < 4 + size) return;
        if (b[1] === 0) {
          this.bytes += size;
          this.firstByteAt ??= at;
          this.onRtp(b.subarray(4, 4 + size), at);
        }
        this.buffer = b.subarray(4 + size);
        continue;
      }
      const end = b.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = b.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (b.length < end + 4 + length) return;
      const body = b.subarray(end + 4, end + 4 + length).toString('latin1');
      this.buffer = b.subarray(end + 4 + length);
      const status = Number((head[0] ?? '').split(' ')[1]);
      const resolve = this.pending;
      this.pending = null;
      resolve?.({ status, headers, body });
    }
  }

  private onRtp(packet: Buffer, at: number): void {
    if (packet.length < 12) return;
    const csrc = (packet[0] as number) & 0x0f;
    const hasExtension = ((packet[0] as number) & 0x10) !== 0;
    const marker = ((packet[1] as number) & 0x80) !== 0;
    const ts = packet.readUInt32BE(4);
    const seq = packet.readUInt16BE(2);
    if (this.lastSeq >= 0 && seq !== ((this.lastSeq + 1) & 0xffff)) this.seqGaps += 1;
    this.lastSeq = seq;
    let offset = 12 + csrc * 4;
    if (hasExtension && packet.length >= offset + 4) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
    let payload = packet.subarray(offset);
    if ((packet[0] as number) & 0x20) payload = payload.subarray(0, payload.length - (packet[packet.length - 1] as number));
    if (this.frameTs !== null && ts !== this.frameTs) this.endFrame(this.lastPacketAt);
    this.frameTs = ts;
    this.lastPacketAt = at;
    this.depayload(payload);
    if (marker) this.endFrame(at);
  }

  private depayload(payload: Buffer): void {
    const type = (payload[0] ?? 0) & 0x1f;
    if (type >= 1 && type <= 23) this.addNal(payload);
    else if (type === 24) {
      for (let i = 1; i + 2 <= payload.length;) {
        const size = payload.readUInt16BE(i);
        this.addNal(payload.subarray(i + 2, i + 2 + size));
        i += 2 + size;
      }
    } else if (type === 28 && payload.length > 2) {
      const fu = payload[1] as number;
      if (fu & 0x80) this.fuNal = [Buffer.from([((payload[0] as number) & 0xe0) | (fu & 0x1f)])];
      this.fuNal?.push(payload.subarray(2));
      if (fu & 0x40 && this.fuNal) {
        this.addNal(Buffer.concat(this.fuNal));
        this.fuNal = null;
      }
    }
  }

  private addNal(nal: Buffer): void {
    if (!isSlice(nal)) return;
    (this.hash ??= createHash('md5')).update(nal);
  }

  private endFrame(at: number): void {
    if (this.hash) this.frames.push({ md5: this.hash.digest('hex'), at });
    this.hash = null;
    this.frameTs = null;
  }

  stop(): void {
    this.socket.destroy();
  }
}

/** Fingerprints of the video tags of an HTTP-FLV or WS-FLV stream, time-stamped on arrival. */
export class FlvFrameReader {
  readonly frames: Frame[] = [];
  error: string | null = null;
  private readonly reader = new FlvTagReader();
  private readonly close: () => void;

  constructor(protocol: 'http-flv' | 'ws-flv', url: string) {
    if (protocol === 'http-flv') {
      const req = request(url, { agent: false }, (res) => res.on('data', (c: Buffer) => this.onData(c, nowMs())));
      req.on('error', (err) => (this.error = err.message));
      req.end();
      this.close = () => req.destroy();
    } else {
      const ws = new WebSocket(url);
      ws.on('message', (data: Buffer) => this.onData(data, nowMs()));
      ws.on('error', (err) => (this.error = err.message));
      this.close = () => ws.terminate();
    }
  }

  private onData(chunk: Buffer, at: number): void {
    try {
      for (const tag of this.reader.push(chunk)) {
        if (tag.type !== 'video' || tag.codecId !== FlvVideoCodec.AVC || tag.avcPacketType !== FlvPacketType.NALU) continue;
        const hash = createHash('md5');
        let slices = 0;
        for (let i = 5; i + 4 <= tag.data.length;) {
          const size = tag.data.readUInt32BE(i);
          const nal = tag.data.subarray(i + 4, i + 4 + size);
          if (isSlice(nal)) {
            hash.update(nal);
            slices += 1;
          }
          i += 4 + size;
        }
        if (slices > 0) this.frames.push({ md5: hash.digest('hex'), at });
      }
    } catch (err) {
      this.error = (err as Error).message;
      this.close();
    }
  }

  stop(): void {
    this.close();
  }
}
