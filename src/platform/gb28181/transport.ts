/**
 * The gateway's one SIP port, UDP and TCP on the same number (GB/T 28181 platforms expect
 * the Contact port to answer both). UDP datagrams are parsed whole; TCP streams go through
 * SipFramer. Outgoing TCP reuses the connection to a peer, dialling one when there is none.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { SipFramer } from './sip/framer.js';
import { SipParseError, tryParseSipMessage, type SipMessage } from './sip/message.js';

export interface SipPeer {
  transport: 'UDP' | 'TCP';
  host: string;
  port: number;
}

export type SipInbound = (message: SipMessage, peer: SipPeer) => void;
/** A TCP connection to the peer failed or broke: what was sent on it may never be answered. */
export type SipPeerError = (peer: SipPeer, err: Error) => void;

export interface SipTransportOptions {
  host: string;
  port: number;
  logger: Logger;
}

const peerKey = (host: string, port: number): string => `${host.replace(/^::ffff:/, '')}:${port}`;

export class SipTransport {
  private readonly tcp = new Map<string, Socket>();
  private readonly listeners: SipInbound[] = [];
  private readonly peerErrors: SipPeerError[] = [];

  private constructor(
    private readonly udp: UdpSocket,
    private readonly server: Server,
    readonly port: number,
    private readonly logger: Logger,
  ) {}

  static async open(o: SipTransportOptions): Promise<SipTransport> {
    const udp = createSocket({ type: o.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(o.port, o.host, () => (udp.off('error', reject), resolve()));
    }).catch((err: unknown) => {
      throw new Error(`cannot bind SIP UDP ${o.host}:${o.port} (gb28181.sipPort / PSVGW_SIP_PORT): ${String(err)}`);
    });
    const port = udp.address().port;
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, o.host, () => (server.off('error', reject), resolve()));
    }).catch((err: unknown) => {
      udp.close();
      throw new Error(`cannot listen on SIP TCP ${o.host}:${port} (gb28181.sipPort / PSVGW_SIP_PORT): ${String(err)}`);
    });
    const t = new SipTransport(udp, server, port, o.logger);
    udp.on('message', (buf, rinfo) => t.deliver(tryParseSipMessage(buf), { transport: 'UDP', host: rinfo.address, port: rinfo.port }));
    udp.on('error', (err) => o.logger.warn({ err }, 'SIP UDP socket error'));
    server.on('connection', (socket) => t.adopt(socket));
    return t;
  }

  onMessage(listener: SipInbound): void {
    this.listeners.push(listener);
  }

  onPeerError(listener: SipPeerError): void {
    this.peerErrors.push(listener);
  }

  /** Sends bytes; throws at once when they cannot go out (the transaction then ends with a transport error). */
  send(peer: SipPeer, bytes: Buffer): void {
    if (peer.transport === 'UDP') {
      this.udp.send(bytes, peer.port, peer.host);
      return;
    }
    let socket = this.tcp.get(peerKey(peer.host, peer.port));
    if (socket === undefined || socket.destroyed) {
      socket = createConnection({ host: peer.host, port: peer.port });
      this.adopt(socket, peer);
    }
    socket.write(bytes);
  }

  private adopt(socket: Socket, dialled?: SipPeer): void {
    const host = dialled?.host ?? (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const port = dialled?.port ?? socket.remotePort ?? 0;
    const key = peerKey(host, port);
    this.tcp.set(key, socket);
    const framer = new SipFramer();
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of framer.feed(chunk)) this.deliver(frame.message, { transport: 'TCP', host, port });
      } catch (err) {
        this.logger.warn({ err, peer: key }, 'SIP TCP stream cannot be framed; closing it');
        socket.destroy();
      }
    });
    socket.on('error', (err) => {
      this.logger.debug({ err, peer: key }, 'SIP TCP connection error');
      for (const l of this.peerErrors) l({ transport: 'TCP', host, port }, err);
    });
    socket.on('close', () => {
      if (this.tcp.get(key) === socket) this.tcp.delete(key);
    });
  }

  private deliver(message: SipMessage | SipParseError, peer: SipPeer): void {
    if (message instanceof SipParseError) {
      this.logger.debug({ code: message.code, peer: `${peer.host}:${peer.port}` }, 'dropped a malformed SIP message');
      return;
    }
    for (const l of this.listeners) l(message, peer);
  }

  async close(): Promise<void> {
    for (const s of this.tcp.values()) s.destroy();
    this.tcp.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }
}
