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
