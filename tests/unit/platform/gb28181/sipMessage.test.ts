import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { SipFramer } from '../../../../src/platform/gb28181/sip/framer.js';
import {
  canonicalHeaderName,
  parseCSeq,
  parseNameAddr,
  parseSipDate,
  parseVia,
  sipUriUser,
} from '../../../../src/platform/gb28181/sip/headers.js';
import {
  BRANCH_COOKIE,
  buildRequest,
  buildResponse,
  SipParseError,
  getHeader,
  getHeaders,
  newBranch,
  newCSeqNumber,
  newCallId,
  newTag,
  parseSipMessage,
  serializeSipMessage,
  tryParseSipMessage,
  type SipMessage,
} from '../../../../src/platform/gb28181/sip/message.js';

const crlf = (lines: string[]): string => lines.join('\r\n');

/** A MESSAGE as an upper platform sends it: GB2312-declared MANSCDP body with Chinese text. */
function catalogMessage(body: Buffer): Buffer {
  const head = crlf([
    'MESSAGE sip:34020000001320000001@3402000000 SIP/2.0',
    'Via: SIP/2.0/UDP 192.168.1.10:5060;rport;branch=z9hG4bK1234',
    'From: <sip:34020000002000000001@3402000000>;tag=abc',
    'To: <sip:34020000001320000001@3402000000>',
    'Call-ID: 42@192.168.1.10',
    'CSeq: 20 MESSAGE',
    'Content-Type: Application/MANSCDP+xml',
    'Max-Forwards: 70',
    `Content-Length: ${body.length}`,
    '',
    '',
  ]);
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

const gbBody = iconv.encode('<?xml version="1.0" encoding="GB2312"?>\r\n<Notify><Name>堃𠀀测试</Name></Notify>\r\n', 'gb18030');

describe('SIP message parser', () => {
  it('reads a request with a GB18030 body, Content-Length counted in bytes', () => {
    const msg = parseSipMessage(catalogMessage(gbBody));
    expect(msg.kind).toBe('request');
    if (msg.kind !== 'request') return;
    expect(msg.method).toBe('MESSAGE');
    expect(msg.uri).toBe('sip:34020000001320000001@3402000000');
    expect(msg.body.equals(gbBody)).toBe(true);
    // 堃 is 2 bytes and 𠀀 4 bytes in GB18030: characters and bytes differ.
    expect(gbBody.length).not.toBe(iconv.decode(gbBody, 'gb18030').length);
    expect(iconv.decode(msg.body, 'gb18030')).toContain('堃𠀀测试');
    expect(getHeader(msg, 'call-id')).toBe('42@192.168.1.10');
    expect(getHeader(msg, 'i')).toBe('42@192.168.1.10');
  });

  it('reads a response, compact header forms, folded lines and multi-value Via', () => {
    const raw = Buffer.from(
      crlf([
        'SIP/2.0 200 OK',
        'v: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa, SIP/2.0/TCP 10.0.0.3;branch=z9hG4bKb',
        'Via: SIP/2.0/UDP 10.0.0.4:5070;branch=z9hG4bKc',
        'f: "网关" <sip:34020000002000000002@3402000000>;tag=1',
        't: <sip:34020000002000000001@3402000000>;tag=2',
        'i: call-1',
        'CSeq: 1',
        '  REGISTER',
        'm: <sip:a@1.2.3.4:5060;transport=udp>;expires=3600, <sip:b@1.2.3.5>',
        's: 34020000001320000001:0200001234,34020000002000000001:0',
        'k: timer',
        'c: text/plain',
        'Date: 2026-12-05T20:00:00.000',
        'l: 5',
        '',
        'hello',
      ]),
    );
    const msg = parseSipMessage(raw);
    expect(msg.kind).toBe('response');
    if (msg.kind !== 'response') return;
    expect(msg.status).toBe(200);
    expect(msg.reason).toBe('OK');
    expect(getHeaders(msg, 'Via')).toEqual([
      'SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa',
      'SIP/2.0/TCP 10.0.0.3;branch=z9hG4bKb',
      'SIP/2.0/UDP 10.0.0.4:5070;branch=z9hG4bKc',
    ]);
    expect(getHeader(msg, 'CSeq')).toBe('1 REGISTER');
    expect(getHeaders(msg, 'Contact')).toHaveLength(2);
    expect(getHeader(msg, 'Subject')).toBe('34020000001320000001:0200001234,34020000002000000001:0');
    expect(getHeader(msg, 'Supported')).toBe('timer');
    expect(getHeader(msg, 'Content-Type')).toBe('text/plain');
    expect(msg.body.toString()).toBe('hello');
    expect(parseNameAddr(getHeader(msg, 'From') ?? '')).toMatchObject({ displayName: '网关', uri: 'sip:34020000002000000002@3402000000' });
  });

  it('drops bytes past Content-Length in a datagram and takes the rest when it is absent (RFC 3261 §18.3)', () => {
    const base = [
      'INFO sip:x@y SIP/2.0',
      'Via: SIP/2.0/UDP h;branch=z9hG4bKx',
      'From: <sip:a@b>;tag=1',
      'To: <sip:c@d>',
      'Call-ID: 1',
      'CSeq: 2 INFO',
    ];
    const withLength = parseSipMessage(Buffer.from(crlf([...base, 'Content-Length: 3', '', 'abcdef'])));
    expect(withLength.body.toString()).toBe('abc');
    const without = parseSipMessage(Buffer.from(crlf([...base, '', 'abcdef'])));
    expect(without.body.toString()).toBe('abcdef');
    const overStream = parseSipMessage(Buffer.from(crlf([...base, '', ''])), { stream: true });
    expect(overStream.body.length).toBe(0);
  });

  it('accepts bare LF line ends and leading CRLFs', () => {
    const msg = parseSipMessage(
      Buffer.from(
        '\r\n\r\nOPTIONS sip:x@y SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\nCall-ID: 9\nCSeq: 1 OPTIONS\n\n',
      ),
    );
    expect(msg.kind === 'request' && msg.method).toBe('OPTIONS');
  });

  const rejects: [string, string | Buffer, SipParseError['code']][] = [
    ['empty input', '', 'empty'],
    ['only CRLFs', '\r\n\r\n', 'empty'],
    ['no blank line', 'MESSAGE sip:a@b SIP/2.0\r\nVia: x', 'no-header-end'],
    ['binary garbage', Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]), 'bad-start-line'],
    ['wrong version', 'MESSAGE sip:a@b SIP/3.0\r\n\r\n', 'bad-start-line'],
    ['status out of range', 'SIP/2.0 700 Huh\r\n\r\n', 'bad-start-line'],
    ['header without colon', 'BYE sip:a@b SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n', 'bad-header'],
    [
      'missing Call-ID',
      'BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\nCSeq: 1 BYE\r\n\r\n',
      'missing-header',
    ],
    [
      'bad CSeq',
      'BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\nCall-ID: 1\r\nCSeq: x BYE\r\n\r\n',
      'bad-header',
    ],
    [
      'negative Content-Length',
      'BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\nCall-ID: 1\r\nCSeq: 1 BYE\r\nContent-Length: -1\r\n\r\n',
      'bad-content-length',
    ],
    [
      'body shorter than Content-Length',
      'BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:a@b>\r\nTo: <sip:b@c>\r\nCall-ID: 1\r\nCSeq: 1 BYE\r\nl: 10\r\n\r\nabc',
      'truncated-body',
    ],
  ];
  it.each(rejects)('rejects %s with a typed error', (_name, input, code) => {
    const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    const result = tryParseSipMessage(buf);
    expect(result).toBeInstanceOf(SipParseError);
    expect((result as SipParseError).code).toBe(code);
    expect(() => parseSipMessage(buf)).toThrow(SipParseError);
  });

  it('never throws anything but SipParseError on truncations and byte flips of a valid message', () => {
    const good = catalogMessage(gbBody);
    for (let n = 0; n < good.length; n += 7) {
      const r = tryParseSipMessage(good.subarray(0, n));
      expect(r instanceof SipParseError || r.kind === 'request').toBe(true);
    }
    for (let i = 0; i < 200; i += 3) {
      const flipped = Buffer.from(good);
      flipped[i] = (flipped[i] ?? 0) ^ 0x5a;
      expect(() => tryParseSipMessage(flipped)).not.toThrow();
    }
  });
});

