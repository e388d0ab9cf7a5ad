import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { closeOnce } from '../lifecycle.js';
import type { ReadinessState } from './readiness.js';

export interface ApiServer {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Hands the requests to the API once it is built; until then, and while stopping, they are answered 503. */
  serve(app: RequestListener): void;
  /** Stops listening and drops open connections; idempotent. */
  close(): Promise<void>;
}

/**
 * Listens on the API port from the start of the gateway to the very end of its close,
 * so /readyz answers 503 while it starts and while it stops. Until the API is served,
 * and from the moment the close begins, /healthz answers 200, /readyz 503 and every
 * other path 503: nothing reaches a component that is not (or no longer) running.
 */
export async function startApiServer(opts: { host: string; port: number; readiness: { state(): ReadinessState } }): Promise<ApiServer> {
  let app: RequestListener | null = null;
  const server = createServer((req, res) => {
    const state = opts.readiness.state();
    if (app !== null && state !== 'stopping') app(req, res);
    else notServing(req, res, state);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${opts.port}`,
    serve: (handler) => {
      app = handler;
    },
    close: closeOnce(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  };
}

function notServing(req: IncomingMessage, res: ServerResponse, state: ReadinessState): void {
  const path = (req.url ?? '/').split('?')[0];
  const [status, body] =
    path === '/healthz'
      ? [200, { status: 'ok' }]
      : path === '/readyz'
        ? [503, { status: state }]
        : [503, { error: { code: 'NOT_READY', message: `The gateway is ${state}; try again shortly.` } }];
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(status === 503 ? { 'retry-after': '1' } : {}) });
  res.end(JSON.stringify(body));
}
