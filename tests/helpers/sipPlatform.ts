import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  buildRequest,
  buildResponse,
  getHeader,
  newBranch,
  newCallId,
  newTag,
  parseSipMessage,
  serializeSipMessage,
  type SipRequest,
  type SipResponse,
} from '../../src/platform/gb28181/sip/message.js';

/** The platform's IDs, as the gateways' configs name them. */
export const PLATFORM_ID = '34020000002000000001';
export const PLATFORM_DOMAIN = '3402000000';

export interface SeenRegister {
  at: number;
  /** host:port the REGISTER came from (each gateway node has its own SIP port). */
  source: string;
  expires: number;
}

/** The `gb28181:` config section of a gateway linked to `platform` as `city` (every camera shared), as YAML lines. */
export function cityLinkYaml(o: {
  sipPort: number;
  platform: SipPlatform;
  deviceId: string;
  password: string;
  keepaliveSeconds: number;
}): string[] {
  return [
    'gb28181:',
    '  sipHost: 127.0.0.1',
    `  sipPort: ${o.sipPort}`,
    '  platforms:',
    '    - name: city',
    `      serverId: "${PLATFORM_ID}"`,
    `      serverDomain: "${PLATFORM_DOMAIN}"`,
    '      host: 127.0.0.1',
    `      port: ${o.platform.port}`,
    '      transport: udp',
    `      deviceId: "${o.deviceId}"`,
    `      password: ${o.password}`,
    '      cameraIds: all',
    `      keepaliveSeconds: ${o.keepaliveSeconds}`,
    '      registerExpiresSeconds: 3600',
  ];
}

/**
 * A GB/T 28181 upper platform over UDP, in the test process (several gateways register with
 * it, which a sipp scenario, one call flow, cannot follow): accepts every REGISTER (no digest),
 * answers every request 200, records REGISTER sources and the MESSAGE bodies it gets, and sends
 * Catalog queries and INVITEs to the node registered last.
 */
