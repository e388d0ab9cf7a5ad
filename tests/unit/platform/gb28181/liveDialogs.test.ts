import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Reply, SipEndpoint } from '../../../../src/platform/gb28181/endpoint.js';
import { channelOf, LiveDialogs } from '../../../../src/platform/gb28181/liveDialogs.js';
import { buildRequest, getHeader, type SipRequest, type SipResponse } from '../../../../src/platform/gb28181/sip/message.js';

const SHARED = '44030500001328000001';
const HIDDEN = '44030500001328000002';
const UNKNOWN = '44030500001328000009';

function invite(channel: string, body: string, opts: { contentType?: string; subjectOnly?: boolean } = {}): SipRequest {
  return buildRequest({
    method: 'INVITE',
    uri: opts.subjectOnly === true ? 'sip:3402000000@127.0.0.1' : `sip:${channel}@3402000000`,
    via: { transport: 'UDP', host: '127.0.0.1', port: 15060, branch: 'z9hG4bKt1' },
    from: '<sip:34020000002000000001@3402000000>;tag=p1',
    to: `<sip:${channel}@3402000000>`,
    callId: `call-${channel}-${body.length}`,
    cseq: 1,
    headers: [
      { name: 'Subject', value: `${channel}:0100000001,34020000002000000001:0` },
      { name: 'Content-Type', value: opts.contentType ?? 'application/sdp' },
    ],
    body: Buffer.from(body),
  });
}

const offer = (proto = 'RTP/AVP', rtpmap = 'a=rtpmap:96 PS/90000'): string =>
  [
    'v=0',
    'o=x 0 0 IN IP4 127.0.0.1',
    's=Play',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=video 9000 ${proto} 96`,
    'a=recvonly',
    rtpmap,
    'y=0100000001',
    '',
  ].join('\r\n');

/** Dialogs that never send (refusals and cancels only). */
function dialogsWith(known: () => Promise<string[]>): LiveDialogs {
  return new LiveDialogs({
    platform: 'city',
    deviceId: '34020000001180000001',
    endpoint: {} as SipEndpoint,
    local: { host: '127.0.0.1', port: 5060 },
    source: { sharedPlayUrl: (id) => `rtmp://127.0.0.1:1935/shared/${id}?token=t`, sharedStream: () => ({ fps: 25 }) },
    shared: () => Promise.resolve([SHARED]),
    known,
    logger: pino({ level: 'silent' }),
  });
}

/** The final status the dialogs answer `req` with (no sender is prepared for a refusal). */
async function finalStatus(req: SipRequest): Promise<number> {
  const dialogs = dialogsWith(() => Promise.resolve([SHARED, HIDDEN]));
  const statuses: number[] = [];
  const reply: Reply = (status) => statuses.push(status);
  await dialogs.invite(req, { transport: 'UDP', host: '127.0.0.1', port: 15060 }, reply);
  return statuses.filter((s) => s >= 200)[0] ?? 0;
}

describe('GB/T 28181 live INVITE refusals', () => {
  it('names the channel from the request URI, else from Subject', () => {
    expect(channelOf(invite(SHARED, ''))).toBe(SHARED);
    expect(channelOf(invite(SHARED, '', { subjectOnly: true }))).toBe(SHARED);
  });

  it('refuses an unknown channel 404, one not shared 403', async () => {
    expect(await finalStatus(invite(UNKNOWN, offer()))).toBe(404);
    expect(await finalStatus(invite(HIDDEN, offer()))).toBe(403);
  });

  it('refuses a body that is not SDP 415, a broken one 400, an offer without PS 488', async () => {
    expect(await finalStatus(invite(SHARED, '<xml/>', { contentType: 'application/xml' }))).toBe(415);
    expect(await finalStatus(invite(SHARED, 'v=0\r\nm=video\r\n'))).toBe(400);
    expect(await finalStatus(invite(SHARED, offer('RTP/AVP', 'a=rtpmap:96 H264/90000')))).toBe(488);
    expect(await finalStatus(invite(SHARED, offer('RTP/SAVP')))).toBe(488);
  });
});

