/**
 * The access register service: every view, copy, export and platform play of footage
 * becomes one register row (and one audit entry) when it ends. Callers say what they know
 * (who by user id or name, under which request, which cameras, bytes); the register fills
 * in the regulations' fields from the user and the request: recorder (the approver),
 * retriever (the user and the request's staff), purpose, destination, the exemption's
 * article.
 *
 * Rows are written once, whole, at the end (start, end and bytes together), so the store
 * never updates one. Running retrievals are held in memory and listed as `ongoing`; the
 * audit chain already has each grant. Closing the register writes the running ones.
 */
import type { JurisdictionProfile } from '../config/index.js';
import {
  GATEWAY_RECORDER,
  type NewRegisterEntry,
  type RegisterEntry,
  type RegisterMethod,
  type RegisterRetriever,
} from '../domain/index.js';
import type { Logger } from '../log.js';
import type { RegisterQuery, Store } from '../store/index.js';

type Time = Date | string;

/** One retrieval as a caller (an export job, a playback route) knows it. */
export interface RetrievalRecord {
  method: RegisterMethod;
  tier: 'raw' | 'shared';
  /** The retrieving user, by id (play tokens carry it) or username; neither: the gateway itself (a platform push). */
  userId?: string | null;
  username?: string | null;
  /** The access request it ran under; null on the raw tier: the profile's exemption. */
  requestId?: string | null;
  cameraIds: readonly string[];
  startedAt: Time;
  endedAt: Time;
  /** The footage retrieved; live footage: the retrieval's own span (the default). */
  footageFrom?: Time;
  footageTo?: Time;
  bytes: number;
  /** Overrides the request's destination (a platform push names its target). */
  destination?: string | null;
  protocol?: string | null;
  clientAddress?: string | null;
}

/** A retrieval still running: its bytes are read when it ends. */
export type OpenRetrieval = Omit<RetrievalRecord, 'endedAt' | 'bytes'> & { bytes: () => number };

/** A running retrieval as the register lists it. */
export type OngoingEntry = Omit<NewRegisterEntry, 'endedAt'> & { endedAt: null; ongoing: true };

/** One live play of the media server (see media's PlayObserver); `reader`: the platform target a push relays to. */
export interface LivePlay {
  id: string;
  cameraId: string;
  tier: 'raw' | 'shared';
  protocol: string;
  clientAddress: string;
  userId: string | null;
  requestId: string | null;
  reader: string | null;
  bytes: () => number;
}

export interface AccessRegisterOptions {
  store: Store;
  profile: JurisdictionProfile;
  logger: Logger;
  /** An HTTP retrieval (HLS) with no fetch for this long has ended. */
  idleMs: number;
  /**
   * A platform push whose relay has not read again for this long has ended. A relay
   * reconnects after each failure (up to its restart backoff): its reads until then are
   * one retrieval, so a target that keeps failing is one row, not one per retry.
   */
  pushLingerMs: number;
  now?: () => number;
}

interface Running {
  retrieval: OpenRetrieval;
  /** HTTP retrievals and pushes between reads: when it was last seen (ms), from which idleness counts. */
  lastSeenMs: number | null;
  /** The bytes of the fetches (HTTP) or of the relay's finished reads (push). */
  fetchedBytes: number;
  /** A push: the byte counter of the relay's read now running. */
  current?: (() => number) | null;
  /** How long it may go unseen before it has ended (default: idleMs). */
  idleMs?: number;
}

const SWEEP_MS = 1000;

