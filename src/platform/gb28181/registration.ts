/**
 * REGISTER with one upper platform (GB/T 28181-2016 §9.1.2): digest on 401/407, refresh
 * before expiry, Expires 0 on close, 302 followed, 403 read as a wrong password and retried
 * with backoff, X-GB-ver sent, the 200's Date read as clock drift (reported, never applied).
 * Time and timers are injected, so the state machine runs under a fake clock in tests.
 */
import { backoffDelay, type BackoffPolicy } from '../../backoff.js';
import { buildDigestAuthorization, chooseDigestChallenge, DigestError, type DigestChallenge } from './sip/digest.js';
import { parseNameAddr, parseSipDate } from './sip/headers.js';
import {
  buildRequest,
  getHeader,
  getHeaders,
  newBranch,
  newCallId,
  newCSeqNumber,
  newTag,
  type SipRequest,
  type SipResponse,
} from './sip/message.js';
import type { TimerHost } from './sip/transaction.js';
import type { SipPeer } from './transport.js';

export type RegistrationState = 'unregistered' | 'registering' | 'registered' | 'retrying' | 'closed';

export interface RegistrationConfig {
  serverId: string;
  serverDomain: string;
  deviceId: string;
  username: string;
  password: string;
  expiresSeconds: number;
  /** Where the platform is; a 302 moves it. */
  target: SipPeer;
  /** What goes in Via and Contact: the address the platform can reach. */
  local: { host: string; port: number };
}

export interface RegistrationDeps {
  send(req: SipRequest, peer: SipPeer): Promise<SipResponse>;
  timers: TimerHost;
  now(): number;
  random?: () => number;
  backoff?: BackoffPolicy;
  /** Every state change, with the error that caused it where there is one. */
  onChange?(state: RegistrationState, info: { error?: string; status?: number }): void;
  /** Platform clock minus ours, in ms, from each 200's Date header. */
  onClockDrift?(driftMs: number): void;
}

/** GB/T 28181-2016 is protocol version 2.0 (the 2022 edition is 3.0). */
export const GB_VERSION = '2.0';
const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.2 };
const MAX_REDIRECTS = 3;

export class Registration {
  state: RegistrationState = 'unregistered';
  lastError: string | null = null;
  lastStatus: number | null = null;
  registeredAt: number | null = null;
  expiresAt: number | null = null;
  clockDriftMs: number | null = null;
  /** Failed attempts since the last success (drives the backoff). */
  failures = 0;
  private readonly callId = newCallId();
  private readonly fromTag = newTag();
  private cseq = newCSeqNumber();
  private challenge: DigestChallenge | undefined;
  private nc = 0;
  private timer: unknown;
  private target: SipPeer;
  private attempt = 0;

  constructor(
    private readonly cfg: RegistrationConfig,
    private readonly deps: RegistrationDeps,
  ) {
    this.target = { ...cfg.target };
  }

  /** Where REGISTER goes now (after any redirect). */
  get currentTarget(): SipPeer {
    return { ...this.target };
  }

  /** Registers now (also the re-register after a lost link); a pending refresh or retry is replaced. */
  start(): void {
    if (this.state === 'closed') return;
    this.clear();
    void this.run();
  }

  /** Unregisters (Expires 0) when registered; waits at most for the transaction. */
  /** Stops refreshing; `unregister` (default): sends Expires 0 when registered. */
  async close(unregister = true): Promise<void> {
    const wasRegistered = this.state === 'registered';
    this.clear();
    this.set('closed', {});
    if (!wasRegistered || !unregister) return;
    // Shutting down: an unanswered unregister is not worth waiting for past a couple of seconds.
    let timer: unknown;
    const giveUp = new Promise<void>((resolve) => (timer = this.deps.timers.setTimeout(resolve, 2000)));
    await Promise.race([this.exchange(0).catch(() => undefined), giveUp]);
    this.deps.timers.clearTimeout(timer);
  }

