import { connect } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** Host and port of an RTSP/RTMP URL (RTSP defaults to 554, RTMP to 1935). */
export function hostPortOf(url: string): HostPort | undefined {
  try {
    const u = new URL(url);
    const defaults: Record<string, number> = { 'rtsp:': 554, 'rtsps:': 322, 'rtmp:': 1935, 'rtmps:': 443 };
    const port = u.port ? Number(u.port) : defaults[u.protocol];
    return port === undefined || !u.hostname ? undefined : { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

function tryConnect(target: HostPort, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves once a TCP connection to the target succeeds, polling every `intervalMs`; never rejects. */
export async function waitUntilReachable(target: HostPort, signal: AbortSignal, intervalMs = 500): Promise<void> {
  while (!signal.aborted) {
    if (await tryConnect(target, intervalMs)) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Whether an RTSP server at the target answers an OPTIONS request (any status) within `timeoutMs`. */
export function answersRtsp(target: HostPort, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    let received = '';
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    socket.once('connect', () => {
      socket.write(`OPTIONS rtsp://${host}:${target.port}/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: psv-gateway\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.length >= 5) done(received.startsWith('RTSP/'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

export interface AnswersAgainOptions {
  intervalMs?: number;
  answerTimeoutMs?: number;
  /** The caller already knows the target went silent (e.g. its frames stopped): its first answer counts. */
  seenSilent?: boolean;
}

/**
 * Resolves once the target answers RTSP after having been seen not answering: a camera
 * that froze (socket open, no answer) or rebooted is retried as soon as it is back, while
 * one that answers all along (wrong path or password, no frames) keeps its backoff.
 * Never rejects.
 */
export async function waitUntilAnswersAgain(target: HostPort, signal: AbortSignal, opts: AnswersAgainOptions = {}): Promise<void> {
  const { intervalMs = 500, answerTimeoutMs = 1000 } = opts;
  let seenSilent = opts.seenSilent ?? false;
  while (!signal.aborted) {
    const answered = await answersRtsp(target, answerTimeoutMs);
    if (answered && seenSilent && !signal.aborted) return;
    if (!answered) seenSilent = true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
