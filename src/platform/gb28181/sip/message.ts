/**
 * SIP message codec working on bytes (RFC 3261 §7): the header section is text, the body
 * stays a Buffer so GB18030 MANSCDP bodies are never mangled and Content-Length counts
 * bytes (§20.14). Pure: no I/O. Malformed input raises SipParseError, nothing else.
 */
import { randomBytes } from 'node:crypto';
import { MULTI_VALUE_HEADERS, TOKEN_RE, canonicalHeaderName, parseCSeq, parseNameAddr, splitOutsideQuotes } from './headers.js';

export const SIP_VERSION = 'SIP/2.0';

export interface SipHeader {
  /** Long form, conventional spelling (see canonicalHeaderName). */
  name: string;
  value: string;
}

interface SipBase {
  /** In message order; comma lists of Via/Route/Record-Route/Contact are one entry per value. */
  headers: SipHeader[];
  body: Buffer;
}

export interface SipRequest extends SipBase {
  kind: 'request';
  method: string;
  uri: string;
}

export interface SipResponse extends SipBase {
  kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

export type SipParseErrorCode =
  'empty' | 'no-header-end' | 'bad-start-line' | 'bad-header' | 'missing-header' | 'bad-content-length' | 'truncated-body' | 'too-large';

/** Why bytes are not a SIP message; `code` is stable for callers and tests. */
export class SipParseError extends Error {
  constructor(
    readonly code: SipParseErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SipParseError';
  }
}

/** Headers every request and response needs for transaction matching (RFC 3261 §8.1.1, §8.2.6.2). */
const REQUIRED = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;

/** First value of a header (case-insensitive, compact forms accepted), or undefined. */
export function getHeader(msg: Pick<SipBase, 'headers'>, name: string): string | undefined {
  const want = canonicalHeaderName(name);
  return msg.headers.find((h) => h.name === want)?.value;
}

/** Every value of a header, in order. */
export function getHeaders(msg: Pick<SipBase, 'headers'>, name: string): string[] {
  const want = canonicalHeaderName(name);
  return msg.headers.filter((h) => h.name === want).map((h) => h.value);
}

/** Where the header section ends: index of the blank line and the body's first byte. */
export function findHeaderEnd(buf: Buffer, from = 0): { end: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n', from, 'latin1');
  const lf = buf.indexOf('\n\n', from, 'latin1');
  // Bare LF line ends are not RFC 3261 but some devices send them: accepted on input only.
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { end: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { end: lf, bodyStart: lf + 2 };
  return undefined;
}

/** Length of the empty lines (CRLF keep-alives, RFC 3261 §7.5 / RFC 5626 §3.5.1) at `from`. */
export function leadingBlankLength(buf: Buffer, from = 0): number {
  let i = from;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i - from;
}

/** Header lines, unfolded (RFC 3261 §7.3.1: a line starting with SP/HT continues the previous one). */
function unfold(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length > 0) {
      lines[lines.length - 1] = `${(lines[lines.length - 1] ?? '').trimEnd()} ${line.trim()}`;
    } else lines.push(line);
  }
  return lines;
}

