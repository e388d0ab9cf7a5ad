import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildResponse, parseSipMessage, type SipRequest, type SipResponse } from '../../../../src/platform/gb28181/sip/message.js';
import {
  InviteClientTransaction,
  InviteServerTransaction,
  NonInviteClientTransaction,
  NonInviteServerTransaction,
  TransactionTable,
  ackForNon2xx,
  clientTransactionKey,
  serverTransactionKey,
  type ClientTransactionUser,
  type TimerHost,
} from '../../../../src/platform/gb28181/sip/transaction.js';

const timers: TimerHost = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

function request(method: string, branch = 'z9hG4bKtx1'): SipRequest {
  return {
    kind: 'request',
    method,
    uri: 'sip:34020000002000000001@3402000000',
    headers: [
      { name: 'Via', value: `SIP/2.0/UDP 10.0.0.5:5060;rport;branch=${branch}` },
      { name: 'Route', value: '<sip:proxy@10.0.0.9;lr>' },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: '<sip:34020000001180000001@3402000000>;tag=f1' },
      { name: 'To', value: '<sip:34020000002000000001@3402000000>' },
      { name: 'Call-ID', value: 'call-9' },
      { name: 'CSeq', value: `5 ${method}` },
    ],
    body: Buffer.alloc(0),
  };
}

function response(req: SipRequest, status: number): SipResponse {
  return {
    kind: 'response',
    status,
    reason: 'X',
    headers: req.headers.map((h) => (h.name === 'To' ? { name: 'To', value: `${h.value};tag=t9` } : h)),
    body: Buffer.alloc(0),
  };
}

function recorder(): ClientTransactionUser & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    onResponse: (r) => events.push(`response ${r.status}`),
    onTimeout: () => events.push('timeout'),
    onTransportError: () => events.push('transport-error'),
    onTerminated: () => events.push('terminated'),
  };
}

