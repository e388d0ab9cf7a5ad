import { pino, type Logger } from 'pino';
import { prettyDestination } from './logFormat.js';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log object. Camera URLs are logged
 * only after `redactUrl`, but a stray object must still not leak a secret.
 */
const REDACT_PATHS = [
  'password',
  '*.password',
  'credentials',
  '*.credentials',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'secretKey',
  '*.secretKey',
  // Logins, sessions and API keys: never logged, even inside a request body or a user record.
  'refreshToken',
  '*.refreshToken',
  'apiKey',
  '*.apiKey',
  'credentialNo',
  '*.credentialNo',
  'passwordHash',
  '*.passwordHash',
];

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LogOptions {
  level?: string;
  /** `auto` (the default): readable lines when the output is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Write to this destination instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
}

/** Whether `auto` means readable lines for this output: a terminal. */
function isTerminal(out: NodeJS.WritableStream): boolean {
  return (out as { isTTY?: boolean }).isTTY === true;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const options = {
    level: opts.level ?? process.env.PSVGW_LOG_LEVEL ?? 'info',
    base: { svc: 'psvgw' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const out = opts.destination ?? process.stdout;
  const format = opts.format ?? 'auto';
  if (format === 'pretty' || (format === 'auto' && isTerminal(out))) {
    return pino(options, prettyDestination(out, { color: isTerminal(out) && process.env.NO_COLOR === undefined }));
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** rtsp://user:pass@host/path → rtsp://user:***@host/path; also strips token-like query values. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/token|sign|key|secret|pass/i.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    return redactSecretsInText(raw);
  }
}

/**
 * A push target (RTMP/RTSP URL to the sharing platform) as it may be shown: the path past
 * the application name is a stream key, a credential, and the query often carries a
 * signature, so both become `***`, as does a password; scheme, host and application stay.
 * `rtmp://h/live/KEY?sig=X` → `rtmp://h/live/***?***`.
 */
export function redactPushTarget(target: string): string {
  const safe = redactUrl(target);
  try {
    const url = new URL(safe);
    const [app, ...rest] = url.pathname.split('/').filter((s) => s !== '');
    const path = app === undefined ? '/' : `/${app}${rest.length > 0 ? '/***' : ''}`;
    return `${url.protocol}//${url.username ? `${url.username}${url.password ? ':***' : ''}@` : ''}${url.host}${path}${url.search ? '?***' : ''}`;
  } catch {
    return safe;
  }
}

/**
 * Scrubs credentials and tokens from free text such as ffmpeg's stderr before it is logged or kept.
 * In an RTMP URL, the path past the application name is the stream key, a credential too
 * (e.g. `rtmp://host/live/KEY: Connection refused` → `rtmp://host/live/***: Connection refused`).
 */
export function redactSecretsInText(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s'"]+):[^@\s'"]*@/gi, '$1:***@')
    .replace(/(rtmps?:\/\/[^/\s'"]+\/[^/\s'"?]+\/)[^\s'"?]+?(?=:?(?:[\s'"?]|$))/gi, '$1***')
    .replace(/([?&](?:token|key|sign|secret|pass(?:word)?)=)[^&\s'"]+/gi, '$1***');
}
