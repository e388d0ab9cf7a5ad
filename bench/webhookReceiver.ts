import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ReceivedAlert {
  /** Date.now() when the request body had arrived. */
  at: number;
  eventId: string;
  body: Record<string, unknown>;
  /** The signature header checked against the shared secret; null when there is no secret. */
  signatureValid: boolean | null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function validSignature(secret: string, req: IncomingMessage, body: string): boolean {
  const given = String(req.headers['x-psvgw-signature'] ?? '');
  const timestamp = String(req.headers['x-psvgw-timestamp'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/**
 * A real HTTP webhook receiver on 127.0.0.1: records every alert POSTed to it with its
 * arrival time and whether its HMAC signature is right. It can go down and come back on
 * the same port, as a receiver outage would.
 */
export class WebhookReceiver {
  /** Alerts taken (answered 2xx). */
  readonly received: ReceivedAlert[] = [];
  /** Alerts refused by `answerWith`, with the status they got, every attempt. */
  readonly refused: Array<ReceivedAlert & { status: number }> = [];
  #answer: (alert: ReceivedAlert) => number = () => 204;
  #server: Server | null = null;
  #waiters: Array<() => void> = [];

  #port = 0;

  private constructor(private readonly secret: string | undefined) {}

  static async start(opts: { secret?: string; port?: number } = {}): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(opts.secret);
    r.#port = await r.#listen(opts.port ?? 0);
    return r;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/alerts`;
  }

  get up(): boolean {
    return this.#server !== null;
  }

  /** Goes down: the port refuses connections until `resume`. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async resume(): Promise<void> {
    if (this.#server === null) await this.#listen(this.port);
  }

  /** How to answer each alert from now on (204 takes it; anything else refuses it, with a short JSON error). */
  answerWith(answer: (alert: ReceivedAlert) => number): void {
    this.#answer = answer;
  }

  /** Alerts matching, in arrival order. */
  matching(filter: { id?: string; kind?: string; state?: string; eventId?: string }): ReceivedAlert[] {
    return this.received.filter(
      (a) =>
        (filter.id === undefined || a.body.id === filter.id) &&
        (filter.kind === undefined || a.body.kind === filter.kind) &&
        (filter.state === undefined || a.body.state === filter.state) &&
        (filter.eventId === undefined || a.eventId === filter.eventId),
    );
  }

  /** The first alert matching that arrived at or after `since` (ms); throws after the timeout. */
  async waitFor(filter: Parameters<WebhookReceiver['matching']>[0], since: number, timeoutMs: number): Promise<ReceivedAlert> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.matching(filter).find((a) => a.at >= since);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no alert ${JSON.stringify(filter)} within ${timeoutMs} ms (received ${this.received.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #listen(port: number): Promise<number> {
    const server = createServer((req, res) => {
      void readBody(req).then((text) => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          res.writeHead(400).end();
          return;
        }
        const alert: ReceivedAlert = {
          at: Date.now(),
          eventId: String(req.headers['x-psvgw-event-id'] ?? ''),
          body,
          signatureValid: this.secret === undefined ? null : validSignature(this.secret, req, text),
        };
        const status = this.#answer(alert);
        if (status >= 200 && status < 300) {
          this.received.push(alert);
          res.writeHead(status).end();
        } else {
          this.refused.push({ ...alert, status });
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `refused with ${status}` }));
        }
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.#server = server;
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }
}