/** Times (ms since start) at which bytes went out, and the methods sent. */
function wire(): { send: (b: Buffer) => void; at: number[]; methods: string[] } {
  const start = Date.now();
  const at: number[] = [];
  const methods: string[] = [];
  return {
    at,
    methods,
    send: (b) => {
      at.push(Date.now() - start);
      const m = parseSipMessage(b);
      methods.push(m.kind === 'request' ? m.method : String(m.status));
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('retransmits over UDP on Timer E at 500, 1000, 2000, 4000, 4000… ms and times out on Timer F at 32 s', () => {
    const w = wire();
    const user = recorder();
    const tx = new NonInviteClientTransaction({ request: request('REGISTER'), reliable: false, send: w.send, timers, user });
    tx.start();
    vi.advanceTimersByTime(32_000);
    // Sends at 0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5 s.
    expect(w.at).toEqual([0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    expect(user.events).toEqual(['terminated', 'timeout']);
    expect(tx.currentState).toBe('terminated');
    vi.advanceTimersByTime(60_000);
    expect(w.at).toHaveLength(11);
  });

  it('retransmits every T2 once a provisional response arrives, then Completed and Timer K (T4) on the final', () => {
    const w = wire();
    const user = recorder();
    const req = request('MESSAGE');
    const tx = new NonInviteClientTransaction({ request: req, reliable: false, send: w.send, timers, user });
    tx.start();
    vi.advanceTimersByTime(600); // one retransmission at 500
    tx.receive(response(req, 100));
    expect(tx.currentState).toBe('proceeding');
    vi.advanceTimersByTime(10_000); // E already armed for 1000 → fires at 1500, then every 4000
    expect(w.at).toEqual([0, 500, 1500, 5500, 9500]);
    tx.receive(response(req, 200));
    expect(tx.currentState).toBe('completed');
    tx.receive(response(req, 200)); // a retransmitted final is absorbed
    expect(user.events).toEqual(['response 100', 'response 200']);
    vi.advanceTimersByTime(4_999);
    expect(tx.currentState).toBe('completed');
    vi.advanceTimersByTime(1);
    expect(tx.currentState).toBe('terminated');
    expect(w.at).toHaveLength(5);
  });

  it('over TCP sends once, still times out on Timer F, and ends at once on a final (K = 0)', () => {
    const w = wire();
    const user = recorder();
    const req = request('MESSAGE');
    const tx = new NonInviteClientTransaction({ request: req, reliable: true, send: w.send, timers, user });
    tx.start();
    vi.advanceTimersByTime(31_999);
    expect(w.at).toEqual([0]);
    tx.receive(response(req, 403));
    expect(user.events).toEqual(['response 403', 'terminated']);

    const user2 = recorder();
    new NonInviteClientTransaction({ request: req, reliable: true, send: w.send, timers, user: user2 }).start();
    vi.advanceTimersByTime(32_000);
    expect(user2.events).toEqual(['terminated', 'timeout']);
  });

  it('honours configured T1/T2 and reports a transport error', () => {
    const w = wire();
    const user = recorder();
    const tx = new NonInviteClientTransaction({
      request: request('MESSAGE'),
      reliable: false,
      send: w.send,
      timers,
      user,
      values: { T1: 100, T2: 300 },
    });
    tx.start();
    vi.advanceTimersByTime(1_200);
    expect(w.at).toEqual([0, 100, 300, 600, 900, 1200]);
    vi.advanceTimersByTime(6_400 - 1_200);
    expect(user.events).toEqual(['terminated', 'timeout']);

    const failing = recorder();
    new NonInviteClientTransaction({
      request: request('MESSAGE'),
      reliable: false,
      send: () => {
        throw new Error('ECONNREFUSED');
      },
      timers,
      user: failing,
    }).start();
    expect(failing.events).toEqual(['terminated', 'transport-error']);
  });

  it('is not used for INVITE or ACK', () => {
    expect(
      () => new NonInviteClientTransaction({ request: request('INVITE'), reliable: false, send: () => {}, timers, user: recorder() }),
    ).toThrow();
  });
});

describe('INVITE client transaction (RFC 3261 §17.1.1)', () => {
  it('retransmits on Timer A, doubling without a cap, and times out on Timer B at 64·T1', () => {
    const w = wire();
    const user = recorder();
    new InviteClientTransaction({ request: request('INVITE'), reliable: false, send: w.send, timers, user }).start();
    vi.advanceTimersByTime(32_000);
    expect(w.at).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(user.events).toEqual(['terminated', 'timeout']);
  });

  it('stops retransmitting on 1xx and ends on 2xx, leaving the ACK to the dialog', () => {
    const w = wire();
    const user = recorder();
    const req = request('INVITE');
    const tx = new InviteClientTransaction({ request: req, reliable: false, send: w.send, timers, user });
    tx.start();
    tx.receive(response(req, 100));
    vi.advanceTimersByTime(60_000); // no Timer B in Proceeding
    expect(w.methods).toEqual(['INVITE']);
    expect(tx.currentState).toBe('proceeding');
    tx.receive(response(req, 200));
    expect(user.events).toEqual(['response 100', 'response 200', 'terminated']);
    expect(w.methods).toEqual(['INVITE']);
  });

  it('ACKs a non-2xx final, re-ACKs its retransmissions, and ends after Timer D (32 s)', () => {
    const w = wire();
    const user = recorder();
    const req = request('INVITE');
    const tx = new InviteClientTransaction({ request: req, reliable: false, send: w.send, timers, user });
    tx.start();
    vi.advanceTimersByTime(700);
    tx.receive(response(req, 486));
    expect(tx.currentState).toBe('completed');
    expect(w.methods).toEqual(['INVITE', 'INVITE', 'ACK']);
    tx.receive(response(req, 486));
    expect(w.methods).toEqual(['INVITE', 'INVITE', 'ACK', 'ACK']);
    expect(user.events).toEqual(['response 486']);
    vi.advanceTimersByTime(31_999);
    expect(tx.currentState).toBe('completed');
    vi.advanceTimersByTime(1);
    expect(user.events).toEqual(['response 486', 'terminated']);
  });

  it('over TCP sends once and ends on the final after its ACK (D = 0)', () => {
    const w = wire();
    const user = recorder();
    const req = request('INVITE');
    const tx = new InviteClientTransaction({ request: req, reliable: true, send: w.send, timers, user });
    tx.start();
    vi.advanceTimersByTime(10_000);
    tx.receive(response(req, 488));
    expect(w.methods).toEqual(['INVITE', 'ACK']);
    expect(user.events).toEqual(['response 488', 'terminated']);
  });

  it('builds the non-2xx ACK from the INVITE and the response’s To tag (§17.1.1.3)', () => {
    const req = request('INVITE');
    const ack = ackForNon2xx(req, response(req, 404));
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe(req.uri);
    expect(ack.headers).toEqual([
      { name: 'Via', value: 'SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKtx1' },
      { name: 'Route', value: '<sip:proxy@10.0.0.9;lr>' },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: '<sip:34020000001180000001@3402000000>;tag=f1' },
      { name: 'To', value: '<sip:34020000002000000001@3402000000>;tag=t9' },
      { name: 'Call-ID', value: 'call-9' },
      { name: 'CSeq', value: '5 ACK' },
    ]);
  });
});

describe('client transaction matching (§17.1.3)', () => {
  it('keys on top Via branch and CSeq method', () => {
    const req = request('MESSAGE', 'z9hG4bKabc');
    const tx = new NonInviteClientTransaction({ request: req, reliable: false, send: () => {}, timers, user: recorder() });
    expect(tx.key).toBe('z9hG4bKabc|MESSAGE');
    expect(clientTransactionKey(response(req, 200))).toBe(tx.key);
    expect(clientTransactionKey(response(request('CANCEL', 'z9hG4bKabc'), 200))).not.toBe(tx.key);
    expect(clientTransactionKey({ ...req, headers: [] })).toBeUndefined();
  });
});

function serverRecorder(): { events: string[]; onTransportError: () => void; onTerminated: () => void; onTimeout: () => void } {
  const events: string[] = [];
  return {
    events,
    onTransportError: () => events.push('transport-error'),
    onTerminated: () => events.push('terminated'),
    onTimeout: () => events.push('timeout'),
  };
}

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('answers retransmissions with the last response and forgets after Timer J (64·T1) over UDP', () => {
    const w = wire();
    const user = serverRecorder();
    const req = request('MESSAGE');
    const tx = new NonInviteServerTransaction({ request: req, reliable: false, send: w.send, timers, user });
    tx.receiveRequest(req); // nothing sent yet: absorbed in Trying
    expect(w.methods).toEqual([]);
    tx.respond(buildResponse(req, 200, 'OK', { toTag: 'g' }));
    expect(tx.currentState).toBe('completed');
    tx.receiveRequest(req);
    tx.respond(buildResponse(req, 500, 'Late')); // a second final is ignored
    expect(w.methods).toEqual(['200', '200']);
    vi.advanceTimersByTime(31_999);
    expect(tx.currentState).toBe('completed');
    vi.advanceTimersByTime(1);
    expect(user.events).toEqual(['terminated']);
  });

  it('resends a provisional response while proceeding and ends at once over TCP', () => {
    const w = wire();
    const user = serverRecorder();
    const req = request('BYE');
    const tx = new NonInviteServerTransaction({ request: req, reliable: true, send: w.send, timers, user });
    tx.respond(buildResponse(req, 100, 'Trying'));
    tx.receiveRequest(req);
    tx.respond(buildResponse(req, 200, 'OK'));
    expect(w.methods).toEqual(['100', '100', '200']);
    expect(user.events).toEqual(['terminated']);
  });
});