describe('GB/T 28181 live INVITE dialog', () => {
  it('answers 200 with the SDP, a To tag and a Contact; without an ACK it ends the dialog with a BYE in it', async () => {
    const sent: SipRequest[] = [];
    const resent: number[] = [];
    const endpoint = {
      request: (req: SipRequest) => {
        sent.push(req);
        return Promise.resolve({ kind: 'response', status: 200, reason: 'OK', headers: [], body: Buffer.alloc(0) } as SipResponse);
      },
      resend: (res: SipResponse) => resent.push(res.status),
    } as unknown as SipEndpoint;
    const ended: string[] = [];
    const dialogs = new LiveDialogs({
      platform: 'city',
      deviceId: '34020000001180000001',
      endpoint,
      local: { host: '127.0.0.1', port: 5060 },
      source: { sharedPlayUrl: (id) => `rtmp://127.0.0.1:1935/shared/${id}?token=t`, sharedStream: () => ({ fps: 25 }) },
      shared: () => Promise.resolve([SHARED]),
      known: () => Promise.resolve([SHARED]),
      logger: pino({ level: 'silent' }),
      onEvent: (e) => ended.push(e.phase),
      ackTimeoutMs: 700,
    });
    const req = invite(SHARED, offer());
    req.headers.push({ name: 'Contact', value: '<sip:34020000002000000001@127.0.0.1:15060>' });
    const replies: { status: number; toTag?: string; body?: Buffer; contact?: string }[] = [];
    await dialogs.invite(req, { transport: 'UDP', host: '127.0.0.1', port: 15060 }, (status, _r, opts) =>
      replies.push({
        status,
        ...(opts?.toTag === undefined ? {} : { toTag: opts.toTag }),
        ...(opts?.body === undefined ? {} : { body: opts.body }),
        ...(opts?.headers?.[0] === undefined ? {} : { contact: opts.headers[0].value }),
      }),
    );
    expect(replies.map((r) => r.status)).toEqual([100, 200]);
    const ok = replies[1]!;
    expect(ok.body?.toString()).toMatch(/a=sendonly[\s\S]*y=0100000001/);
    expect(ok.contact).toBe('<sip:34020000001180000001@127.0.0.1:5060>');
    expect(dialogs.list()).toEqual([
      expect.objectContaining({ channel: SHARED, ssrc: '0100000001', started: null, destination: '127.0.0.1:9000' }),
    ]);
    for (let i = 0; i < 50 && sent.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const bye = sent[0]!;
    expect(resent, 'the 200 resent once at T1 before the ACK timeout').toEqual([200]);
    expect(bye.method).toBe('BYE');
    expect(bye.uri).toBe('sip:34020000002000000001@127.0.0.1:15060');
    expect(getHeader(bye, 'Call-ID')).toBe(getHeader(req, 'Call-ID'));
    expect(getHeader(bye, 'From')).toContain(`tag=${ok.toTag}`);
    expect(getHeader(bye, 'To')).toContain('tag=p1');
    expect(dialogs.count).toBe(0);
    expect(ended).toEqual(['end']);
  });
});

describe('GB/T 28181 Playback and Download INVITE refusals and MANSRTSP', () => {
  const playbackOffer = (name: string, t: string) => offer().replace('s=Play', `s=${name}\r\nu=${SHARED}:0`).replace('t=0 0', `t=${t}`);

  function dialogs(footage?: ConstructorParameters<typeof LiveDialogs>[0]['footage']): LiveDialogs {
    return new LiveDialogs({
      platform: 'city',
      deviceId: '34020000001180000001',
      endpoint: {} as SipEndpoint,
      local: { host: '127.0.0.1', port: 5060 },
      source: { sharedPlayUrl: (id) => `rtmp://127.0.0.1:1935/shared/${id}?token=t`, sharedStream: () => ({ fps: 25 }) },
      ...(footage === undefined ? {} : { footage }),
      shared: () => Promise.resolve([SHARED]),
      known: () => Promise.resolve([SHARED]),
      logger: pino({ level: 'silent' }),
    });
  }

  async function status(d: LiveDialogs, req: SipRequest): Promise<number> {
    const statuses: number[] = [];
    await d.invite(req, { transport: 'UDP', host: '127.0.0.1', port: 15060 }, (s) => statuses.push(s));
    return statuses.filter((s) => s >= 200)[0] ?? 0;
  }

  it('refuses Playback without recordings 488, a range with nothing recorded 404, a t= without a range 400', async () => {
    const asked: [number, number][] = [];
    const footage = {
      segments: () => Promise.resolve([]),
      open: (_id: string, fromMs: number, toMs: number) => {
        asked.push([fromMs, toMs]);
        return Promise.resolve(null);
      },
    };
    expect(await status(dialogs(), invite(SHARED, playbackOffer('Playback', '1765000000 1765000060')))).toBe(488);
    expect(await status(dialogs(footage), invite(SHARED, playbackOffer('Download', '1765000000 1765000060')))).toBe(404);
    expect(asked).toEqual([[1_765_000_000_000, 1_765_000_060_000]]);
    expect(await status(dialogs(footage), invite(SHARED, playbackOffer('Playback', '0 0')))).toBe(400);
  });

  it('answers MANSRTSP outside a dialog 481, a wrong body type 415; a live dialog has nothing to pause (RTSP 405)', async () => {
    const d = dialogs();
    const info = (callId: string, body: string, type = 'Application/MANSRTSP') =>
      buildRequest({
        method: 'INFO',
        uri: `sip:${SHARED}@3402000000`,
        via: { transport: 'UDP', host: '127.0.0.1', port: 15060, branch: 'z9hG4bKi1' },
        from: '<sip:34020000002000000001@3402000000>;tag=p1',
        to: `<sip:${SHARED}@3402000000>;tag=g1`,
        callId,
        cseq: 2,
        headers: [{ name: 'Content-Type', value: type }],
        body: Buffer.from(body),
      });
    const replies: { status: number; body: string }[] = [];
    const reply: Reply = (s, _r, o) => replies.push({ status: s, body: o?.body?.toString() ?? '' });
    await d.info(info('nope', 'PAUSE RTSP/1.0\r\nCSeq: 1\r\n'), reply);
    const live = invite(SHARED, offer());
    await d.invite(live, { transport: 'UDP', host: '127.0.0.1', port: 15060 }, () => undefined);
    const callId = getHeader(live, 'Call-ID')!;
    await d.info(info(callId, 'PAUSE RTSP/1.0\r\nCSeq: 1\r\n', 'text/plain'), reply);
    await d.info(info(callId, 'PAUSE RTSP/1.0\r\nCSeq: 7\r\n'), reply);
    expect(replies).toEqual([
      { status: 481, body: '' },
      { status: 415, body: '' },
      { status: 200, body: 'RTSP/1.0 405 Method Not Allowed\r\nCSeq: 7\r\n\r\n' },
    ]);
    await d.closeAll().catch(() => undefined);
  });
});

describe('GB/T 28181 live INVITE CANCEL (RFC 3261 9.2)', () => {
  const cancelOf = (req: SipRequest): SipRequest => ({
    ...req,
    method: 'CANCEL',
    headers: req.headers.map((h) => (h.name === 'CSeq' ? { name: 'CSeq', value: '1 CANCEL' } : h)),
    body: Buffer.alloc(0),
  });
  const peer = { transport: 'UDP' as const, host: '127.0.0.1', port: 15060 };

  it('a pending INVITE gets 487 and the CANCEL 200; no 200 and no session follow', async () => {
    let release!: (ids: string[]) => void;
    const dialogs = dialogsWith(() => new Promise((resolve) => (release = resolve)));
    const req = invite(SHARED, offer());
    const inviteReplies: number[] = [];
    const done = dialogs.invite(req, peer, (status) => inviteReplies.push(status));
    const cancelReplies: number[] = [];
    dialogs.cancel(cancelOf(req), (status) => cancelReplies.push(status));
    expect(cancelReplies).toEqual([200]);
    expect(inviteReplies).toEqual([100, 487]);
    release([SHARED]); // the checks finish after the CANCEL: nothing more is answered or prepared
    await done;
    expect(inviteReplies).toEqual([100, 487]);
    expect(dialogs.count).toBe(0);
  });

  it('a CANCEL for no INVITE gets 481', () => {
    const dialogs = dialogsWith(() => Promise.resolve([SHARED]));
    const statuses: number[] = [];
    dialogs.cancel(cancelOf(invite(SHARED, offer())), (status) => statuses.push(status));
    expect(statuses).toEqual([481]);
  });
});
