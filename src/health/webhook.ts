import { createHash, createHmac } from 'node:crypto';
import type { GatewayConfig } from '../config/index.js';
import { redactUrl, type Logger } from '../log.js';
import { backoffDelay } from '../backoff.js';
import type { AlertOutboxRepository, DeliveryFailure, OutboxEntry } from '../store/index.js';
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
  /** Refusals (4xx other than 408/429) before an alert becomes a dead letter; 8 by default. */
  maxRejections?: number;
  /** Days delivered alerts and dead letters are kept before pruning; 30 by default. */
  retentionDays?: number;
  /** How often the outbox is pruned; hourly by default. */
  pruneEveryMs?: number;
  /** Called once per alert given up on. */
  onDeadLetter?: (entry: OutboxEntry, failure: DeliveryFailure) => void;
  /** Called after each pruning, with the dead letters left per target. */
  onPruned?: (deadLetters: Record<string, number>) => void;
}

/** An alert not yet in the outbox (the store refused the write). */
type HeldAlert = { eventId: string; target: string; body: string; createdAt: string };

type Attempt = { ok: true } | { ok: false; failure: DeliveryFailure; rejected: boolean };

const DAY_MS = 86_400_000;
/** Alerts kept in memory while the store refuses writes; beyond, the oldest are dropped (and logged). */
const HELD_MAX = 10_000;
/** Bytes of a refusing receiver's answer kept with the entry. */
const RESPONSE_EXCERPT = 500;