describe('INVITE server transaction (RFC 3261 §17.2.1)', () => {
  it('sends 100 Trying after 200 ms of silence and ends on a 2xx', () => {
    const w = wire();
    const user = serverRecorder();
    const req = request('INVITE');
    const tx = new InviteServerTransaction({ request: req, reliable: false, send: w.send, timers, user });
    tx.start();
    vi.advanceTimersByTime(200);
    expect(w.methods).toEqual(['100']);
    tx.receiveRequest(req);
    expect(w.methods).toEqual(['100', '100']);
    tx.respond(buildResponse(req, 200, 'OK', { toTag: 'g' }));
    expect(w.methods).toEqual(['100', '100', '200']);
    expect(user.events).toEqual(['terminated']);
  });

  it('does not send 100 Trying when the TU answers in time', () => {
    const w = wire();
    const req = request('INVITE');
    const tx = new InviteServerTransaction({ request: req, reliable: false, send: w.send, timers, user: serverRecorder() });
    tx.start();
    vi.advanceTimersByTime(150);
    tx.respond(buildResponse(req, 180, 'Ringing', { toTag: 'g' }));
    vi.advanceTimersByTime(1_000);
    expect(w.methods).toEqual(['180']);
  });

  it('retransmits a 488 on Timer G (500, 1000, 2000, 4000, 4000 ms) until the ACK, then waits Timer I (T4)', () => {
    const w = wire();
    const user = serverRecorder();
    const req = request('INVITE');
    const tx = new InviteServerTransaction({ request: req, reliable: false, send: w.send, timers, user });
    tx.respond(buildResponse(req, 488, 'Not Acceptable Here', { toTag: 'g' }));
    vi.advanceTimersByTime(11_600);
    expect(w.at).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    tx.receiveRequest({ ...req, method: 'ACK' });
    expect(tx.currentState).toBe('confirmed');
    vi.advanceTimersByTime(4_999);
    expect(w.at).toHaveLength(6);
    expect(tx.currentState).toBe('confirmed');
    vi.advanceTimersByTime(1);
    expect(user.events).toEqual(['terminated']);
  });

  it('gives up on Timer H (64·T1) when no ACK comes', () => {
    const user = serverRecorder();
    const req = request('INVITE');
    const tx = new InviteServerTransaction({ request: req, reliable: true, send: () => {}, timers, user });
    tx.respond(buildResponse(req, 404, 'Not Found', { toTag: 'g' }));
    vi.advanceTimersByTime(32_000);
    expect(user.events).toEqual(['terminated', 'timeout']);
  });

  it('keys requests on branch, sent-by and method with ACK as INVITE (§17.2.3)', () => {
    const inv = request('INVITE', 'z9hG4bKs1');
    expect(serverTransactionKey(inv)).toBe('z9hG4bKs1|10.0.0.5:5060|INVITE');
    expect(serverTransactionKey({ ...inv, method: 'ACK' })).toBe(serverTransactionKey(inv));
    expect(serverTransactionKey(request('CANCEL', 'z9hG4bKs1'))).not.toBe(serverTransactionKey(inv));
    expect(serverTransactionKey(request('MESSAGE', '1234'))).toBeUndefined();
  });
});