describe('SIP message serialiser', () => {
  it('writes byte-exact CRLF text with Content-Length in bytes, replacing a stale one', () => {
    const body = iconv.encode('<?xml version="1.0" encoding="GB2312"?>\r\n<Notify><Name>堃</Name></Notify>\r\n', 'gb18030');
    const msg: SipMessage = {
      kind: 'request',
      method: 'MESSAGE',
      uri: 'sip:34020000002000000001@3402000000',
      headers: [
        { name: 'Via', value: 'SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK776' },
        { name: 'From', value: '<sip:34020000001180000001@3402000000>;tag=77' },
        { name: 'To', value: '<sip:34020000002000000001@3402000000>' },
        { name: 'Call-ID', value: 'c1' },
        { name: 'CSeq', value: '3 MESSAGE' },
        { name: 'Content-Type', value: 'Application/MANSCDP+xml' },
        { name: 'Content-Length', value: '999' },
      ],
      body,
    };
    const expected = Buffer.concat([
      Buffer.from(
        'MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\n' +
          'Via: SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK776\r\n' +
          'From: <sip:34020000001180000001@3402000000>;tag=77\r\n' +
          'To: <sip:34020000002000000001@3402000000>\r\n' +
          'Call-ID: c1\r\n' +
          'CSeq: 3 MESSAGE\r\n' +
          'Content-Type: Application/MANSCDP+xml\r\n' +
          `Content-Length: ${body.length}\r\n\r\n`,
      ),
      body,
    ]);
    const bytes = serializeSipMessage(msg);
    expect(bytes.equals(expected)).toBe(true);
    const back = parseSipMessage(bytes);
    expect(back.body.equals(body)).toBe(true);
    expect(back.headers.filter((h) => h.name !== 'Content-Length')).toEqual(msg.headers.filter((h) => h.name !== 'Content-Length'));
  });

  it('writes a response status line and round-trips a parsed message', () => {
    const parsed = parseSipMessage(catalogMessage(gbBody));
    const again = parseSipMessage(serializeSipMessage(parsed));
    expect(again).toEqual(parsed);
    const ok = serializeSipMessage({ kind: 'response', status: 200, reason: 'OK', headers: [], body: Buffer.alloc(0) });
    expect(ok.toString()).toBe('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  });

  it('refuses a header value with a line break (header injection)', () => {
    const msg: SipMessage = {
      kind: 'response',
      status: 200,
      reason: 'OK',
      headers: [{ name: 'Subject', value: 'a\r\nVia: x' }],
      body: Buffer.alloc(0),
    };
    expect(() => serializeSipMessage(msg)).toThrow(SipParseError);
  });
});

describe('SIP header helpers', () => {
  it('spells header names in long form', () => {
    expect(['i', 'f', 't', 'v', 'm', 'l', 'c', 'k', 's'].map(canonicalHeaderName)).toEqual([
      'Call-ID',
      'From',
      'To',
      'Via',
      'Contact',
      'Content-Length',
      'Content-Type',
      'Supported',
      'Subject',
    ]);
    expect(canonicalHeaderName('www-authenticate')).toBe('WWW-Authenticate');
    expect(canonicalHeaderName('CSEQ')).toBe('CSeq');
    expect(canonicalHeaderName('max-forwards')).toBe('Max-Forwards');
    expect(canonicalHeaderName('x-gb-ver')).toBe('X-GB-ver');
  });

  it('takes Via, CSeq, name-addr and SIP URI user apart', () => {
    expect(parseVia('SIP/2.0/UDP 192.168.1.10:5060;rport=5061;received=1.2.3.4;branch=z9hG4bK99')).toMatchObject({
      transport: 'UDP',
      host: '192.168.1.10',
      port: 5060,
      branch: 'z9hG4bK99',
    });
    expect(parseVia('SIP/2.0/TCP [::1]:5060;branch=z9hG4bK1')?.host).toBe('[::1]');
    expect(parseVia('garbage')).toBeUndefined();
    expect(parseCSeq('101 INVITE')).toEqual({ seq: 101, method: 'INVITE' });
    expect(parseCSeq('99999999999 INVITE')).toBeUndefined();
    const na = parseNameAddr('"A;B" <sip:1@2;transport=tcp>;tag=xyz;expires=60');
    expect(na.displayName).toBe('A;B');
    expect(na.uri).toBe('sip:1@2;transport=tcp');
    expect(na.params.get('tag')).toBe('xyz');
    expect(na.params.get('transport')).toBeUndefined();
    expect(sipUriUser('sip:34020000001320000001@3402000000')).toBe('34020000001320000001');
  });

  it('makes RFC 3261 branches, tags, Call-IDs and CSeq numbers', () => {
    const b = newBranch();
    expect(b.startsWith(BRANCH_COOKIE)).toBe(true);
    expect(b).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    expect(newBranch()).not.toBe(b);
    expect(newTag()).toMatch(/^[0-9a-f]{8}$/);
    expect(newCallId('10.0.0.1')).toMatch(/^[0-9a-f]{24}@10\.0\.0\.1$/);
    const n = newCSeqNumber();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(2 ** 31);
  });
});

describe('SIP stream framer', () => {
  const one = catalogMessage(gbBody);
  const two = Buffer.from(
    crlf([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/TCP h;branch=z9hG4bK2',
      'From: <sip:a@b>;tag=1',
      'To: <sip:c@d>;tag=2',
      'Call-ID: 5',
      'CSeq: 7 MESSAGE',
      'l: 0',
      '',
      '',
    ]),
  );

  it('cuts messages by Content-Length in bytes whatever the chunking', () => {
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), one, two, one]);
    for (const size of [1, 2, 7, 64, stream.length]) {
      const framer = new SipFramer();
      const frames = [];
      for (let i = 0; i < stream.length; i += size) frames.push(...framer.feed(stream.subarray(i, i + size)));
      expect(frames.map((f) => f.raw.length)).toEqual([one.length, two.length, one.length]);
      expect(frames.every((f) => !(f.message instanceof SipParseError))).toBe(true);
      const first = frames[0]?.message as SipMessage;
      expect(first.body.equals(gbBody)).toBe(true);
      expect(framer.pending).toBe(0);
    }
  });

  it('does not mistake an empty line inside a body for the end of a message', () => {
    const tricky = catalogMessage(Buffer.from('<a>\r\n\r\nSIP/2.0 200 OK\r\n\r\n</a>'));
    const frames = new SipFramer().feed(Buffer.concat([tricky, two]));
    expect(frames.map((f) => f.raw.length)).toEqual([tricky.length, two.length]);
    expect((frames[0]?.message as SipMessage).body.toString()).toContain('SIP/2.0 200 OK');
  });

  it('reports a framed but malformed message and goes on with the next', () => {
    const bad = Buffer.from('HELLO\r\nl: 2\r\n\r\nxy');
    const frames = new SipFramer().feed(Buffer.concat([bad, two]));
    expect(frames).toHaveLength(2);
    expect(frames[0]?.message).toBeInstanceOf(SipParseError);
    expect((frames[1]?.message as SipMessage).kind).toBe('response');
  });

  it('declares the stream broken on a bad Content-Length or an endless header', () => {
    const framer = new SipFramer();
    expect(() => framer.feed(Buffer.from('BYE sip:a@b SIP/2.0\r\nContent-Length: abc\r\n\r\n'))).toThrow(SipParseError);
    expect(() => framer.feed(two)).toThrow(SipParseError);
    const small = new SipFramer({ maxHeaderBytes: 100 });
    expect(() => small.feed(Buffer.alloc(200, 0x41))).toThrow(/header section/);
    const bodyCap = new SipFramer({ maxBodyBytes: 10 });
    expect(() => bodyCap.feed(one)).toThrow(/Content-Length/);
  });
});

