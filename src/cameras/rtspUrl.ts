/**
 * Camera URLs: only rtsp:// and rtsps://. The stored URL never carries user info;
 * credentials travel separately and are put back into the URL only for ffmpeg.
 * Pure functions, no I/O.
 */
import { GatewayError } from '../errors.js';
import type { CameraCredentials } from '../domain/index.js';

export interface NormalizedRtspUrl {
  /** The URL without user info and fragment. */
  url: string;
  credentials: CameraCredentials | null;
}

const SCHEMES = new Set(['rtsp:', 'rtsps:']);
const EXAMPLE = 'rtsp://192.168.1.64:554/Streaming/Channels/101';
const HINT = `Give the camera's RTSP URL, e.g. ${EXAMPLE} (Hikvision) or rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0 (Dahua); put the username and password in their own fields.`;

/**
 * Checks and normalises a camera URL. User info in the URL moves into `credentials`
 * (percent-decoded); fields of `creds` given explicitly win over the URL's.
 * Throws GatewayError CAMERA_URL_INVALID naming what is wrong.
 */
export function normalizeRtspUrl(raw: string, creds?: Partial<CameraCredentials>): NormalizedRtspUrl {
  if (typeof raw !== 'string' || raw.trim() === '') invalid('the camera URL is empty');
  const text = raw.trim();
  if (/[\s\u0000-\u001f\u007f]/.test(text)) invalid('the camera URL contains spaces or control characters', text);

  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const bare = /^(rtsps?):/i.exec(text)?.[1]?.toLowerCase();
    invalid(
      bare === undefined
        ? 'the camera URL has no rtsp:// or rtsps:// scheme'
        : `the camera URL must start with ${bare}:// followed by the camera's host`,
      text,
    );
  }
  if (!SCHEMES.has(`${scheme}:`)) {
    invalid(`the camera URL uses ${scheme}://, but only rtsp:// and rtsps:// are supported`, text);
  }

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    invalid(diagnose(text), text);
  }
  if (url.hostname === '') invalid('the camera URL has no host (expected an IP address or host name after ://)', text);
  if (url.port === '0') invalid('the camera URL has port 0; RTSP cameras normally listen on 554', text);

  const fromUrl = url.username !== '' || url.password !== '' ? { username: decode(url.username), password: decode(url.password) } : null;
  url.username = '';
  url.password = '';
  url.hash = '';
  url.hostname = url.hostname.toLowerCase();

  const username = creds?.username ?? fromUrl?.username ?? '';
  const password = creds?.password ?? fromUrl?.password ?? '';
  const credentials = username === '' && password === '' ? null : { username, password };
  return { url: url.toString(), credentials };
}

/** Puts percent-encoded user info back into a URL. Only for handing the URL to ffmpeg; never log the result. */
export function withCredentials(url: string, creds: CameraCredentials | null | undefined): string {
  if (!creds || (creds.username === '' && creds.password === '')) return url;
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(creds.username);
  parsed.password = encodeURIComponent(creds.password);
  return parsed.toString();
}

function invalid(message: string, raw?: string): never {
  throw new GatewayError('CAMERA_URL_INVALID', message, {
    hint: HINT,
    ...(raw === undefined ? {} : { details: { url: stripUserInfo(raw) } }),
  });
}

/** Why the WHATWG parser refused a URL that starts with rtsp(s)://. */
function diagnose(text: string): string {
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(text)?.[1] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort === '' || hostPort.startsWith(':')) return 'the camera URL has no host (expected an IP address or host name after ://)';
  const port = /:([^:\]]*)$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== '') {
    // An unencoded '#', '?' or '/' in a password ends the authority early; never echo that text.
    if (!/^\d+$/.test(port)) {
      return text.includes('@')
        ? 'the camera URL is not a valid URL (if the password contains @ : / ? or #, put it in the password field instead)'
        : `the camera URL's port "${port}" is not a number`;
    }
    if (Number(port) > 65535) return `the camera URL's port ${port} is out of range (1–65535)`;
  }
  return 'the camera URL is not a valid URL';
}

/** For error details: the URL as given, less any password. */
function stripUserInfo(raw: string): string {
  return raw.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/).*@/, '$1');
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
