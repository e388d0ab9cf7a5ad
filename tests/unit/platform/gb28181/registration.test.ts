import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Keepalive } from '../../../../src/platform/gb28181/keepalive.js';
import { Registration, type RegistrationDeps } from '../../../../src/platform/gb28181/registration.js';
import { parseDigestChallenge, digestResponse } from '../../../../src/platform/gb28181/sip/digest.js';
import { buildResponse, getHeader, type SipRequest, type SipResponse } from '../../../../src/platform/gb28181/sip/message.js';
import type { SipPeer } from '../../../../src/platform/gb28181/transport.js';

const CHALLENGE = 'Digest realm="3402000000", nonce="abc123", algorithm=MD5, qop="auth"';
const timers = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};

/** A scripted registrar: each REGISTER gets the next answer; requests and targets are kept. */
function registrar(answers: ((req: SipRequest) => SipResponse)[]) {
  const sent: { req: SipRequest; peer: SipPeer }[] = [];
  const send = (req: SipRequest, peer: SipPeer): Promise<SipResponse> => {
    sent.push({ req, peer });
    const answer = answers.shift() ?? ((r: SipRequest) => buildResponse(r, 200, 'OK'));
    return Promise.resolve(answer(req));
  };
  return { sent, send };
}

const challenge = (req: SipRequest) =>
  buildResponse(req, 401, 'Unauthorized', { headers: [{ name: 'WWW-Authenticate', value: CHALLENGE }] });
const status =
  (code: number, headers: { name: string; value: string }[] = []) =>
  (req: SipRequest) =>
    buildResponse(req, code, 'X', { headers });

function registration(send: RegistrationDeps['send'], extra: Partial<RegistrationDeps> = {}) {
  const changes: string[] = [];
  const r = new Registration(
    {
      serverId: '34020000002000000001',
      serverDomain: '3402000000',
      deviceId: '34020000001180000001',
      username: '34020000001180000001',
      password: 'secret',
      expiresSeconds: 3600,
      target: { transport: 'UDP', host: '127.0.0.1', port: 15060 },
      local: { host: '127.0.0.1', port: 5060 },
    },
    {
      send,
      timers,
      now: Date.now,
      random: () => 0.5,
      onChange: (s, i) => changes.push(i.error === undefined ? s : `${s}: ${i.error}`),
      ...extra,
    },
  );
  return { r, changes };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-12-05T12:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Registration', () => {
  it('answers the 401 with an MD5 qop=auth digest, keeps the Call-ID, sends X-GB-ver and refreshes before expiry', async () => {
    const reg = registrar([challenge, status(200)]);
    const { r } = registration(reg.send);
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.state).toBe('registered');
    expect(reg.sent).toHaveLength(2);
    const [first, second] = reg.sent.map((s) => s.req) as [SipRequest, SipRequest];
    expect(getHeader(first, 'Authorization')).toBeUndefined();
    expect(getHeader(first, 'X-GB-ver')).toBe('2.0');
    expect(getHeader(second, 'Call-ID')).toBe(getHeader(first, 'Call-ID'));
    const auth = getHeader(second, 'Authorization') ?? '';
    const nc = /nc=([0-9a-f]{8})/.exec(auth)?.[1];
    const cnonce = /cnonce="([^"]+)"/.exec(auth)?.[1];
    const expected = digestResponse(
      parseDigestChallenge(CHALLENGE),
      { username: '34020000001180000001', password: 'secret' },
      { method: 'REGISTER', uri: 'sip:34020000002000000001@3402000000' },
      { cnonce: cnonce ?? '', nc: parseInt(nc ?? '0', 16) },
    );
    expect(auth).toContain(`response="${expected.response}"`);
    expect(auth).toContain('username="34020000001180000001"');
    // 80 % of 3600 s: the refresh goes out well before the registration runs out.
    await vi.advanceTimersByTimeAsync(2880_000 - 1);
    expect(reg.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(reg.sent).toHaveLength(3);
    expect(r.state).toBe('registered');
  });

  it('reads 403 as a wrong password and retries with backoff', async () => {
    const reg = registrar([challenge, status(403), challenge, status(403)]);
    const { r, changes } = registration(reg.send);
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.state).toBe('retrying');
    expect(r.lastError).toMatch(/wrong password/);
    expect(r.failures).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(reg.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(reg.sent).toHaveLength(4);
    expect(r.failures).toBe(2);
    // The second delay doubles.
    await vi.advanceTimersByTimeAsync(1999);
    expect(reg.sent).toHaveLength(4);
    expect(changes.filter((c) => c.startsWith('retrying: wrong password'))).toHaveLength(2);
  });

  it('reads a second 401 after its answer as refused credentials', async () => {
    const reg = registrar([challenge, challenge]);
    const { r } = registration(reg.send);
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(r.state).toBe('retrying');
    expect(r.lastError).toMatch(/wrong password/);
  });

  it('follows a 302 to the Contact and reports the Date header as clock drift', async () => {
    const reg = registrar([
      status(302, [{ name: 'Contact', value: '<sip:34020000002000000001@127.0.0.2:25060>' }]),
      status(200, [{ name: 'Date', value: '2026-12-05T20:00:05.000' }]),
    ]);
    let drift: number | undefined;
    const { r } = registration(reg.send, { onClockDrift: (d) => (drift = d) });
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reg.sent[1]?.peer).toEqual({ transport: 'UDP', host: '127.0.0.2', port: 25060 });
    expect(r.state).toBe('registered');
    // Beijing 20:00:05 is 12:00:05 UTC: the platform runs 5 s ahead; nothing is set.
    expect(drift).toBe(5000);
    expect(r.clockDriftMs).toBe(5000);
  });

  it('unregisters with Expires 0 on close', async () => {
    const reg = registrar([status(200), status(200)]);
    const { r } = registration(reg.send);
    r.start();
    await vi.advanceTimersByTimeAsync(0);
    await r.close();
    expect(getHeader(reg.sent[1]?.req ?? reg.sent[0]!.req, 'Expires')).toBe('0');
    expect(r.state).toBe('closed');
  });
});