describe('responses built from a request (RFC 3261 §8.2.6.2)', () => {
  it('copies Via, From, To, Call-ID and CSeq, adds the To tag, and serialises byte for byte', () => {
    const req = parseSipMessage(catalogMessage(gbBody));
    if (req.kind !== 'request') throw new Error('fixture is a request');
    const ok = buildResponse(req, 200, 'OK', { toTag: 'gw1', headers: [{ name: 'User-Agent', value: 'psv-gateway' }] });
    expect(serializeSipMessage(ok).toString()).toBe(
      crlf([
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/UDP 192.168.1.10:5060;rport;branch=z9hG4bK1234',
        'From: <sip:34020000002000000001@3402000000>;tag=abc',
        'To: <sip:34020000001320000001@3402000000>;tag=gw1',
        'Call-ID: 42@192.168.1.10',
        'CSeq: 20 MESSAGE',
        'User-Agent: psv-gateway',
        'Content-Length: 0',
        '',
        '',
      ]),
    );
    expect(getHeader(buildResponse(req, 100, 'Trying', { toTag: 'gw1' }), 'To')).toBe('<sip:34020000001320000001@3402000000>');
    const tagged = buildResponse(ok as unknown as typeof req, 481, 'Gone', { toTag: 'other' });
    expect(getHeader(tagged, 'To')).toBe('<sip:34020000001320000001@3402000000>;tag=gw1');
  });

  it('keeps every Via of a request that crossed proxies, in order', () => {
    const raw = Buffer.from(
      crlf([
        'BYE sip:a@b SIP/2.0',
        'Via: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/UDP p2;branch=z9hG4bK2',
        'f: <sip:a@b>;tag=1',
        't: <sip:c@d>;tag=2',
        'i: x',
        'CSeq: 3 BYE',
        '',
        '',
      ]),
    );
    const req = parseSipMessage(raw);
    if (req.kind !== 'request') throw new Error('fixture is a request');
    expect(getHeaders(buildResponse(req, 200, 'OK'), 'Via')).toEqual(['SIP/2.0/UDP p1;branch=z9hG4bK1', 'SIP/2.0/UDP p2;branch=z9hG4bK2']);
  });
});