export class SipPlatform {
  readonly registers: SeenRegister[] = [];
  readonly messages: Array<{ at: number; source: string; body: string }> = [];
  readonly #pending = new Map<string, (res: SipResponse) => void>();
  readonly #tag = newTag();
  #cseq = 1;
  /** While true the platform answers nothing (its gateways' keepalives go unanswered). */
  silent = false;

  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (buf, rinfo) => this.#receive(buf, rinfo));
  }

  static async start(): Promise<SipPlatform> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new SipPlatform(socket, socket.address().port);
  }

  /** The source of the last REGISTER that was not an unregister (Expires 0). */
  registeredSource(): string | undefined {
    return this.registers.filter((r) => r.expires > 0).at(-1)?.source;
  }

  /** A Catalog query to the node registered last; resolves with the channel IDs of every Response item once SumNum are in. */
  async catalog(deviceId: string, timeoutMs = 10_000): Promise<string[]> {
    const sn = String(Math.floor(Math.random() * 1e6));
    const from = this.messages.length;
    const body = `<?xml version="1.0" encoding="GB2312"?>\n<Query>\n<CmdType>Catalog</CmdType>\n<SN>${sn}</SN>\n<DeviceID>${deviceId}</DeviceID>\n</Query>\n`;
    const res = await this.request('MESSAGE', deviceId, { 'Content-Type': 'Application/MANSCDP+xml' }, body);
    if (res.status !== 200) throw new Error(`Catalog query answered ${res.status}`);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const answers = this.messages
        .slice(from)
        .filter((m) => m.body.includes('<CmdType>Catalog</CmdType>') && m.body.includes(`<SN>${sn}</SN>`));
      const sum = Number(/<SumNum>(\d+)<\/SumNum>/.exec(answers[0]?.body ?? '')?.[1] ?? NaN);
      const ids = answers.flatMap((a) => [...a.body.matchAll(/<Item>\s*<DeviceID>(\d{20})<\/DeviceID>/g)].map((m) => m[1] as string));
      if (ids.length >= sum) return ids;
      if (Date.now() > end) throw new Error(`Catalog: ${ids.length} of ${sum} items in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A live INVITE for `channel` with RTP to 127.0.0.1:rtpPort (UDP); on 200 the ACK is sent. Returns the status and how to BYE. */
  async invite(channel: string, rtpPort: number, ssrc: string): Promise<{ status: number; bye(): Promise<void> }> {
    const sdp = [
      'v=0',
      `o=${PLATFORM_ID} 0 0 IN IP4 127.0.0.1`,
      's=Play',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=video ${rtpPort} RTP/AVP 96`,
      'a=recvonly',
      'a=rtpmap:96 PS/90000',
      `y=${ssrc}`,
      '',
    ].join('\r\n');
    const callId = newCallId();
    const headers = { 'Content-Type': 'application/sdp', Subject: `${channel}:${ssrc},${PLATFORM_ID}:0` };
    const res = await this.request('INVITE', channel, headers, sdp, callId, 30_000);
    if (res.status !== 200) return { status: res.status, bye: async () => undefined };
    const to = getHeader(res, 'To') ?? '';
    const target = this.registeredTarget();
    this.#send(buildRequest({ ...this.#base('ACK', channel, callId, target), cseq: this.#cseq - 1, to }), target);
    return {
      status: 200,
      bye: async () => void (await this.request('BYE', channel, {}, '', callId, 5000, to)),
    };
  }

  async request(
    method: string,
    user: string,
    headers: Record<string, string>,
    body: string,
    callId = newCallId(),
    timeoutMs = 5000,
    to?: string,
  ): Promise<SipResponse> {
    const target = this.registeredTarget();
    const req = buildRequest({
      ...this.#base(method, user, callId, target),
      cseq: this.#cseq++,
      ...(to === undefined ? {} : { to }),
      headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
      body: Buffer.from(body),
    });
    const key = `${callId} ${method}`;
    const answer = new Promise<SipResponse>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method} unanswered in ${timeoutMs} ms`)), timeoutMs);
      this.#pending.set(key, (res) => (clearTimeout(timer), resolve(res)));
    });
    this.#send(req, target);
    return answer.finally(() => this.#pending.delete(key));
  }

  close(): void {
    this.socket.close();
  }

  registeredTarget(): { host: string; port: number } {
    const source = this.registeredSource();
    if (source === undefined) throw new Error('no gateway has registered');
    const [host, port] = source.split(':');
    return { host: host as string, port: Number(port) };
  }

  #base(method: string, user: string, callId: string, target: { host: string; port: number }) {
    return {
      method,
      uri: `sip:${user}@${target.host}:${target.port}`,
      via: { transport: 'UDP' as const, host: '127.0.0.1', port: this.port, branch: newBranch() },
      from: `<sip:${PLATFORM_ID}@${PLATFORM_DOMAIN}>;tag=${this.#tag}`,
      to: `<sip:${user}@${PLATFORM_DOMAIN}>`,
      callId,
    };
  }

  #send(msg: SipRequest | SipResponse, to: { host: string; port: number }): void {
    this.socket.send(serializeSipMessage(msg), to.port, to.host);
  }

  #receive(buf: Buffer, rinfo: RemoteInfo): void {
    if (this.silent) return;
    const msg = parseSipMessage(buf);
    const source = `${rinfo.address}:${rinfo.port}`;
    if (msg.kind === 'response') {
      if (msg.status < 200) return;
      const cseq = getHeader(msg, 'CSeq')?.split(' ')[1];
      this.#pending.get(`${getHeader(msg, 'Call-ID')} ${cseq}`)?.(msg);
      return;
    }
    const headers: Array<{ name: string; value: string }> = [];
    if (msg.method === 'REGISTER') {
      const expires = Number(getHeader(msg, 'Expires') ?? 3600);
      this.registers.push({ at: Date.now(), source, expires });
      headers.push({ name: 'Expires', value: String(expires) });
      const contact = getHeader(msg, 'Contact');
      if (contact !== undefined) headers.push({ name: 'Contact', value: contact });
    } else if (msg.method === 'MESSAGE') {
      this.messages.push({ at: Date.now(), source, body: msg.body.toString('latin1') });
    }
    if (msg.method === 'ACK') return;
    this.#send(buildResponse(msg, 200, 'OK', { toTag: newTag(), headers }), { host: rinfo.address, port: rinfo.port });
  }
}