function parseStartLine(line: string): Omit<SipRequest, 'headers' | 'body'> | Omit<SipResponse, 'headers' | 'body'> {
  if (line.startsWith(`${SIP_VERSION} `)) {
    const m = /^SIP\/2\.0 ([1-6]\d\d) ?(.*)$/.exec(line);
    if (m === null) throw new SipParseError('bad-start-line', `bad status line: ${JSON.stringify(line.slice(0, 80))}`);
    return { kind: 'response', status: Number(m[1]), reason: m[2] ?? '' };
  }
  const parts = line.split(' ');
  const [method = '', uri = '', version = ''] = parts;
  if (parts.length !== 3 || !TOKEN_RE.test(method) || uri === '' || version !== SIP_VERSION) {
    throw new SipParseError('bad-start-line', `bad request line: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return { kind: 'request', method, uri };
}

function parseHeaderLines(lines: string[]): SipHeader[] {
  const headers: SipHeader[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const rawName = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!TOKEN_RE.test(rawName)) throw new SipParseError('bad-header', `bad header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = canonicalHeaderName(rawName);
    const value = line.slice(colon + 1).trim();
    if (MULTI_VALUE_HEADERS.has(name) && value !== '*') {
      for (const v of splitOutsideQuotes(value, ',')) headers.push({ name, value: v });
    } else headers.push({ name, value });
  }
  return headers;
}

/** Content-Length as a byte count (RFC 3261 §20.14), undefined when the header is absent. */
export function contentLengthOf(headers: SipHeader[]): number | undefined {
  const values = headers.filter((h) => h.name === 'Content-Length').map((h) => h.value);
  if (values.length === 0) return undefined;
  if (values.length > 1 || !/^\d{1,9}$/.test(values[0] ?? '')) {
    throw new SipParseError('bad-content-length', `bad Content-Length: ${JSON.stringify(values.join(','))}`);
  }
  return Number(values[0]);
}

/** Parses the header section (without the blank line) into start line and headers. */
function parseHead(head: string): { start: ReturnType<typeof parseStartLine>; headers: SipHeader[] } {
  const [startLine = '', ...lines] = unfold(head);
  const start = parseStartLine(startLine);
  return { start, headers: parseHeaderLines(lines.filter((l) => l !== '')) };
}

export interface ParseOptions {
  /**
   * Stream transports must carry Content-Length (RFC 3261 §18.3); over UDP a missing one
   * means "the rest of the datagram", and bytes past it are dropped.
   */
  stream?: boolean;
}

/** Parses one whole message (a UDP datagram, or a frame from SipFramer). */
export function parseSipMessage(buf: Buffer, opts: ParseOptions = {}): SipMessage {
  const skip = leadingBlankLength(buf);
  if (skip >= buf.length) throw new SipParseError('empty', 'empty SIP message');
  const bounds = findHeaderEnd(buf, skip);
  // RFC 3261 §7: the header section always ends in an empty line, even without a body.
  if (bounds === undefined) throw new SipParseError('no-header-end', 'SIP header section has no terminating blank line');
  const { start, headers } = parseHead(buf.toString('utf8', skip, bounds.end));
  for (const name of REQUIRED) {
    if (!headers.some((h) => h.name === name)) throw new SipParseError('missing-header', `SIP message has no ${name} header`);
  }
  if (parseCSeq(getHeader({ headers }, 'CSeq') ?? '') === undefined) throw new SipParseError('bad-header', 'bad CSeq header');
  const available = buf.length - bounds.bodyStart;
  const declared = contentLengthOf(headers);
  const length = declared ?? (opts.stream === true ? 0 : available);
  if (length > available) {
    throw new SipParseError('truncated-body', `Content-Length ${length} but only ${available} body bytes`);
  }
  const body = Buffer.from(buf.subarray(bounds.bodyStart, bounds.bodyStart + length));
  return { ...start, headers, body };
}

/** Parses, returning the error instead of throwing: for transports that log and drop. */
export function tryParseSipMessage(buf: Buffer, opts: ParseOptions = {}): SipMessage | SipParseError {
  try {
    return parseSipMessage(buf, opts);
  } catch (err) {
    if (err instanceof SipParseError) return err;
    throw err;
  }
}

/**
 * Serialises with CRLF line ends, one header line per entry, and a Content-Length that is
 * always written and always the body's byte length (any given one is replaced).
 */
export function serializeSipMessage(msg: SipMessage): Buffer {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri} ${SIP_VERSION}` : `${SIP_VERSION} ${msg.status} ${msg.reason}`;
  const lines = [start];
  for (const h of msg.headers) {
    if (h.name === 'Content-Length') continue;
    if (/[\r\n]/.test(h.value)) throw new SipParseError('bad-header', `header ${h.name} contains a line break`);
    lines.push(`${h.name}: ${h.value}`);
  }
  lines.push(`Content-Length: ${msg.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), msg.body]);
}

