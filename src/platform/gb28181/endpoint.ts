/**
 * One SIP endpoint over the transport: client requests run in RFC 3261 transactions and
 * resolve with their final response; new requests go to the handler registered for their
 * sender, which answers through the server transaction. Requests nobody handles get 403
 * (an unknown platform) and methods a handler does not take get 405 from the handler.
 */
import type { Logger } from '../../log.js';
import type { SipPeer, SipTransport } from './transport.js';
import { sipUriUser, parseNameAddr } from './sip/headers.js';
import { buildResponse, getHeader, serializeSipMessage, type ResponseOptions, type SipRequest, type SipResponse } from './sip/message.js';
import { TransactionTable, type SipTimerValues, type TimerHost } from './sip/transaction.js';

/** Why a client request got no final response. */
export class SipRequestError extends Error {
  constructor(
    readonly reason: 'timeout' | 'transport',
    message: string,
  ) {
    super(message);
    this.name = 'SipRequestError';
  }
}

export type Reply = (status: number, reason: string, opts?: ResponseOptions) => void;

/** Who handles requests from one upper platform. */
export interface RequestHandler {
  /** True when the request comes from this handler's platform (its ID in From, or its address). */
  owns(req: SipRequest, peer: SipPeer): boolean;
  handle(req: SipRequest, peer: SipPeer, reply: Reply): void;
}

export interface SipEndpointOptions {
  transport: SipTransport;
  logger: Logger;
  timers?: TimerHost;
  values?: Partial<SipTimerValues>;
}

export class SipEndpoint {
  private readonly table = new TransactionTable();
  private readonly handlers = new Set<RequestHandler>();
  private readonly timers: TimerHost;
  /** Client requests waiting on each TCP peer, failed at once when its connection fails. */
  private readonly waiting = new Map<string, Set<(err: SipRequestError) => void>>();

  constructor(private readonly o: SipEndpointOptions) {
    this.timers = o.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    o.transport.onMessage((msg, peer) => (msg.kind === 'response' ? this.onResponse(msg) : this.onRequest(msg, peer)));
    o.transport.onPeerError((peer, err) => {
      const failing = this.waiting.get(`${peer.host}:${peer.port}`);
      for (const fail of [...(failing ?? [])])
        fail(new SipRequestError('transport', `TCP connection to ${peer.host}:${peer.port} failed: ${err.message}`));
    });
  }

  get localPort(): number {
    return this.o.transport.port;
  }

  addHandler(h: RequestHandler): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  /** Sends a request in a client transaction; resolves with the final response. */
  request(req: SipRequest, peer: SipPeer): Promise<SipResponse> {
    const key = `${peer.host}:${peer.port}`;
    let fail: ((err: SipRequestError) => void) | undefined;
    const settled = (): void => {
      if (fail !== undefined) this.waiting.get(key)?.delete(fail);
    };
    return new Promise<SipResponse>((resolve, reject) => {
      const tx = this.table.createClient({
        ...this.wiring(req, peer),
        user: {
          onResponse: (res) => res.status >= 200 && resolve(res),
          onTimeout: () => reject(new SipRequestError('timeout', `no answer to ${req.method} from ${key}`)),
          onTransportError: (err) => reject(new SipRequestError('transport', `${req.method} to ${key} could not be sent: ${String(err)}`)),
        },
      });
      if (peer.transport === 'TCP') {
        fail = (err) => {
          tx.cancelTimers();
          reject(err);
        };
        this.waiting.set(key, (this.waiting.get(key) ?? new Set()).add(fail));
      }
      tx.start();
    }).finally(settled);
  }

  /** Sends a response outside any transaction: the UAS core's 2xx retransmissions to an INVITE (RFC 3261 13.3.1.4). */
  resend(res: SipResponse, peer: SipPeer): void {
    this.o.transport.send(peer, serializeSipMessage(res));
  }

  /** What every transaction with `peer` shares: reliability, the way out, the timers. */
  private wiring(request: SipRequest, peer: SipPeer) {
    return {
      request,
      reliable: peer.transport === 'TCP',
      send: (bytes: Buffer) => this.o.transport.send(peer, bytes),
      timers: this.timers,
      ...(this.o.values === undefined ? {} : { values: this.o.values }),
    };
  }

  private onResponse(res: SipResponse): void {
    if (!this.table.routeResponse(res)) this.o.logger.debug({ status: res.status }, 'SIP response matches no transaction');
  }

  private onRequest(req: SipRequest, peer: SipPeer): void {
    if (this.table.routeRequest(req)) return;
    if (req.method === 'ACK') {
      // An ACK to a 2xx is end to end (no transaction): the dialog's owner takes it, nothing answers it.
      [...this.handlers].find((h) => h.owns(req, peer))?.handle(req, peer, () => undefined);
      return;
    }
    const tx = this.table.createServer({
      ...this.wiring(req, peer),
      user: { onTransportError: (err) => this.o.logger.debug({ err }, 'SIP response could not be sent') },
    });
    if ('start' in tx) tx.start();
    const reply: Reply = (status, reason, opts) => tx.respond(buildResponse(req, status, reason, { toTag: newToTag(req), ...opts }));
    const handler = [...this.handlers].find((h) => h.owns(req, peer));
    if (handler === undefined) {
      const from = sipUriUser(parseNameAddr(getHeader(req, 'From') ?? '').uri);
      this.o.logger.info(
        { method: req.method, from, peer: `${peer.host}:${peer.port}` },
        'SIP request from a platform not configured; refused',
      );
      reply(403, 'Forbidden');
      return;
    }
    try {
      handler.handle(req, peer, reply);
    } catch (err) {
      this.o.logger.error({ err, method: req.method }, 'SIP request handler failed');
      reply(500, 'Server Internal Error');
    }
  }

  close(): void {
    this.table.clear();
  }
}

/** A To tag derived from the branch so retransmitted requests get the same tag. */
function newToTag(req: SipRequest): string {
  const via = getHeader(req, 'Via') ?? '';
  let h = 0;
  for (let i = 0; i < via.length; i++) h = (h * 31 + via.charCodeAt(i)) >>> 0;
  return h.toString(16);
}