export class AccessRegister {
  readonly #o: AccessRegisterOptions;
  readonly #now: () => number;
  readonly #running = new Map<string, Running>();
  /** Live play id → the key of the retrieval it belongs to (a push's reads share one). */
  readonly #playKeys = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: AccessRegisterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  start(): this {
    this.#timer = setInterval(() => this.#endIdle(), SWEEP_MS);
    this.#timer.unref();
    return this;
  }

  /** Writes the running retrievals (the gateway stops: they end now) and waits for pending writes. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const key of [...this.#running.keys()]) this.end(key);
    await Promise.all([...this.#pending]);
  }

  /** Registers a finished retrieval (an export, a copy): one row and one audit entry, in one transaction. */
  async record(r: RetrievalRecord): Promise<RegisterEntry> {
    const entry = await this.#resolve(r, iso(r.endedAt));
    return this.#o.store.transaction(async (tx) => {
      const row = await tx.accessRegister.insert(entry);
      await tx.audit.append({
        at: new Date(this.#now()).toISOString(),
        actor: row.retriever.username ?? GATEWAY_RECORDER,
        action: 'register.record',
        cameraId: row.cameraIds[0] ?? null,
        outcome: 'ok',
        // The row's id and what identifies the retrieval; staff names and credential numbers stay in the register.
        details: {
          registerId: row.id,
          method: row.method,
          tier: row.tier,
          requestId: row.requestId,
          exemption: row.exemption,
          cameraIds: row.cameraIds,
          startedAt: row.startedAt,
          endedAt: row.endedAt,
          bytes: row.bytes,
        },
      });
      return row;
    });
  }

  /** Stored rows of the period, and the retrievals running now that overlap it. */
  async list(query: RegisterQuery = {}): Promise<{ items: RegisterEntry[]; ongoing: OngoingEntry[] }> {
    const items = await this.#o.store.accessRegister.list(query);
    const ongoing: OngoingEntry[] = [];
    for (const { retrieval } of this.#running.values()) {
      if (query.cameraId !== undefined && !retrieval.cameraIds.includes(query.cameraId)) continue;
      if (query.to !== undefined && iso(retrieval.startedAt) > query.to) continue;
      const entry = await this.#resolve({ ...retrieval, endedAt: new Date(this.#now()), bytes: retrieval.bytes() }, null);
      ongoing.push({ ...entry, endedAt: null, ongoing: true });
    }
    return { items, ongoing };
  }

  /** A retrieval starts (a live play): it is written when `end` is called with the same key. */
  begin(key: string, retrieval: OpenRetrieval): void {
    this.#running.set(key, { retrieval, lastSeenMs: null, fetchedBytes: 0 });
  }

  /** The retrieval ends now: its row is written (errors are logged: the play itself is over). */
  end(key: string): void {
    const running = this.#running.get(key);
    if (running === undefined) return;
    this.#running.delete(key);
    const endedAt = new Date(running.lastSeenMs ?? this.#now());
    this.#write({ ...running.retrieval, endedAt, bytes: running.retrieval.bytes() });
  }

  /**
   * An HTTP retrieval (HLS playlist or segment) under one token: the fetches of a key add up
   * to one retrieval, which ends once no fetch came for `idleMs`.
   */
  fetched(key: string, retrieval: Omit<OpenRetrieval, 'bytes'>, bytes: number): void {
    let running = this.#running.get(key);
    if (running === undefined) {
      const fresh: Running = { retrieval: { ...retrieval, bytes: () => fresh.fetchedBytes }, lastSeenMs: null, fetchedBytes: 0 };
      this.#running.set(key, fresh);
      running = fresh;
    }
    running.lastSeenMs = this.#now();
    running.fetchedBytes += bytes;
  }

  /** The media server's play observer: live views and platform pushes. */
  readonly livePlays = {
    started: (play: LivePlay): void => {
      if (play.reader !== null) return this.#pushRead(play, play.reader);
      this.begin(play.id, {
        method: 'view_live',
        tier: play.tier,
        userId: play.userId,
        requestId: play.requestId,
        cameraIds: [play.cameraId],
        startedAt: new Date(this.#now()),
        destination: null,
        protocol: play.protocol,
        clientAddress: play.clientAddress,
        bytes: play.bytes,
      });
    },
    ended: (id: string): void => {
      const key = this.#playKeys.get(id);
      if (key === undefined) return this.end(id);
      this.#playKeys.delete(id);
      const running = this.#running.get(key);
      if (running?.current == null) return;
      // The relay's read ended: its bytes are kept, and the push lingers until it reads again or its time is up.
      running.fetchedBytes += running.current();
      running.current = null;
      running.lastSeenMs = this.#now();
    },
  };

  /** A push relay reads the shared tier: a new retrieval, or the next read of one that lingers. */
  #pushRead(play: LivePlay, reader: string): void {
    const key = `push|${play.cameraId}|${reader}`;
    this.#playKeys.set(play.id, key);
    const lingering = this.#running.get(key);
    if (lingering !== undefined) {
      lingering.current = play.bytes;
      lingering.lastSeenMs = null;
      return;
    }
    const running: Running = {
      retrieval: {
        method: 'platform_play',
        tier: play.tier,
        userId: play.userId,
        requestId: play.requestId,
        cameraIds: [play.cameraId],
        startedAt: new Date(this.#now()),
        destination: reader,
        protocol: play.protocol,
        clientAddress: null,
        bytes: () => running.fetchedBytes + (running.current?.() ?? 0),
      },
      lastSeenMs: null,
      fetchedBytes: 0,
      current: play.bytes,
      idleMs: this.#o.pushLingerMs,
    };
    this.#running.set(key, running);
  }

  #endIdle(): void {
    const now = this.#now();
    for (const [key, running] of this.#running) {
      if (running.lastSeenMs !== null && now - running.lastSeenMs >= (running.idleMs ?? this.#o.idleMs)) this.end(key);
    }
  }

  #write(r: RetrievalRecord): void {
    const done = this.record(r).then(
      () => undefined,
      (err: unknown) =>
        this.#o.logger.error(
          { err, method: r.method, cameraIds: r.cameraIds, requestId: r.requestId ?? null },
          'could not write an access register row',
        ),
    );
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
  }

  /** The row of a retrieval: who, under what, for what, from the user and request records. */
  async #resolve(r: RetrievalRecord, endedAt: string | null): Promise<NewRegisterEntry> {
    const { store, profile } = this.#o;
    const user =
      r.userId != null ? await store.users.get(r.userId) : r.username != null ? await store.users.byUsername(r.username) : undefined;
    const request = r.requestId != null ? await store.accessRequests.get(r.requestId) : undefined;
    const retriever: RegisterRetriever = {
      username: user?.username ?? r.username ?? null,
      displayName: user?.displayName ?? null,
      unit: user?.unit ?? null,
      credentialNo: user?.credentialNo ?? null,
      staff: request?.staff ?? [],
    };
    const startedAt = iso(r.startedAt);
    const end = endedAt ?? iso(r.endedAt);
    // Unmasked footage without a request was played under the profile's exemption (the token names no request).
    const exempt = r.tier === 'raw' && r.requestId == null && retriever.username !== null;
    return {
      method: r.method,
      tier: r.tier,
      recorder: request?.decidedBy ?? GATEWAY_RECORDER,
      retriever,
      startedAt,
      endedAt: end,
      purpose: request?.purpose ?? null,
      destination: r.destination ?? request?.destination ?? null,
      cameraIds: [...r.cameraIds],
      footageFrom: r.footageFrom === undefined ? startedAt : iso(r.footageFrom),
      footageTo: r.footageTo === undefined ? end : iso(r.footageTo),
      bytes: r.bytes,
      requestId: r.requestId ?? null,
      exemption: exempt ? profile.viewWithoutApproval.source : null,
      protocol: r.protocol ?? null,
      clientAddress: r.clientAddress ?? null,
    };
  }
}

function iso(t: Time): string {
  return typeof t === 'string' ? new Date(t).toISOString() : t.toISOString();
}
