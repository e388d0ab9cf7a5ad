/**
 * SIP header field helpers (RFC 3261 §7.3, §20, §25.1): header names in their long form,
 * comma lists split outside quotes and angle brackets, and `;name=value` parameters.
 * Pure string work; the codec (message.ts) and the transactions use it.
 */

/** Compact header forms (RFC 3261 §7.3.3, §20; k and s from §20.37 and §20.36). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'Call-ID',
  f: 'From',
  t: 'To',
  v: 'Via',
  m: 'Contact',
  l: 'Content-Length',
  c: 'Content-Type',
  k: 'Supported',
  s: 'Subject',
  e: 'Content-Encoding',
};

/** Names whose usual spelling is not plain Title-Case per hyphenated word. */
const SPELLING: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'x-gb-ver': 'X-GB-ver',
};

/**
 * Headers that may carry several comma-separated values, which the codec splits into one
 * entry each so that, e.g., the topmost Via is simply the first (RFC 3261 §7.3.1).
 * Authorization headers are never split: their parameters are comma-separated too.
 */
export const MULTI_VALUE_HEADERS: ReadonlySet<string> = new Set(['Via', 'Route', 'Record-Route', 'Contact']);

/** The long, conventionally spelled form of a header name: `v` and `VIA` give `Via`. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const compact = COMPACT[lower];
  if (compact !== undefined) return compact;
  const special = SPELLING[lower];
  if (special !== undefined) return special;
  return lower.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

/** RFC 3261 §25.1 token characters, for header names and methods. */
export const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Splits `value` at `separator` where it is outside double quotes (with backslash escapes)
 * and outside `<...>`; pieces are trimmed, empty ones dropped.
 */
export function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') angle = true;
    else if (ch === '>') angle = false;
    else if (ch === separator && !angle) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Removes surrounding double quotes and backslash escapes (RFC 3261 §25.1 quoted-string). */
export function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

/** A header value split into its leading part and `;name=value` parameters (names lower-cased). */
export interface HeaderParams {
  value: string;
  params: Map<string, string | null>;
}

/**
 * `SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport` → value `SIP/2.0/UDP 10.0.0.1:5060` and
 * params {branch: 'z9hG4bK1', rport: null}. For name-addr values the URI's own parameters
 * stay inside `<...>`, so only header parameters such as `tag` come out (RFC 3261 §20.20).
 */
export function parseHeaderParams(header: string): HeaderParams {
  const [head = '', ...rest] = splitOutsideQuotes(header, ';');
  const params = new Map<string, string | null>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) params.set(p.toLowerCase(), null);
    else params.set(p.slice(0, eq).trim().toLowerCase(), unquote(p.slice(eq + 1)));
  }
  return { value: head, params };
}

/** From/To/Contact as display name, URI and header parameters (RFC 3261 §20.10, §20.20, §20.39). */
export interface NameAddr {
  displayName?: string;
  uri: string;
  params: Map<string, string | null>;
}

export function parseNameAddr(header: string): NameAddr {
  const { value, params } = parseHeaderParams(header);
  const lt = value.indexOf('<');
  const gt = value.lastIndexOf('>');
  if (lt >= 0 && gt > lt) {
    const name = unquote(value.slice(0, lt));
    return { ...(name !== '' ? { displayName: name } : {}), uri: value.slice(lt + 1, gt).trim(), params };
  }
  return { uri: value.trim(), params };
}

/** The user part of a `sip:user@host` URI (the 20-digit ID in GB/T 28181), or undefined. */
export function sipUriUser(uri: string): string | undefined {
  const m = /^sips?:([^@;?]+)@/i.exec(uri.trim());
  return m?.[1];
}

/** A Via header taken apart (RFC 3261 §20.42). */
export interface Via {
  transport: string;
  host: string;
  port?: number;
  branch?: string;
  params: Map<string, string | null>;
}

export function parseVia(header: string): Via | undefined {
  const { value, params } = parseHeaderParams(header);
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^\s:]+)(?::(\d+))?\s*$/i.exec(value);
  if (m === null) return undefined;
  const branch = params.get('branch') ?? undefined;
  return {
    transport: (m[1] ?? '').toUpperCase(),
    host: m[2] ?? '',
    ...(m[3] !== undefined ? { port: Number(m[3]) } : {}),
    ...(branch !== undefined ? { branch } : {}),
    params,
  };
}

/** CSeq: sequence number and method (RFC 3261 §20.16: a 32-bit unsigned number). */
export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(header: string): CSeq | undefined {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$/.exec(header);
  if (m === null) return undefined;
  const seq = Number(m[1]);
  if (seq > 0xffffffff) return undefined;
  return { seq, method: m[2] ?? '' };
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}

/**
 * The instant a Date header names. RFC 3261 §20.17 writes RFC 1123 dates in GMT; GB/T
 * 28181 platforms put Beijing time in the REGISTER 200 OK as `2026-12-05T20:00:00.000`
 * (2016 §9.10 SIP time synchronisation; the milliseconds are often left out), without a
 * zone, so `localOffsetMinutes` says which zone that is (UTC+8 unless told). Undefined
 * when the value is neither form or names an impossible time.
 */
export function parseSipDate(value: string, localOffsetMinutes = 480): Date | undefined {
  const gb = /^\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?\s*$/.exec(value);
  if (gb !== null) {
    const n = gb.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    const millis = gb[7] === undefined ? 0 : Number(gb[7].padEnd(3, '0'));
    const t = Date.UTC(n[0], n[1] - 1, n[2], n[3], n[4], n[5], millis) - localOffsetMinutes * 60_000;
    const check = new Date(t + localOffsetMinutes * 60_000);
    // Reject impossible times such as 2026-02-31 or 24:00 instead of rolling them over.
    const fields = [check.getUTCMonth() + 1, check.getUTCDate(), check.getUTCHours(), check.getUTCMinutes(), check.getUTCSeconds()];
    if (fields.some((v, i) => v !== n[i + 1])) return undefined;
    return new Date(t);
  }
  const rfc = /^\s*[A-Za-z]{3},\s+\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}:\d{2}\s+GMT\s*$/.exec(value);
  if (rfc !== null) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  return undefined;
}
