import { createHash, createHmac } from 'node:crypto';
import type { GatewayConfig } from '../config/index.js';
import { redactUrl, type Logger } from '../log.js';
import { backoffDelay } from '../backoff.js';
import type { AlertOutboxRepository, OutboxEntry } from '../store/index.js';
import type { IncidentChange } from './incidents.js';

export interface WebhookTarget {
  /** Stable name the target's queued deliveries are kept under. */
  name: string;
  url: string;
  secret?: string;
  timeoutMs: number;
}

export const SIGNATURE_HEADER = 'x-psvgw-signature';
export const TIMESTAMP_HEADER = 'x-psvgw-timestamp';
export const EVENT_ID_HEADER = 'x-psvgw-event-id';

/** The configured targets: `alerts.webhooks` plus the single `alerts.webhookUrl` (PSVGW_ALERT_WEBHOOK_URL). */
export function webhookTargets(alerts: GatewayConfig['alerts']): WebhookTarget[] {
  const targets: WebhookTarget[] = alerts.webhooks.map((w) => ({
    name: w.name ?? targetName(w.url),
    url: w.url,
    ...(w.secret === undefined ? {} : { secret: w.secret }),
    timeoutMs: w.timeoutMs,
  }));
  if (alerts.webhookUrl !== undefined) {
    targets.push({
      name: targetName(alerts.webhookUrl),
      url: alerts.webhookUrl,
      ...(alerts.webhookSecret === undefined ? {} : { secret: alerts.webhookSecret }),
      timeoutMs: 5000,
    });
  }
  return targets;
}

