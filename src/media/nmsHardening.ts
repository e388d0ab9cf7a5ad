import type { Server as NetServer, Socket } from 'node:net';
import { ConnectionGate, type GateRefusal } from './connectionGate.js';
import { nmsInternals, nmsListeners, type NmsListeners, type NmsPlaySession, type RtmpParser } from './nmsInternals.js';

/**
 * Hooks that keep node-media-server safe from clients that never authenticate: it
 * would otherwise listen on every address, accept any number of connections, allocate
 * whatever RTMP message length a client declares (up to 16 MiB per chunk stream) and
 * buffer WebSocket messages of up to 100 MiB, all before any token or signature is seen.
 */

export interface MediaLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  preAuthMessageBytes: number;
  mediaMessageBytes: number;
  wsMaxPayloadBytes: number;
  authTimeoutSeconds: number;
}

export type CutoffReason = GateRefusal | 'message_size' | 'rtmp_protocol' | 'auth_timeout' | 'ws_protocol';

export interface Cutoff {
  server: 'rtmp' | 'http';
  reason: CutoffReason;
  address: string | undefined;
  detail?: string;
}

export interface HardeningOptions {
  rtmpHost: string;
  limits: MediaLimits;
  onCutoff: (cutoff: Cutoff) => void;
}

export interface HardenedServers {
  rtmp: ConnectionGate;
  http: ConnectionGate;
}

/** Chunk streams a connection may open before it may publish (a client uses 2 to 4). */
const PRE_AUTH_CHUNK_STREAMS = 16;

/** Applies every hook to a NodeMediaServer that is constructed but not yet run. */
export function hardenNms(nms: object, opts: HardeningOptions): HardenedServers {
  const listeners = nmsListeners(nms);
  bindRtmpTo(listeners, opts.rtmpHost);
  installMessageCaps(opts.limits, opts.onCutoff);
  const gateLimits = { total: opts.limits.maxConnections, perAddress: opts.limits.maxConnectionsPerAddress };
  const rtmp = new ConnectionGate(gateLimits);
  const http = new ConnectionGate(gateLimits);
  gateConnections(
    listeners.rtmp,
    rtmp,
    (reason, address) => opts.onCutoff({ server: 'rtmp', reason, address }),
    (socket) => watchRtmpConnection(socket, opts.limits.authTimeoutSeconds * 1000, opts.onCutoff),
  );
  gateConnections(listeners.http, http, (reason, address) => opts.onCutoff({ server: 'http', reason, address }));
  listeners.ws.options.maxPayload = opts.limits.wsMaxPayloadBytes;
  // ws answers an oversized or malformed frame with a close handshake and reads on for up
  // to 30 s; a viewer has nothing to send, so the connection is dropped at once instead.
  listeners.ws.on('connection', (ws, req) =>
    ws.on('error', (err) => {
      opts.onCutoff({ server: 'http', reason: 'ws_protocol', address: req.socket.remoteAddress, detail: err.message });
      ws.terminate();
    }),
  );
  return { rtmp, http };
}

/** Lets an RTMP connection send media messages up to the media cap: it passed publish authentication. */
export function trustPublisher(session: object): void {
  const parser = (session as { rtmp?: GuardedParser }).rtmp;
  if (!parser) return;
  parser[TRUSTED] = true;
  parser[AUTHORISED] = true;
}

/** An RTMP connection that passed play authentication may stay open past the authentication deadline. */
export function authorise(session: object): void {
  const parser = (session as { rtmp?: GuardedParser }).rtmp;
  if (parser) parser[AUTHORISED] = true;
}

/**
 * node-media-server parses whatever an HTTP-FLV / WS-FLV client sends as an FLV
 * stream, viewers included, and allocates twice any tag size the client declares. No
 * client of the gateway sends FLV (its own publishers use RTMP), so the input is dropped.
 */
export function muteFlvInput(session: object): void {
  const s = session as {
    protocol?: string;
    onData?: (data: Buffer) => void;
    req?: { removeListener(event: 'data', listener: (data: Buffer) => void): void };
    res?: { removeListener?: (event: 'message', listener: (data: Buffer) => void) => void };
  };
  if (s.protocol !== 'flv' || typeof s.onData !== 'function') return;
  s.req?.removeListener('data', s.onData);
  s.res?.removeListener?.('message', s.onData);
}

/**
 * A refused play still becomes a subscriber of the stream (node-media-server subscribes
 * it after prePlay returns) and stays one while its connection lives, e.g. an HTTP
 * keep-alive connection: drop it as soon as the subscription is made.
 */
export function unsubscribeRefused(session: NmsPlaySession): void {
  queueMicrotask(() => session.broadcast?.donePlay?.(session));
}

/** node-media-server binds RTMP and HTTP to the same `bind`; RTMP gets its own address. */
function bindRtmpTo(listeners: NmsListeners, host: string): void {
  const { context } = nmsInternals();
  const server = listeners.rtmpServer;
  const run = server.run.bind(server);
  server.run = () => {
    const bind = context.config.bind;
    context.config.bind = host;
    try {
      run();
    } finally {
      context.config.bind = bind;
    }
  };
}