  private async run(): Promise<void> {
    const attempt = ++this.attempt;
    this.set('registering', {});
    let outcome: { ok: true; expires: number } | { ok: false; error: string; status?: number };
    try {
      outcome = await this.exchange(this.cfg.expiresSeconds);
    } catch (err) {
      outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    if (attempt !== this.attempt || this.state === 'closed') return;
    if (outcome.ok) {
      this.failures = 0;
      this.lastError = null;
      this.registeredAt = this.deps.now();
      this.expiresAt = this.registeredAt + outcome.expires * 1000;
      this.set('registered', { status: 200 });
      // Refresh well before expiry: at 80 %, and never later than 30 s before.
      const refreshMs = Math.max(1000, Math.min(outcome.expires * 800, (outcome.expires - 30) * 1000));
      this.timer = this.deps.timers.setTimeout(() => this.start(), refreshMs);
      return;
    }
    this.failures++;
    this.lastError = outcome.error;
    this.expiresAt = null;
    this.set('retrying', { error: outcome.error, ...(outcome.status === undefined ? {} : { status: outcome.status }) });
    const delay = backoffDelay(this.failures, this.deps.backoff ?? DEFAULT_BACKOFF, this.deps.random);
    this.timer = this.deps.timers.setTimeout(() => this.start(), delay);
  }

  /**
   * One REGISTER exchange, answering a challenge and following redirects as needed.
   * Resolves with the granted expiry or the reason it failed.
   */
  private async exchange(expires: number): Promise<{ ok: true; expires: number } | { ok: false; error: string; status?: number }> {
    let redirects = 0;
    let answered = false;
    for (;;) {
      const res = await this.deps.send(this.build(expires), this.target);
      this.lastStatus = res.status;
      if (res.status === 401 || res.status === 407) {
        const challenge = chooseDigestChallenge(getHeaders(res, res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'));
        if (challenge === undefined)
          return { ok: false, status: res.status, error: `${res.status}: no digest challenge this gateway can answer` };
        // A second challenge after our answer that is not `stale` means the credentials were refused.
        if (answered && !challenge.stale) return { ok: false, status: res.status, error: wrongPassword(res.status) };
        if (this.challenge?.nonce !== challenge.nonce) this.nc = 0;
        this.challenge = challenge;
        answered = true;
        continue;
      }
      if (res.status === 403) return { ok: false, status: 403, error: wrongPassword(403) };
      if (res.status >= 300 && res.status < 400) {
        const contact = getHeader(res, 'Contact');
        const moved = contact === undefined ? undefined : hostPortOf(parseNameAddr(contact).uri);
        if (moved === undefined || ++redirects > MAX_REDIRECTS)
          return { ok: false, status: res.status, error: `${res.status} without a usable Contact` };
        this.target = { ...this.target, ...moved };
        this.challenge = undefined;
        answered = false;
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        this.readDate(res);
        return { ok: true, expires: grantedExpires(res, expires) };
      }
      return { ok: false, status: res.status, error: `REGISTER refused: ${res.status} ${res.reason}` };
    }
  }

  private build(expires: number): SipRequest {
    const { serverId, serverDomain, deviceId, local } = this.cfg;
    const uri = `sip:${serverId}@${serverDomain}`;
    const headers = [
      { name: 'Contact', value: `<sip:${deviceId}@${local.host}:${local.port}>` },
      { name: 'Expires', value: String(expires) },
      { name: 'User-Agent', value: 'psv-gateway' },
      { name: 'X-GB-ver', value: GB_VERSION },
    ];
    if (this.challenge !== undefined) {
      try {
        const creds = { username: this.cfg.username, password: this.cfg.password };
        const value = buildDigestAuthorization(this.challenge, creds, { method: 'REGISTER', uri }, { nc: ++this.nc });
        headers.push({ name: 'Authorization', value });
      } catch (err) {
        if (!(err instanceof DigestError)) throw err;
        this.challenge = undefined;
      }
    }
    // The device's own domain is its ID's first 10 digits (centre code + industry code).
    const me = `sip:${deviceId}@${deviceId.slice(0, 10)}`;
    return buildRequest({
      method: 'REGISTER',
      uri,
      via: { transport: this.target.transport, host: local.host, port: local.port, branch: newBranch() },
      from: `<${me}>;tag=${this.fromTag}`,
      to: `<${me}>`,
      callId: this.callId,
      cseq: ++this.cseq,
      headers,
    });
  }

  private readDate(res: SipResponse): void {
    const value = getHeader(res, 'Date');
    const at = value === undefined ? undefined : parseSipDate(value);
    if (at === undefined) return;
    this.clockDriftMs = at.getTime() - this.deps.now();
    this.deps.onClockDrift?.(this.clockDriftMs);
  }

  private set(state: RegistrationState, info: { error?: string; status?: number }): void {
    this.state = state;
    this.deps.onChange?.(state, info);
  }

  private clear(): void {
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function wrongPassword(status: number): string {
  return `wrong password or username: the platform answered ${status} to our digest (check password and username for this platform)`;
}

/** The expiry the registrar granted: Contact's expires, else Expires, else what we asked. */
function grantedExpires(res: SipResponse, asked: number): number {
  const contact = getHeader(res, 'Contact');
  const fromContact = contact === undefined ? undefined : parseNameAddr(contact).params.get('expires');
  const value = Number(fromContact ?? getHeader(res, 'Expires') ?? asked);
  return Number.isFinite(value) && value > 0 ? value : asked;
}

function hostPortOf(uri: string): { host: string; port: number } | undefined {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(uri);
  if (m === null) return undefined;
  return { host: m[1] ?? '', port: m[2] === undefined ? 5060 : Number(m[2]) };
}