describe('Keepalive', () => {
  it('beats at the interval, resets misses on an answer and goes offline after 3 misses in a row', async () => {
    const answers = [true, false, true, false, false, false];
    const offline: number[] = [];
    let beats = 0;
    const k = new Keepalive({
      intervalMs: 1000,
      timers,
      beat: () => Promise.resolve(answers[beats++] ?? true),
      onOffline: (m) => offline.push(m),
    });
    k.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(beats).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(beats).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(k.misses).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(k.misses).toBe(0);
    await vi.advanceTimersByTimeAsync(3000);
    expect(offline).toEqual([3]);
    // Stopped: no more beats until the link registers again.
    await vi.advanceTimersByTimeAsync(5000);
    expect(beats).toBe(6);
    k.start();
    expect(k.misses).toBe(0);
  });

  it('counts a beat that throws (no answer) as a miss', async () => {
    const offline: number[] = [];
    const k = new Keepalive({
      intervalMs: 100,
      timers,
      beat: () => Promise.reject(new Error('timeout')),
      onOffline: (m) => offline.push(m),
    });
    k.start();
    await vi.advanceTimersByTimeAsync(300);
    expect(offline).toEqual([3]);
  });
});

describe('Keepalive without answers', () => {
  it('counts a keepalive unanswered when the next is due as a miss', async () => {
    vi.useFakeTimers();
    const offline: number[] = [];
    const k = new Keepalive({
      intervalMs: 1000,
      timers,
      beat: () => new Promise<boolean>(() => undefined),
      onOffline: (m) => offline.push(m),
    });
    k.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(k.misses).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(offline).toEqual([3]);
  });
});