/** A refusal of this very alert, not a passing trouble of the receiver (408 timeout, 429 slow down). */
export function isRejection(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Webhook alerts through an outbox in the store: each change is written there first, then
 * POSTed; a failed delivery is retried with exponential backoff, also after a gateway
 * restart. Each target gets its changes in order, one at a time (a resolution never
 * overtakes its firing) while its receiver is unreachable or failing (5xx, timeouts, 408,
 * 429). An alert the receiver refuses (other 4xx) is set aside: retried on its own backoff
 * without holding up the next ones, and after `maxRejections` refusals kept as a dead
 * letter. When the store cannot take the write (a full disk), the alert is held in memory
 * and written, then delivered, once it can. A receiver that answered but whose answer was
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
  readonly #held: HeldAlert[] = [];
  #heldTimer: NodeJS.Timeout | null = null;
  #heldRetries = 0;
  #pruneTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: WebhookNotifierOptions) {
    this.#targets = new Map(opts.targets.map((t) => [t.name, t]));
    this.#clock = opts.clock ?? (() => new Date());
  }

  /** Alerts held in memory because the store refused to write them. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Delivers what an earlier run left in the outbox, and starts pruning it. */
  async start(): Promise<void> {
    for (const name of await this.opts.outbox.pendingTargets()) {
      if (this.#targets.has(name)) this.#kick(name);
      else this.opts.logger.warn({ target: name }, 'alerts queued for a webhook no longer configured stay undelivered');
    }
    await this.prune();
    this.#pruneTimer = setInterval(() => void this.prune(), this.opts.pruneEveryMs ?? 3_600_000);
    this.#pruneTimer.unref();
  }

  /** Queues a change for every target (in the order changes arrive) and sends it at once. */
  notify(change: IncidentChange): Promise<void> {
    return this.enqueue(alertEventId(change), JSON.stringify(alertBody(change, this.opts.gateway)));
  }

  /** Queues a body for every target under its event ID (the receivers' idempotency key) and sends it at once. */
  enqueue(eventId: string, body: string): Promise<void> {
    if (this.#targets.size === 0) return Promise.resolve();
    const createdAt = this.#clock().toISOString();
    this.#enqueued = this.#enqueued.then(async () => {
      // Behind anything still held, so each target's order is kept.
      for (const target of this.#targets.values()) this.#hold({ eventId, target: target.name, body, createdAt });
      await this.#flushHeld();
    });
    return this.#enqueued;
  }

  /** Deletes delivered alerts and dead letters older than the retention; returns how many. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.#clock().getTime() - (this.opts.retentionDays ?? 30) * DAY_MS).toISOString();
    try {
      const pruned = await this.opts.outbox.prune({ deliveredBefore: cutoff, deadBefore: cutoff });
      if (pruned > 0) this.opts.logger.info({ pruned, before: cutoff }, 'alert outbox pruned');
      this.opts.onPruned?.(await this.opts.outbox.deadLetterCounts());
      return pruned;
    } catch (err) {
      this.opts.logger.error({ err }, 'could not prune the alert outbox; will try again');
      return 0;
    }
  }

  /**
   * Queues an event that is not an incident change (e.g. a signed recording `checkpoint`,
   * so receivers keep a witness copy) for every target, in order with the alerts.
   */
  event(e: { kind: string; id: string | null; eventId: string; at: string; details: Record<string, unknown> }): Promise<void> {
    const body = JSON.stringify({ eventId: e.eventId, gateway: this.opts.gateway, id: e.id, kind: e.kind, at: e.at, details: e.details });
    return this.enqueue(e.eventId, body);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    if (this.#heldTimer) clearTimeout(this.#heldTimer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    await this.#enqueued;
    await Promise.all(this.#running.values());
    if (this.#held.length > 0) this.opts.logger.error({ held: this.#held.length }, 'alerts the store never took are lost at shutdown');
  }

  #hold(alert: HeldAlert): void {
    this.#held.push(alert);
    if (this.#held.length <= HELD_MAX) return;
    const dropped = this.#held.shift();
    this.opts.logger.error(
      { target: dropped?.target, eventId: dropped?.eventId, held: HELD_MAX },
      'too many alerts held in memory; dropped the oldest',
    );
  }

  /** Writes the held alerts to the outbox in order; on a refused write, tries again later. */
  async #flushHeld(): Promise<void> {
    while (this.#held.length > 0) {
      const alert = this.#held[0] as HeldAlert;
      try {
        await this.opts.outbox.enqueue(alert);
      } catch (err) {
        const delay = backoffDelay(++this.#heldRetries, { ...this.opts.retry, factor: 2, jitter: 0.2 });
        this.opts.logger.error(
          { err, target: alert.target, eventId: alert.eventId, held: this.#held.length, retryInMs: delay },
          'could not queue an alert; holding it in memory until the store takes writes again',
        );
        this.#retryHeld(delay);
        return;
      }
      this.#held.shift();
      if (this.#heldRetries > 0) this.opts.logger.info({ target: alert.target, eventId: alert.eventId }, 'held alert queued');
      this.#kick(alert.target);
    }
    this.#heldRetries = 0;
  }

  #retryHeld(ms: number): void {
    if (this.#abort.signal.aborted || this.#heldTimer !== null) return;
    this.#heldTimer = setTimeout(() => {
      this.#heldTimer = null;
      this.#enqueued = this.#enqueued.then(() => this.#flushHeld());
    }, ms);
    this.#heldTimer.unref();
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

  /** Wakes the target's loop when its queue's head (if any) or a refused alert is due. */
  async #later(name: string, head: OutboxEntry | undefined): Promise<void> {
    const rejected = await this.opts.outbox.nextRejectedAt(name);
    const times = [head?.nextAttemptAt, rejected].filter((t) => t !== undefined).map((t) => Date.parse(t));
    if (times.length === 0 || this.#abort.signal.aborted) return;
    const timer = setTimeout(
      () => {
        this.#timers.delete(name);
        this.#kick(name);
      },
      Math.max(0, Math.min(...times) - this.#clock().getTime()),
    );
    timer.unref();
    this.#timers.set(name, timer);
  }

  #backoff(attempt: number): string {
    const delay = backoffDelay(attempt, { ...this.opts.retry, factor: 2, jitter: 0.2 });
    return new Date(this.#clock().getTime() + delay).toISOString();
  }

  async #drain(name: string): Promise<void> {
    const target = this.#targets.get(name);
    if (target === undefined) return;
    const { outbox, logger } = this.opts;
    while (!this.#abort.signal.aborted) {
      const now = this.#clock();
      // A refused alert whose retry is due goes first; otherwise the queue's head, in order.
      const head = await outbox.oldestPending(name);
      const entry = (await outbox.dueRejected(name, now.toISOString())) ?? head;
      if (entry === undefined || Date.parse(entry.nextAttemptAt) > now.getTime()) return this.#later(name, head);
      const attempt = await this.#post(target, entry);
      if (attempt.ok) {
        await outbox.markDelivered(entry.id, this.#clock().toISOString());
        logger.info({ target: name, eventId: entry.eventId, attempts: entry.attempts + 1 }, 'alert delivered');
        continue;
      }
      if (this.#abort.signal.aborted) return;
      const { failure } = attempt;
      const log = { target: name, eventId: entry.eventId, attempt: entry.attempts + 1, error: failure.error };
      if (!attempt.rejected) {
        // The receiver is down or overloaded: everything behind waits, in order.
        await outbox.markFailed(entry.id, failure, this.#backoff(entry.attempts + 1));
        logger.warn(log, 'alert delivery failed; retrying');
        return this.#later(name, await outbox.oldestPending(name));
      }
      const rejections = entry.rejections + 1;
      if (rejections >= (this.opts.maxRejections ?? 8)) {
        await outbox.markDead(entry.id, failure, this.#clock().toISOString());
        logger.error({ ...log, rejections, response: failure.response }, 'alert refused too often by its receiver; kept as a dead letter');
        this.opts.onDeadLetter?.(entry, failure);
      } else {
        await outbox.markRejected(entry.id, failure, this.#backoff(rejections));
        logger.warn({ ...log, rejections }, 'alert refused by its receiver; retrying it without holding up the next ones');
      }
    }
  }

  /** One attempt: taken (2xx), refused (a 4xx other than 408/429) or failed. */
  async #post(target: WebhookTarget, entry: OutboxEntry): Promise<Attempt> {
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
      const answer = await res.arrayBuffer().catch(() => new ArrayBuffer(0));
      if (res.ok) return { ok: true };
      const response = Buffer.from(answer).subarray(0, RESPONSE_EXCERPT).toString('utf8');
      return {
        ok: false,
        rejected: isRejection(res.status),
        failure: { error: `HTTP ${res.status} from ${redactUrl(target.url)}`, status: res.status, response },
      };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const error = `${cause ?? (err instanceof Error ? err.name : 'error')} reaching ${redactUrl(target.url)}`;
      return { ok: false, rejected: false, failure: { error, status: null, response: null } };
    }
  }
}