describe('requests and dates', () => {
  it('builds a REGISTER with the required headers in order, byte for byte', () => {
    const reg = buildRequest({
      method: 'REGISTER',
      uri: 'sip:34020000002000000001@3402000000',
      via: { transport: 'UDP', host: '192.168.1.20', port: 5060, branch: 'z9hG4bK0001' },
      from: '<sip:34020000001180000001@3402000000>;tag=aa',
      to: '<sip:34020000001180000001@3402000000>',
      callId: 'reg-1',
      cseq: 1,
      headers: [
        { name: 'Contact', value: '<sip:34020000001180000001@192.168.1.20:5060>' },
        { name: 'Expires', value: '3600' },
        { name: 'X-GB-ver', value: '3.0' },
      ],
    });
    expect(serializeSipMessage(reg).toString()).toBe(
      crlf([
        'REGISTER sip:34020000002000000001@3402000000 SIP/2.0',
        'Via: SIP/2.0/UDP 192.168.1.20:5060;rport;branch=z9hG4bK0001',
        'Max-Forwards: 70',
        'From: <sip:34020000001180000001@3402000000>;tag=aa',
        'To: <sip:34020000001180000001@3402000000>',
        'Call-ID: reg-1',
        'CSeq: 1 REGISTER',
        'Contact: <sip:34020000001180000001@192.168.1.20:5060>',
        'Expires: 3600',
        'X-GB-ver: 3.0',
        'Content-Length: 0',
        '',
        '',
      ]),
    );
  });

  it('reads the GB/T 28181 Date form as Beijing time unless told otherwise, and RFC 1123 dates', () => {
    expect(parseSipDate('2026-12-05T20:00:00.123')?.toISOString()).toBe('2026-12-05T12:00:00.123Z');
    expect(parseSipDate('2026-12-05T20:00:00')?.toISOString()).toBe('2026-12-05T12:00:00.000Z');
    expect(parseSipDate('2026-12-05T20:00:00.5', 0)?.toISOString()).toBe('2026-12-05T20:00:00.500Z');
    expect(parseSipDate('Sat, 05 Dec 2026 12:00:00 GMT')?.toISOString()).toBe('2026-12-05T12:00:00.000Z');
    for (const bad of ['2026-02-31T10:00:00', '2026-12-05T24:00:00', 'yesterday', '']) expect(parseSipDate(bad)).toBeUndefined();
  });
});
