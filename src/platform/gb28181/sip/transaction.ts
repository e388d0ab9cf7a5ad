/**
 * RFC 3261 §17 transactions: client INVITE (§17.1.1, figure 5) and non-INVITE (§17.1.2,
 * figure 6), server INVITE (§17.2.1, figure 7) and non-INVITE (§17.2.2, figure 8). Timers
 * run on an injected scheduler and bytes go out through an injected send function, so the
 * state machines are pure logic and tested with fake time. Messages are retransmitted only
 * over unreliable transports (UDP); over TCP only the timeouts run.
 */
import { buildResponse, getHeader, getHeaders, serializeSipMessage, type SipRequest, type SipResponse } from './message.js';
import { parseCSeq, parseVia } from './headers.js';

/** RFC 3261 §17.1.1.1 timer values, in milliseconds. */
export interface SipTimerValues {
  /** RTT estimate, default 500 ms. */
  T1: number;
  /** Longest retransmit interval for non-INVITE requests, default 4 s. */
  T2: number;
  /** Longest time a message stays in the network, default 5 s. */
  T4: number;
}

export const DEFAULT_TIMERS: Readonly<SipTimerValues> = { T1: 500, T2: 4000, T4: 5000 };

/** The scheduler the transactions use; node's setTimeout/clearTimeout fit it. */
export interface TimerHost {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What every transaction reports to its transaction user (TU). */
interface TransactionUser {
  /** The send function threw (§17.1.1.2, §17.2.4: treated like a 503 / reported to the TU). */
  onTransportError(err: unknown): void;
  /** The transaction is over and can be forgotten. */
  onTerminated?(): void;
}

/** What a client transaction reports. */
export interface ClientTransactionUser extends TransactionUser {
  /** Every response the TU must see: provisional, the first final, and 2xx to INVITE. */
  onResponse(res: SipResponse): void;
  /** Timer B or F fired: no final response came (§17.1.1.2, §17.1.2.2); the TU acts as on 408. */
  onTimeout(): void;
}

/** What a server transaction reports. */
export interface ServerTransactionUser extends TransactionUser {
  /** INVITE only: Timer H fired, the ACK for a 300–699 response never came (§17.2.1). */
  onTimeout?(): void;
}

interface TransactionOptions<U extends TransactionUser> {
  /** True over TCP: nothing is retransmitted, Timers D, I, J and K are zero. */
  reliable: boolean;
  send: (bytes: Buffer) => void;
  timers: TimerHost;
  user: U;
  values?: Partial<SipTimerValues>;
}

export interface ClientTransactionOptions extends TransactionOptions<ClientTransactionUser> {
  request: SipRequest;
}

export interface ServerTransactionOptions extends TransactionOptions<ServerTransactionUser> {
  /** The request that created the transaction. */
  request: SipRequest;
}

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'terminated';
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'terminated';
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/**
 * The key that matches responses to a client transaction (§17.1.3): the top Via's branch
 * and the CSeq method (so a CANCEL's responses do not reach its INVITE).
 */
export function clientTransactionKey(msg: SipRequest | SipResponse): string | undefined {
  const branch = parseVia(getHeader(msg, 'Via') ?? '')?.branch;
  const method = parseCSeq(getHeader(msg, 'CSeq') ?? '')?.method;
  if (branch === undefined || method === undefined) return undefined;
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

/**
 * The key that matches requests to a server transaction (§17.2.3): top Via branch and
 * sent-by, and the method with ACK counted as INVITE. Only RFC 3261 branches (z9hG4bK) are
 * matched this way; older peers get undefined and each request is new to them.
 */
export function serverTransactionKey(req: SipRequest): string | undefined {
  const via = parseVia(getHeader(req, 'Via') ?? '');
  if (via?.branch === undefined || !via.branch.startsWith('z9hG4bK')) return undefined;
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? 5060}`;
  return `${via.branch}|${sentBy}|${req.method === 'ACK' ? 'INVITE' : req.method}`;
}

/** Timers, sending and termination that all four state machines share. */
abstract class TransactionBase<S extends string, U extends TransactionUser> {
  protected readonly values: SipTimerValues;
  private readonly handles = new Map<string, unknown>();
  protected abstract state: S | 'terminated';

  constructor(protected readonly opts: TransactionOptions<U>) {
    this.values = { ...DEFAULT_TIMERS, ...opts.values };
  }

  get currentState(): S | 'terminated' {
    return this.state;
  }

  protected startTimer(name: string, ms: number, fire: () => void): void {
    this.stopTimer(name);
    this.handles.set(
      name,
      this.opts.timers.setTimeout(() => {
        this.handles.delete(name);
        if (this.state !== 'terminated') fire();
      }, ms),
    );
  }

  protected stopTimer(name: string): void {
    const h = this.handles.get(name);
    if (h === undefined) return;
    this.opts.timers.clearTimeout(h);
    this.handles.delete(name);
  }

  /** Sends bytes; a transport failure ends the transaction (§17.1.1.2, §17.2.4). */
  protected transmit(bytes: Buffer): boolean {
    try {
      this.opts.send(bytes);
      return true;
    } catch (err) {
      this.terminate();
      this.opts.user.onTransportError(err);
      return false;
    }
  }

  /**
   * Runs `then` after `ms`, or at once over a reliable transport where the wait for
   * retransmissions (Timers D, I, J, K) is zero.
   */
  protected afterWait(name: string, ms: number, then: () => void): void {
    if (this.opts.reliable) then();
    else this.startTimer(name, ms, then);
  }

  protected terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    for (const name of [...this.handles.keys()]) this.stopTimer(name);
    this.opts.user.onTerminated?.();
  }

  /** Ends the transaction at once: timers stop, only onTerminated is reported (e.g. on shutdown). */
  cancelTimers(): void {
    this.terminate();
  }
}

abstract class ClientTransactionBase<S extends string> extends TransactionBase<S, ClientTransactionUser> {
  private readonly bytes: Buffer;

  constructor(protected override readonly opts: ClientTransactionOptions) {
    super(opts);
    this.bytes = serializeSipMessage(opts.request);
  }

  /** Timer B (INVITE) or F (non-INVITE): 64·T1 without a final response ends the transaction. */
  protected abstract readonly timeoutTimer: 'B' | 'F';
  /** Starts Timer A or E; only called over unreliable transports. */
  protected abstract armRetransmit(): void;

  /** Sends the request and starts the timeout timer and, over UDP, the retransmit timer. */
  start(): void {
    if (!this.sendRequest()) return;
    this.startTimer(this.timeoutTimer, 64 * this.values.T1, () => {
      this.terminate();
      this.opts.user.onTimeout();
    });
    if (!this.opts.reliable) this.armRetransmit();
  }

  protected sendRequest(): boolean {
    return this.transmit(this.bytes);
  }

  /** Branch and method, as clientTransactionKey gives for responses that belong here. */
  get key(): string | undefined {
    return clientTransactionKey(this.opts.request);
  }
}

/** Client non-INVITE transaction (§17.1.2): REGISTER, MESSAGE, NOTIFY, BYE, ... */
export class NonInviteClientTransaction extends ClientTransactionBase<NonInviteClientState> {
  protected state: NonInviteClientState = 'trying';
  private interval: number;

  constructor(opts: ClientTransactionOptions) {
    super(opts);
    if (opts.request.method === 'INVITE' || opts.request.method === 'ACK') {
      throw new Error(`${opts.request.method} is not sent in a non-INVITE transaction`);
    }
    this.interval = this.values.T1;
  }

  protected readonly timeoutTimer = 'F';

  protected armRetransmit(): void {
    this.armE();
  }

  /** Timer E: retransmit, doubling up to T2 while trying, every T2 once proceeding (§17.1.2.2). */
  private armE(): void {
    this.startTimer('E', this.interval, () => {
      if (!this.sendRequest()) return;
      this.interval = this.state === 'trying' ? Math.min(2 * this.interval, this.values.T2) : this.values.T2;
      this.armE();
    });
  }

  /** A response whose key matches this transaction. */
  receive(res: SipResponse): void {
    if (this.state === 'terminated' || this.state === 'completed') return; // retransmitted finals are absorbed
    if (res.status < 200) {
      if (this.state === 'trying') {
        this.state = 'proceeding';
        this.interval = this.values.T2;
      }
      this.opts.user.onResponse(res);
      return;
    }
    this.state = 'completed';
    this.stopTimer('E');
    this.stopTimer('F');
    this.opts.user.onResponse(res);
    // Timer K absorbs retransmitted responses; zero over reliable transports.
    this.afterWait('K', this.values.T4, () => this.terminate());
  }
}

/** Client INVITE transaction (§17.1.1). */
export class InviteClientTransaction extends ClientTransactionBase<InviteClientState> {
  protected state: InviteClientState = 'calling';
  private ackBytes: Buffer | undefined;

  constructor(opts: ClientTransactionOptions) {
    super(opts);
    if (opts.request.method !== 'INVITE') throw new Error('an INVITE client transaction sends INVITE');
  }

  protected readonly timeoutTimer = 'B';

  protected armRetransmit(): void {
    this.armA(this.values.T1);
  }

  /** Timer A doubles each time and is not capped by T2 (§17.1.1.2); Timer B ends it. */
  private armA(ms: number): void {
    this.startTimer('A', ms, () => {
      if (this.state !== 'calling' || !this.sendRequest()) return;
      this.armA(2 * ms);
    });
  }

  receive(res: SipResponse): void {
    if (this.state === 'terminated') return;
    if (this.state === 'completed') {
      // A retransmitted final response: the ACK was lost, send it again.
      if (res.status >= 300 && this.ackBytes !== undefined) this.transmit(this.ackBytes);
      return;
    }
    if (res.status < 200) {
      this.state = 'proceeding';
      this.stopTimer('A');
      this.stopTimer('B');
      this.opts.user.onResponse(res);
      return;
    }
    if (res.status < 300) {
      // 2xx: the TU (dialog) sends the ACK end to end; the transaction is done (§17.1.1.2).
      this.opts.user.onResponse(res);
      this.terminate();
      return;
    }
    this.state = 'completed';
    this.stopTimer('A');
    this.stopTimer('B');
    this.ackBytes = serializeSipMessage(ackForNon2xx(this.opts.request, res));
    this.opts.user.onResponse(res);
    if (!this.transmit(this.ackBytes)) return;
    // Timer D: at least 32 s over UDP to absorb retransmitted finals, zero over TCP.
    this.afterWait('D', Math.max(32_000, 64 * this.values.T1), () => this.terminate());
  }
}

/**
 * The ACK a client INVITE transaction sends for a 300–699 response (§17.1.1.3): same
 * Request-URI, Call-ID, From, CSeq number and top Via as the INVITE, To from the response
 * (with its tag), the INVITE's Route headers, no body.
 */
export function ackForNon2xx(invite: SipRequest, res: SipResponse): SipRequest {
  const cseq = parseCSeq(getHeader(invite, 'CSeq') ?? '');
  const pick = (name: string, from: SipRequest | SipResponse): { name: string; value: string }[] =>
    getHeaders(from, name)
      .slice(0, name === 'Via' ? 1 : undefined)
      .map((value) => ({ name, value }));
  return {
    kind: 'request',
    method: 'ACK',
    uri: invite.uri,
    headers: [
      ...pick('Via', invite),
      ...pick('Route', invite),
      ...pick('Max-Forwards', invite),
      ...pick('From', invite),
      ...pick('To', res),
      ...pick('Call-ID', invite),
      { name: 'CSeq', value: `${cseq?.seq ?? 0} ACK` },
    ],
    body: Buffer.alloc(0),
  };
}

/**
 * Server non-INVITE transaction (§17.2.2): MESSAGE, NOTIFY, BYE, ... from the platform.
 * Retransmitted requests get the last response again; Timer J (64·T1 over UDP) keeps the
 * final response around for them.
 */
export class NonInviteServerTransaction extends TransactionBase<NonInviteServerState, ServerTransactionUser> {
  protected state: NonInviteServerState = 'trying';
  private last: Buffer | undefined;

  constructor(protected override readonly opts: ServerTransactionOptions) {
    super(opts);
    if (opts.request.method === 'INVITE' || opts.request.method === 'ACK') {
      throw new Error(`${opts.request.method} does not start a non-INVITE server transaction`);
    }
  }

  get key(): string | undefined {
    return serverTransactionKey(this.opts.request);
  }

  /** A retransmission of the request (same key). */
  receiveRequest(_req: SipRequest): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last !== undefined) this.transmit(this.last);
  }

  /** The TU's response; ignored once a final response was sent. */
  respond(res: SipResponse): void {
    if (this.state === 'completed' || this.state === 'terminated') return;
    this.last = serializeSipMessage(res);
    if (res.status < 200) {
      this.state = 'proceeding';
      this.transmit(this.last);
      return;
    }
    this.state = 'completed';
    if (!this.transmit(this.last)) return;
    this.afterWait('J', 64 * this.values.T1, () => this.terminate());
  }
}

/**
 * Server INVITE transaction (§17.2.1). A 100 Trying goes out by itself when the TU has not
 * answered within 200 ms. A 2xx ends the transaction (its retransmission is the dialog's
 * job); a 300–699 is retransmitted on Timer G until the ACK, or Timer H gives up.
 */
export class InviteServerTransaction extends TransactionBase<InviteServerState, ServerTransactionUser> {
  protected state: InviteServerState = 'proceeding';
  private last: Buffer | undefined;

  constructor(protected override readonly opts: ServerTransactionOptions) {
    super(opts);
    if (opts.request.method !== 'INVITE') throw new Error('an INVITE server transaction starts with INVITE');
  }

  get key(): string | undefined {
    return serverTransactionKey(this.opts.request);
  }

  /** Arms the automatic 100 Trying (§17.2.1: unless the TU answers within 200 ms). */
  start(): void {
    this.startTimer('Trying', 200, () => {
      if (this.last === undefined) this.respond(buildResponse(this.opts.request, 100, 'Trying'));
    });
  }

  /** A retransmitted INVITE, or the ACK for a 300–699 response. */
  receiveRequest(req: SipRequest): void {
    if (req.method === 'ACK') {
      if (this.state !== 'completed') return;
      this.state = 'confirmed';
      this.stopTimer('G');
      this.stopTimer('H');
      // Timer I absorbs retransmitted ACKs.
      this.afterWait('I', this.values.T4, () => this.terminate());
      return;
    }
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last !== undefined) this.transmit(this.last);
  }

  respond(res: SipResponse): void {
    if (this.state !== 'proceeding') return;
    this.stopTimer('Trying');
    this.last = serializeSipMessage(res);
    if (!this.transmit(this.last)) return;
    if (res.status < 200) return;
    if (res.status < 300) {
      this.terminate();
      return;
    }
    this.state = 'completed';
    if (!this.opts.reliable) this.armG(this.values.T1);
    this.startTimer('H', 64 * this.values.T1, () => {
      this.terminate();
      this.opts.user.onTimeout?.();
    });
  }

  /** Timer G: resend the final response, doubling up to T2. */
  private armG(ms: number): void {
    this.startTimer('G', ms, () => {
      if (this.last === undefined || !this.transmit(this.last)) return;
      this.armG(Math.min(2 * ms, this.values.T2));
    });
  }
}

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/**
 * The live transactions of one SIP endpoint, keyed as §17.1.3 and §17.2.3 say. It creates
 * them so that each leaves the table when it terminates. What it cannot route is for the
 * core: a stray response, a new request, or the ACK to a 2xx (its INVITE transaction is
 * already over, §17.2.1).
 */
export class TransactionTable {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();

  get size(): number {
    return this.clients.size + this.servers.size;
  }

  /** Creates (not starts) the client transaction that fits the request's method. */
  createClient(opts: ClientTransactionOptions): ClientTransaction {
    const key = clientTransactionKey(opts.request);
    if (key === undefined) throw new Error('a client request needs a Via branch and a CSeq');
    const tu = opts.user;
    // Delegating methods, not spreading: a TU may be a class whose methods live on its prototype.
    const user: ClientTransactionUser = {
      onResponse: (res) => tu.onResponse(res),
      onTimeout: () => tu.onTimeout(),
      onTransportError: (err) => tu.onTransportError(err),
      onTerminated: () => {
        this.clients.delete(key);
        tu.onTerminated?.();
      },
    };
    const tx =
      opts.request.method === 'INVITE' ? new InviteClientTransaction({ ...opts, user }) : new NonInviteClientTransaction({ ...opts, user });
    this.clients.set(key, tx);
    return tx;
  }

  /** Creates the server transaction for a new request; not tabled when its branch is pre-3261. */
  createServer(opts: ServerTransactionOptions): ServerTransaction {
    const key = serverTransactionKey(opts.request);
    const tu = opts.user;
    const user: ServerTransactionUser = {
      onTimeout: () => tu.onTimeout?.(),
      onTransportError: (err) => tu.onTransportError(err),
      onTerminated: () => {
        if (key !== undefined) this.servers.delete(key);
        tu.onTerminated?.();
      },
    };
    const tx =
      opts.request.method === 'INVITE' ? new InviteServerTransaction({ ...opts, user }) : new NonInviteServerTransaction({ ...opts, user });
    if (key !== undefined) this.servers.set(key, tx);
    return tx;
  }

  /** Hands a response to its client transaction; false when none matches. */
  routeResponse(res: SipResponse): boolean {
    const key = clientTransactionKey(res);
    const tx = key === undefined ? undefined : this.clients.get(key);
    tx?.receive(res);
    return tx !== undefined;
  }

  /** Hands a retransmitted request or an ACK to its server transaction; false when it is new. */
  routeRequest(req: SipRequest): boolean {
    const key = serverTransactionKey(req);
    const tx = key === undefined ? undefined : this.servers.get(key);
    tx?.receiveRequest(req);
    return tx !== undefined;
  }

  /** Ends every transaction at once (only onTerminated is reported), e.g. on shutdown. */
  clear(): void {
    for (const tx of [...this.clients.values(), ...this.servers.values()]) tx.cancelTimers();
  }
}