/** Puts the gate before the server's own connection handlers (a refused socket never reaches them). */
function gateConnections(
  server: NetServer,
  gate: ConnectionGate,
  onRefused: (reason: GateRefusal, address: string | undefined) => void,
  afterAdmit?: (socket: Socket) => void,
): void {
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    const refusal = gate.admit(address);
    if (refusal !== null) {
      socket.destroy();
      onRefused(refusal, address);
      return;
    }
    socket.once('close', () => gate.release(address));
    for (const handler of handlers) handler.call(server, socket);
    afterAdmit?.(socket);
  });
}

const TRUSTED = Symbol('psvgw.rtmpTrusted');
const AUTHORISED = Symbol('psvgw.rtmpAuthorised');
const CUT = Symbol('psvgw.rtmpCut');
const SOCKET = Symbol('psvgw.rtmpSocket');

interface GuardedParser extends RtmpParser {
  [TRUSTED]?: boolean;
  [AUTHORISED]?: boolean;
  [CUT]?: string;
  [SOCKET]?: Socket;
}

/**
 * Lets the parser of a new RTMP connection cut its socket, and cuts a connection that has
 * neither published nor played with valid credentials by the deadline: idle connections
 * would otherwise fill the connection limit the gateway's own ffmpegs need.
 */
function watchRtmpConnection(socket: Socket, authTimeoutMs: number, onCutoff: (cutoff: Cutoff) => void): void {
  let parser: GuardedParser | undefined;
  for (const session of nmsInternals().context.sessions.values()) {
    if (session.socket === socket && session.rtmp) parser = session.rtmp as GuardedParser;
  }
  if (!parser) return;
  parser[SOCKET] = socket;
  const deadline = setTimeout(() => {
    if (parser[AUTHORISED] || socket.destroyed) return;
    onCutoff({
      server: 'rtmp',
      reason: 'auth_timeout',
      address: socket.remoteAddress,
      detail: `no publish or play within ${authTimeoutMs} ms`,
    });
    socket.destroy();
  }, authTimeoutMs);
  deadline.unref();
  socket.once('close', () => clearTimeout(deadline));
}

class RtmpLimitExceeded extends Error {}

const MAX_DETAIL = 200;

let caps: { limits: MediaLimits; onCutoff: (cutoff: Cutoff) => void } | null = null;
let capsInstalled = false;

/**
 * Wraps the parser's allocation of a message: a declared length over the cap throws
 * before anything is allocated, and the wrapped parserData turns that into a parser
 * error after cutting the socket. It does the same for anything else the parser throws
 * (a malformed AMF command throws a RangeError, which would otherwise escape the socket's
 * data handler and end the gateway). node-media-server has one media server per process
 * (its context is global), so the caps are too.
 */
export function installMessageCaps(limits: MediaLimits, onCutoff: (cutoff: Cutoff) => void): void {
  caps = { limits, onCutoff };
  if (capsInstalled) return;
  capsInstalled = true;
  const proto = nmsInternals().rtmpParser.prototype as GuardedParser;
  const packetAlloc = proto.packetAlloc;
  const parserData = proto.parserData;
  proto.packetAlloc = function (this: GuardedParser) {
    if (caps) {
      const problem = this[TRUSTED] ? mediaProblem(this, caps.limits) : preAuthProblem(this, caps.limits);
      if (problem !== null) throw new RtmpLimitExceeded(problem);
    }
    packetAlloc.call(this);
  };
  proto.parserData = function (this: GuardedParser, buffer: Buffer) {
    if (this[CUT] !== undefined) return this[CUT];
    try {
      return parserData.call(this, buffer);
    } catch (err) {
      const limit = err instanceof RtmpLimitExceeded;
      const detail = (err instanceof Error ? err.message : String(err)).slice(0, MAX_DETAIL);
      this[CUT] = limit ? detail : `malformed RTMP data: ${detail}`;
      const socket = this[SOCKET];
      caps?.onCutoff({ server: 'rtmp', reason: limit ? 'message_size' : 'rtmp_protocol', address: socket?.remoteAddress, detail });
      socket?.destroy();
      return this[CUT];
    }
  };
}

function preAuthProblem(parser: GuardedParser, limits: MediaLimits): string | null {
  if (parser.inPackets.size > PRE_AUTH_CHUNK_STREAMS)
    return `opened ${parser.inPackets.size} chunk streams before being allowed to publish (at most ${PRE_AUTH_CHUNK_STREAMS})`;
  const declared = parser.parserPacket.header.length;
  let held = declared;
  for (const packet of parser.inPackets.values()) if (packet !== parser.parserPacket) held += packet.capacity;
  if (held <= limits.preAuthMessageBytes) return null;
  return (
    `declared a ${declared}-byte message before being allowed to publish, ${held} bytes over all its chunk ` +
    `streams (at most ${limits.preAuthMessageBytes}, media.limits.preAuthMessageBytes)`
  );
}

function mediaProblem(parser: GuardedParser, limits: MediaLimits): string | null {
  const declared = parser.parserPacket.header.length;
  if (declared <= limits.mediaMessageBytes) return null;
  return `declared a ${declared}-byte message (at most ${limits.mediaMessageBytes}, media.limits.mediaMessageBytes)`;
}