/** The URL without query or user info (those may hold keys), so the name is safe to log and store. */
function targetName(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** What a receiver gets: one JSON object per change of an incident. */
export interface AlertBody {
  /** Same for every retry of this change: the receiver's idempotency key. */
  eventId: string;
  gateway: string;
  /** The camera, or null for the gateway as a whole. */
  id: string | null;
  kind: string;
  severity: string;
  state: 'firing' | 'resolved';
  message: string;
  /** ISO times: when the incident started, when it ended (null while firing), when this change happened. */
  startedAt: string;
  resolvedAt: string | null;
  at: string;
  details: Record<string, unknown>;
}

/** One ID per change of an incident (its key, start and state), so a change queued twice is one event. */
export function alertEventId(change: IncidentChange): string {
  return createHash('sha256').update(`${change.incident.key}|${change.incident.since}|${change.state}`).digest('hex').slice(0, 32);
}

export function alertBody(change: IncidentChange, gateway: string): AlertBody {
  const { incident } = change;
  return {
    eventId: alertEventId(change),
    gateway,
    id: incident.cameraId,
    kind: incident.kind,
    severity: incident.severity,
    state: change.state,
    message: incident.message,
    startedAt: incident.since,
    resolvedAt: change.state === 'resolved' ? change.at : null,
    at: change.at,
    details: incident.details ?? {},
  };
}

/**
 * `sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>`: a receiver recomputes it with the
 * shared secret, and refuses old timestamps to stop replays.
 */
export function signAlert(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookNotifierOptions {
  outbox: AlertOutboxRepository;
  targets: readonly WebhookTarget[];
  retry: { initialMs: number; maxMs: number };
  gateway: string;
  logger: Logger;
  clock?: () => Date;
}

/**
 * Webhook alerts through an outbox in the store: each change is written there first, then
 * POSTed; a failed delivery is retried with exponential backoff until the receiver takes
 * it, also after a gateway restart. Each target gets its changes in order, one at a time
 * (a resolution never overtakes its firing). A receiver that answered but whose answer was
 * lost may get a change twice: the event ID (body and header) lets it drop the repeat.
 */
export class WebhookNotifier {
  readonly #targets: Map<string, WebhookTarget>;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #abort = new AbortController();
  #enqueued: Promise<void> = Promise.resolve();
  readonly #clock: () => Date;

  constructor(private readonly opts: WebhookNotifierOptions) {
    this.#targets = new Map(opts.targets.map((t) => [t.name, t]));
    this.#clock = opts.clock ?? (() => new Date());
  }

  /** Delivers what an earlier run left in the outbox. */
  async start(): Promise<void> {
    for (const name of await this.opts.outbox.pendingTargets()) {
      if (this.#targets.has(name)) this.#kick(name);
      else this.opts.logger.warn({ target: name }, 'alerts queued for a webhook no longer configured stay undelivered');
    }
  }

  /** Queues a change for every target (in the order changes arrive) and sends it at once. */
  notify(change: IncidentChange): Promise<void> {
    if (this.#targets.size === 0) return Promise.resolve();
    const body = JSON.stringify(alertBody(change, this.opts.gateway));
    const eventId = alertEventId(change);
    this.#enqueued = this.#enqueued.then(async () => {
      for (const target of this.#targets.values()) {
        try {
          await this.opts.outbox.enqueue({ eventId, target: target.name, body, createdAt: this.#clock().toISOString() });
        } catch (err) {
          this.opts.logger.error({ err, target: target.name, eventId }, 'could not queue an alert');
        }
        this.#kick(target.name);
      }
    });
    return this.#enqueued;
  }

  /**
   * Queues an event that is not an incident change (e.g. a signed recording `checkpoint`,
   * so receivers keep a witness copy) for every target, in order with the alerts.
   */
  event(e: { kind: string; id: string | null; eventId: string; at: string; details: Record<string, unknown> }): Promise<void> {
    if (this.#targets.size === 0) return Promise.resolve();
    const body = JSON.stringify({ eventId: e.eventId, gateway: this.opts.gateway, id: e.id, kind: e.kind, at: e.at, details: e.details });
    this.#enqueued = this.#enqueued.then(async () => {
      for (const target of this.#targets.values()) {
        await this.opts.outbox
          .enqueue({ eventId: e.eventId, target: target.name, body, createdAt: this.#clock().toISOString() })
          .catch((err: unknown) =>
            this.opts.logger.error({ err, target: target.name, eventId: e.eventId }, `could not queue a ${e.kind} event`),
          );
        this.#kick(target.name);
      }
    });
    return this.#enqueued;
  }

  async close(): Promise<void> {
    this.#abort.abort();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#enqueued;
    await Promise.all(this.#running.values());
  }

  #kick(name: string): void {
    if (this.#abort.signal.aborted) return;
    const timer = this.#timers.get(name);
    if (timer) clearTimeout(timer);
    this.#timers.delete(name);
    if (this.#running.has(name)) {
      this.#again.add(name);
      return;
    }
    const run = this.#drain(name)
      .catch((err: unknown) => this.opts.logger.error({ err, target: name }, 'alert delivery loop failed'))
      .finally(() => {
        this.#running.delete(name);
        if (this.#again.delete(name)) this.#kick(name);
      });
    this.#running.set(name, run);
  }

  #later(name: string, ms: number): void {
    if (this.#abort.signal.aborted) return;
    const timer = setTimeout(() => {
      this.#timers.delete(name);
      this.#kick(name);
    }, ms);
    timer.unref();
    this.#timers.set(name, timer);
  }

  async #drain(name: string): Promise<void> {
    const target = this.#targets.get(name);
    if (target === undefined) return;
    while (!this.#abort.signal.aborted) {
      const entry = await this.opts.outbox.oldestPending(name);
      if (entry === undefined) return;
      const wait = Date.parse(entry.nextAttemptAt) - this.#clock().getTime();
      if (wait > 0) return this.#later(name, wait);
      const error = await this.#post(target, entry);
      if (error === null) {
        await this.opts.outbox.markDelivered(entry.id, this.#clock().toISOString());
        this.opts.logger.info({ target: name, eventId: entry.eventId, attempts: entry.attempts + 1 }, 'alert delivered');
        continue;
      }
      if (this.#abort.signal.aborted) return;
      const delay = backoffDelay(entry.attempts + 1, { ...this.opts.retry, factor: 2, jitter: 0.2 });
      await this.opts.outbox.markFailed(entry.id, error, new Date(this.#clock().getTime() + delay).toISOString());
      this.opts.logger.warn(
        { target: name, eventId: entry.eventId, attempt: entry.attempts + 1, retryInMs: delay, error },
        'alert delivery failed; retrying',
      );
      return this.#later(name, delay);
    }
  }

  /** One attempt; null when the receiver took it (2xx), else why not. */
  async #post(target: WebhookTarget, entry: OutboxEntry): Promise<string | null> {
    const timestamp = String(Math.floor(this.#clock().getTime() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'psv-gateway',
      [EVENT_ID_HEADER]: entry.eventId,
      [TIMESTAMP_HEADER]: timestamp,
    };
    if (target.secret !== undefined) headers[SIGNATURE_HEADER] = signAlert(target.secret, timestamp, entry.body);
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers,
        body: entry.body,
        signal: AbortSignal.any([AbortSignal.timeout(target.timeoutMs), this.#abort.signal]),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok ? null : `HTTP ${res.status} from ${redactUrl(target.url)}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return `${cause ?? (err instanceof Error ? err.name : 'error')} reaching ${redactUrl(target.url)}`;
    }
  }
}
