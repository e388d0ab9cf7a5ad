/**
 * HTTP Digest authentication as SIP uses it for REGISTER (RFC 3261 §22.4, RFC 2617 §3,
 * RFC 7616 §3.4): read a WWW-Authenticate / Proxy-Authenticate challenge, answer it with an
 * Authorization value. MD5 with and without qop=auth, their -sess forms, SHA-256 (RFC 7616)
 * and SM3 (GB/T 32905 hash, which GB/T 28181-2022 lets a platform ask for) all come from
 * node's crypto, so no hash is implemented here.
 */
import { createHash, getHashes, randomBytes } from 'node:crypto';
import { splitOutsideQuotes, unquote } from './headers.js';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SM3' | 'SM3-sess';

const HASH_OF: Readonly<Record<string, string>> = { md5: 'md5', 'sha-256': 'sha256', sm3: 'sm3' };

export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** Absent means MD5 (RFC 2617 §3.2.1). */
  algorithm: DigestAlgorithm;
  /** The qop options offered; empty for an RFC 2069-style challenge. */
  qop: string[];
  opaque?: string;
  stale: boolean;
  /** Every parameter as sent, names lower-cased. */
  params: Map<string, string>;
}

export class DigestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestError';
  }
}

/** True when this node can compute the algorithm (SM3 needs OpenSSL with SM3). */
export function digestAlgorithmSupported(algorithm: string): algorithm is DigestAlgorithm {
  const base = HASH_OF[algorithm.toLowerCase().replace(/-sess$/, '')];
  return base !== undefined && getHashes().includes(base);
}

function canonicalAlgorithm(raw: string): DigestAlgorithm {
  const lower = raw.toLowerCase();
  const known: DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SM3', 'SM3-sess'];
  const found = known.find((a) => a.toLowerCase() === lower);
  if (found === undefined || !digestAlgorithmSupported(found)) throw new DigestError(`unsupported digest algorithm ${raw}`);
  return found;
}

/** Parses `Digest realm="…", nonce="…", qop="auth,auth-int", algorithm=MD5, opaque="…"`. */
export function parseDigestChallenge(header: string): DigestChallenge {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (m === null) throw new DigestError('challenge is not a Digest challenge');
  const params = new Map<string, string>();
  for (const part of splitOutsideQuotes(m[1] ?? '', ',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new DigestError(`bad digest parameter ${JSON.stringify(part)}`);
    params.set(part.slice(0, eq).trim().toLowerCase(), unquote(part.slice(eq + 1)));
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) throw new DigestError('digest challenge lacks realm or nonce');
  const opaque = params.get('opaque');
  return {
    realm,
    nonce,
    algorithm: canonicalAlgorithm(params.get('algorithm') ?? 'MD5'),
    qop: (params.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter((q) => q !== ''),
    ...(opaque !== undefined ? { opaque } : {}),
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
    params,
  };
}

/**
 * Picks the challenge to answer when a 401 carries several WWW-Authenticate headers (a
 * 2022-edition platform may offer SM3 beside MD5): the first of `preference` that this
 * node can compute. Unparseable or unsupported challenges are skipped.
 */
export function chooseDigestChallenge(
  headers: readonly string[],
  preference: readonly DigestAlgorithm[] = ['SM3', 'SHA-256', 'MD5', 'SM3-sess', 'SHA-256-sess', 'MD5-sess'],
): DigestChallenge | undefined {
  const usable: DigestChallenge[] = [];
  for (const h of headers) {
    try {
      usable.push(parseDigestChallenge(h));
    } catch (err) {
      if (!(err instanceof DigestError)) throw err;
    }
  }
  for (const algorithm of preference) {
    const found = usable.find((c) => c.algorithm === algorithm);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface DigestCredentials {
  /** The configured username (GB/T 28181 platforms may expect it to differ from the device ID). */
  username: string;
  password: string;
}

export interface DigestRequest {
  method: string;
  /** The digest-uri: the Request-URI of the request being authorised (RFC 3261 §22.4). */
  uri: string;
}

export interface DigestAnswerOptions {
  /** Client nonce; random when absent. Fixed only in tests. */
  cnonce?: string;
  /** Nonce count: how many requests used this nonce, 1 for the first (RFC 2617 §3.2.2). */
  nc?: number;
}

function hasher(algorithm: DigestAlgorithm): (s: string) => string {
  const name = HASH_OF[algorithm.toLowerCase().replace(/-sess$/, '')] ?? 'md5';
  return (s) => createHash(name).update(s, 'utf8').digest('hex');
}

/** The request-digest (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1); returns the values it used. */
export function digestResponse(
  challenge: DigestChallenge,
  creds: DigestCredentials,
  req: DigestRequest,
  opts: DigestAnswerOptions = {},
): { response: string; qop?: 'auth'; cnonce?: string; nc?: string } {
  const H = hasher(challenge.algorithm);
  // Only qop=auth is answered: auth-int would need the body hash and platforms offer auth.
  const qop = challenge.qop.includes('auth') ? 'auth' : undefined;
  if (qop === undefined && challenge.qop.length > 0) throw new DigestError(`no supported qop in ${challenge.qop.join(',')}`);
  const sess = challenge.algorithm.endsWith('-sess');
  const cnonce = qop !== undefined || sess ? (opts.cnonce ?? randomBytes(8).toString('hex')) : undefined;
  let ha1 = H(`${creds.username}:${challenge.realm}:${creds.password}`);
  if (sess) ha1 = H(`${ha1}:${challenge.nonce}:${cnonce ?? ''}`);
  const ha2 = H(`${req.method}:${req.uri}`);
  if (qop === undefined) return { response: H(`${ha1}:${challenge.nonce}:${ha2}`), ...(cnonce !== undefined ? { cnonce } : {}) };
  const nc = (opts.nc ?? 1).toString(16).padStart(8, '0');
  return { response: H(`${ha1}:${challenge.nonce}:${nc}:${cnonce ?? ''}:${qop}:${ha2}`), qop, cnonce: cnonce ?? '', nc };
}

/** The Authorization (or Proxy-Authorization) header value answering `challenge`. */
export function buildDigestAuthorization(
  challenge: DigestChallenge,
  creds: DigestCredentials,
  req: DigestRequest,
  opts: DigestAnswerOptions = {},
): string {
  const r = digestResponse(challenge, creds, req, opts);
  const q = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;
  const parts = [
    `username=${q(creds.username)}`,
    `realm=${q(challenge.realm)}`,
    `nonce=${q(challenge.nonce)}`,
    `uri=${q(req.uri)}`,
    `response=${q(r.response)}`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (r.cnonce !== undefined) parts.push(`cnonce=${q(r.cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${q(challenge.opaque)}`);
  // qop and nc are unquoted tokens (RFC 2617 §3.2.2).
  if (r.qop !== undefined && r.nc !== undefined) parts.push(`qop=${r.qop}`, `nc=${r.nc}`);
  return `Digest ${parts.join(', ')}`;
}