export interface RequestOptions {
  method: string;
  /** Request-URI, e.g. sip:34020000002000000001@3402000000. */
  uri: string;
  /** Top Via: transport, the address the peer should answer to, and the branch (newBranch()). */
  via: { transport: 'UDP' | 'TCP'; host: string; port: number; branch: string; rport?: boolean };
  /** From/To as name-addr values, tag included where one belongs (`<sip:…>;tag=…`). */
  from: string;
  to: string;
  callId: string;
  cseq: number;
  /** Extra headers after the required ones (Contact, Expires, Authorization, X-GB-ver, ...). */
  headers?: SipHeader[];
  body?: Buffer;
}

/**
 * An outgoing request with the headers RFC 3261 §8.1.1 requires, in a fixed order:
 * Via, Max-Forwards 70, From, To, Call-ID, CSeq, then the caller's.
 */
export function buildRequest(o: RequestOptions): SipRequest {
  const via = `SIP/2.0/${o.via.transport} ${o.via.host}:${o.via.port}${o.via.rport === false ? '' : ';rport'};branch=${o.via.branch}`;
  return {
    kind: 'request',
    method: o.method,
    uri: o.uri,
    headers: [
      { name: 'Via', value: via },
      { name: 'Max-Forwards', value: '70' },
      { name: 'From', value: o.from },
      { name: 'To', value: o.to },
      { name: 'Call-ID', value: o.callId },
      { name: 'CSeq', value: `${o.cseq} ${o.method}` },
      ...(o.headers ?? []),
    ],
    body: o.body ?? Buffer.alloc(0),
  };
}

export interface ResponseOptions {
  /** Tag added to To when the request's To has none (RFC 3261 §8.2.6.2); not added to 100 Trying. */
  toTag?: string;
  /** Extra headers after the copied ones (Contact, Content-Type, Date, ...). */
  headers?: SipHeader[];
  body?: Buffer;
}

/**
 * A response to `req` (RFC 3261 §8.2.6.2): Via (all, in order), From, To, Call-ID and CSeq
 * copied; a To tag added unless the request already had one or this is a 100.
 */
export function buildResponse(req: SipRequest, status: number, reason: string, opts: ResponseOptions = {}): SipResponse {
  const copied = req.headers.filter((h) => ['Via', 'From', 'To', 'Call-ID', 'CSeq'].includes(h.name));
  const headers = copied.map((h) => {
    if (h.name !== 'To' || status === 100 || opts.toTag === undefined || parseNameAddr(h.value).params.has('tag')) return { ...h };
    return { name: 'To', value: `${h.value};tag=${opts.toTag}` };
  });
  return { kind: 'response', status, reason, headers: [...headers, ...(opts.headers ?? [])], body: opts.body ?? Buffer.alloc(0) };
}

// --- identifiers (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3) -------------------------------------

/** The magic cookie that marks an RFC 3261 branch (§8.1.1.7). */
export const BRANCH_COOKIE = 'z9hG4bK';

/** A fresh Via branch: the cookie plus 64 random bits, unique per transaction. */
export function newBranch(): string {
  return BRANCH_COOKIE + randomBytes(8).toString('hex');
}

/** A From/To tag with 32 random bits (§19.3 asks for at least 32). */
export function newTag(): string {
  return randomBytes(4).toString('hex');
}

/** A globally unique Call-ID (§8.1.1.4), `random@host` when a host is given. */
export function newCallId(host?: string): string {
  const id = randomBytes(12).toString('hex');
  return host === undefined ? id : `${id}@${host}`;
}

/** An initial CSeq number: random, below 2**31 as §8.1.1.5 requires. */
export function newCSeqNumber(): number {
  return randomBytes(4).readUInt32BE() & 0x7fffffff || 1;
}