describe('transaction table', () => {
  it('routes responses and retransmitted requests by key and forgets terminated transactions', () => {
    const table = new TransactionTable();
    const w = wire();
    const user = recorder();
    const req = request('MESSAGE', 'z9hG4bKc1');
    const client = table.createClient({ request: req, reliable: true, send: w.send, timers, user });
    expect(client).toBeInstanceOf(NonInviteClientTransaction);
    client.start();
    expect(table.size).toBe(1);
    expect(table.routeResponse(response(request('MESSAGE', 'z9hG4bKother'), 200))).toBe(false);
    expect(table.routeResponse(response(req, 200))).toBe(true);
    expect(user.events).toEqual(['response 200', 'terminated']);
    expect(table.size).toBe(0);
    expect(table.routeResponse(response(req, 200))).toBe(false);

    const inv = request('INVITE', 'z9hG4bKs9');
    const server = table.createServer({ request: inv, reliable: false, send: w.send, timers, user: serverRecorder() });
    expect(server).toBeInstanceOf(InviteServerTransaction);
    server.respond(buildResponse(inv, 486, 'Busy Here', { toTag: 'x' }));
    expect(table.routeRequest(inv)).toBe(true); // retransmitted INVITE: the 486 again
    expect(w.methods.slice(-2)).toEqual(['486', '486']);
    expect(table.routeRequest({ ...inv, method: 'ACK' })).toBe(true);
    vi.advanceTimersByTime(5_000);
    expect(table.size).toBe(0);
    expect(table.routeRequest({ ...inv, method: 'ACK' })).toBe(false);
  });

  it('calls a TU written as a class and clears everything on shutdown', () => {
    class Tu {
      readonly seen: string[] = [];
      onResponse(r: SipResponse): void {
        this.seen.push(String(r.status));
      }
      onTimeout(): void {
        this.seen.push('timeout');
      }
      onTransportError(): void {
        this.seen.push('error');
      }
      onTerminated(): void {
        this.seen.push('terminated');
      }
    }
    const table = new TransactionTable();
    const tu = new Tu();
    const req = request('REGISTER', 'z9hG4bKr1');
    table.createClient({ request: req, reliable: false, send: () => {}, timers, user: tu }).start();
    table.routeResponse(response(req, 100));
    table.createServer({ request: request('BYE', 'z9hG4bKb1'), reliable: false, send: () => {}, timers, user: tu });
    expect(table.size).toBe(2);
    table.clear();
    expect(table.size).toBe(0);
    expect(tu.seen).toEqual(['100', 'terminated', 'terminated']);
    vi.advanceTimersByTime(60_000);
    expect(tu.seen).toHaveLength(3);
  });
});
