import { performance } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { isDatabaseUnreachable, type ClusterNodeRecord, type ClusterRepository, type Store, type StoreTx } from '../store/index.js';
import { placeCameras, type PlacementCamera } from './placement.js';

/** Heartbeat and lease times; see docs/cluster.md for the margins between them. */
export interface ClusterTimings {
  /** How often a node beats, renews its leases and reconsiders the placement. */
  heartbeatMs: number;
  /** How long a lease lasts after its last renewal (database time). */
  leaseMs: number;
  /**
   * A node that has not renewed for `leaseMs - stopMarginMs` (its own monotonic clock,
   * counted from when the last successful renewal was sent) stops every camera: the
   * margin is the time it has to stop them before the lease can be granted elsewhere.
   */
  stopMarginMs: number;
  /**
   * While the database itself cannot be reached (nobody can claim anything then), the cameras keep
   * recording past the self-stop for up to this long; then they stop as for a lost lease. 0: never.
   */
  databaseOutageMaxMs?: number;
}

export const DEFAULT_TIMINGS: ClusterTimings = { heartbeatMs: 1000, leaseMs: 6000, stopMarginMs: 2500, databaseOutageMaxMs: 300_000 };

/** Cameras claimed per statement. */
export const CLAIM_BATCH = 200;

export interface ClusterNodeDeps {
  name: string;
  /** Where this node's API answers (listed in GET /api/v1/nodes). */
  apiUrl: string | null;
  /** Where this node's media server answers viewers (`http://host:port`): other nodes hand it out for its cameras. */
  mediaUrl?: string | null;
  weight: number;
  repo: ClusterRepository;
  /** The cameras in service, with their cost. */
  cameras: () => Promise<PlacementCamera[]>;
  timings?: ClusterTimings;
  logger: Logger;
  /** Monotonic milliseconds. */
  clock?: () => number;
}

/** What the node does with its cameras as leases come and go (app.ts wires the pipelines). */
export interface LeaseHandlers {
  /** A lease was taken: start the camera. */
  acquired(cameraId: string): void;
  /** A lease is lost (expired, taken over, a write refused): stop the camera at once. */
  lost(cameraId: string): void;
  /** Before a lease is given up: stop the camera and index what it recorded. */
  releasing(cameraId: string): Promise<void>;
  /** The lease was given up: what remains of the camera here (its incidents) ends. */
  released(cameraId: string): void;
}

/** Other leases kept on this node's heartbeat and watchdog (the platform links: linkLease.ts). */
export interface BeatTask {
  /** At every heartbeat, after the camera leases' renewal has been sent; never two at once. */
  beat(): Promise<void>;
  /** At every watchdog tick (a quarter heartbeat), without the database. */
  watch(): void;
}

/** One node's view of a node of the cluster (GET /api/v1/nodes). */
export interface NodeView {
  name: string;
  alive: boolean;
  cameraIds: string[];
  cordoned: boolean;
  draining: boolean;
  lastSeen: string;
  weight: number;
  apiUrl: string | null;
  mediaUrl: string | null;
}

/** Where a camera runs now, as the leases have it. */
export type CameraPlace =
  | { node: string; here: boolean; mediaUrl: string | null }
  /** No valid lease: `lastNode` held it last (dead, or handing it over); null when never claimed. */
  | { node: null; lastNode: string | null; lastNodeAlive: boolean };

/**
 * This node's membership of the cluster: heartbeats, lease claims, renewals and releases
 * in PostgreSQL (timed by the database), the placement each beat, and the owner rule the
 * reconciler asks. A watchdog on the node's own monotonic clock stops every camera when
 * renewals have failed long enough for a lease to be at risk, even while the database
 * does not answer at all.
 */
export class ClusterNode {
  readonly name: string;
  readonly #deps: ClusterNodeDeps;
  readonly #t: ClusterTimings;
  readonly #clock: () => number;
  /** Camera → fencing epoch of the leases this node holds. */
  readonly #held = new Map<string, number>();
  #handlers: LeaseHandlers | null = null;
  #lastRenewSent: number;
  #renewFailures = 0;
  #leasesLost = 0;
  #lastNodes: ClusterNodeRecord[] = [];
  /** Camera released by this node, not yet claimed elsewhere: the next release waits for it (one move at a time). */
  #handingOver: { cameraId: string; since: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #watchdog: NodeJS.Timeout | null = null;
  #renewing: Promise<void> | null = null;
  #placing: Promise<void> | null = null;
  #closed = false;
  /** Monotonic time of the first renewal that failed because the database could not be reached; null while it answers. */
  #dbDownSince: number | null = null;
  /** Set while the cameras keep recording past the self-stop because the database is unreachable. */
  #recordingLocally = false;
  /** When the renewal age was last checked: a long pause between checks means this node's own loop stalled. */
  #lastCheck: number;
  /** The time between the last two renewal-age checks: longer than the stop margin means this node's loop stalled. */
  #lastGap = 0;
  /** After an outage, other nodes' expired leases are left to their owners to renew until then. */
  #claimGraceUntil = 0;
  /** Writes waiting for the next successful renewal (queued while the database was unreachable). */
  #waiters: { cameraId: string; resolve: (held: boolean) => void }[] = [];
  readonly #tasks: Array<{ task: BeatTask; running: boolean }> = [];

  constructor(deps: ClusterNodeDeps) {
    this.#deps = deps;
    this.name = deps.name;
    this.#t = deps.timings ?? DEFAULT_TIMINGS;
    this.#clock = deps.clock ?? (() => performance.now());
    this.#lastRenewSent = this.#clock();
    this.#lastCheck = this.#lastRenewSent;
  }

  /** The reconciler's owner rule: a camera runs here while this node holds its lease. */
  readonly owns = (camera: { id: string }): boolean => this.#held.has(camera.id);

  /** The fencing epoch of a held lease; undefined when not held. */
  epochOf(cameraId: string): number | undefined {
    return this.#held.get(cameraId);
  }

  ownedCameras(): string[] {
    return [...this.#held.keys()].sort();
  }

  /** Inside the transaction of a write only the owner may make: true while this node still holds the lease. */
  async fence(tx: StoreTx, cameraId: string): Promise<boolean> {
    const epoch = this.#held.get(cameraId);
    return epoch !== undefined && (await tx.cluster.fence(cameraId, this.name, epoch));
  }

  /**
   * A write only the owner may make, in a transaction of its own behind the fence, waiting out a
   * database outage (`retryUnreachable`); undefined when the fence refuses it or the lease is gone.
   */
  async fencedWrite<T>(store: Pick<Store, 'transaction'>, cameraId: string, work: (tx: StoreTx) => Promise<T>): Promise<T | undefined> {
    const done = await this.retryUnreachable(cameraId, () =>
      store.transaction(async (tx) => ((await this.fence(tx, cameraId)) ? work(tx) : undefined)),
    );
    return done?.value;
  }

  /**
   * A write only the owner may make found the database unreachable: resolves once a renewal has succeeded again,
   * true while this node still holds the camera's lease (retry the write under it), false once it does not.
   */
  whenRenewed(cameraId: string): Promise<boolean> {
    if (this.#closed || !this.#held.has(cameraId)) return Promise.resolve(false);
    return new Promise((resolve) => this.#waiters.push({ cameraId, resolve }));
  }

  /**
   * Runs a write only the owner may make (its own fence inside). When it finds the database unreachable it waits
   * for the lease to be renewed and runs again, in the caller's order; null once the lease is gone by then (the
   * write was not made). `key` names the lease (a camera; a link with its own `renewed` and `logAs`).
   */
  async retryUnreachable<T>(
    key: string,
    write: () => Promise<T>,
    renewed: (key: string) => Promise<boolean> = (k) => this.whenRenewed(k),
    logAs: Record<string, string> = { cameraId: key },
  ): Promise<{ value: T } | null> {
    for (let waited = false; ;) {
      try {
        const value = await write();
        if (waited) this.#deps.logger.info({ ...logAs, node: this.name }, 'a write queued while the database was unreachable is written');
        return { value };
      } catch (err) {
        if (!isDatabaseUnreachable(err)) throw err;
        if (!waited)
          this.#deps.logger.warn({ ...logAs, node: this.name }, 'database unreachable: a write waits until the lease is renewed');
        waited = true;
        if (!(await renewed(key))) return null;
      }
    }
  }

  /** The database has not answered since (monotonic ms), or null; and whether the cameras record on regardless. */
  databaseState(): { unreachableForMs: number | null; recordingLocally: boolean } {
    return {
      unreachableForMs: this.#dbDownSince === null ? null : this.#clock() - this.#dbDownSince,
      recordingLocally: this.#recordingLocally,
    };
  }

  /**
   * The rule for leases past their self-stop: true while they may run on because renewals found the database itself
   * unreachable (nobody can claim then), this node's loop kept running (checked when they first pass it, `riding`
   * false) and the outage is within `databaseOutageMaxMs`; a lease already `riding` on is kept for a lease time after
   * the database answers again (its own renewal follows at the next beat). The cameras and the platform links use it.
   */
  keepsThroughOutage(riding: boolean): boolean {
    const now = this.#clock();
    if (this.#dbDownSince === null) return riding && now < this.#claimGraceUntil;
    const maxMs = this.#t.databaseOutageMaxMs ?? DEFAULT_TIMINGS.databaseOutageMaxMs ?? 0;
    const down = now - this.#dbDownSince;
    return riding ? down <= maxMs : this.#lastGap < this.#t.stopMarginMs && down < maxMs;
  }

  /** Just after an outage this node leaves other nodes' expired leases to their owners (a lease time). */
  inClaimGrace(): boolean {
    return this.#clock() < this.#claimGraceUntil;
  }

  /** Whether this node is draining, and whether another live node takes what it hands over (neither cordoned nor draining), as last read. */
  drainState(): { draining: boolean; othersAccept: boolean } {
    const me = this.#lastNodes.find((n) => n.name === this.name);
    const othersAccept = this.#lastNodes.some((n) => n.name !== this.name && n.alive && !n.cordoned && !n.draining);
    return { draining: me?.draining ?? false, othersAccept };
  }

  /** A write was refused by the fence: the lease is gone, the camera stops here at once. */
  refused(cameraId: string): void {
    if (!this.#held.has(cameraId)) return;
    this.#deps.logger.warn({ cameraId, node: this.name }, 'a write was refused by the lease fence: stopping the camera here');
    this.#drop(cameraId);
  }

  /**
   * Beats and claims once (before the pipelines start, so the first reconciliation sees the
   * owned cameras), then keeps beating and renewing on the timer; until `run` the beats
   * claim and release nothing, so no lease changes while the gateway is still starting.
   */
  async join(): Promise<void> {
    await this.#tick(true);
    this.#timer = setInterval(() => void this.#beat(), this.#t.heartbeatMs);
    this.#watchdog = setInterval(
      () => {
        this.#checkRenewalAge();
        for (const t of this.#tasks) t.task.watch();
      },
      Math.max(100, Math.floor(this.#t.heartbeatMs / 4)),
    );
  }

  /** Runs `task` on this node's heartbeat and watchdog from the next beat on (until close). */
  keepOnBeat(task: BeatTask): void {
    this.#tasks.push({ task, running: false });
  }

  /** This node's monotonic clock (milliseconds) and lease timings, for the leases kept on its beat. */
  now(): number {
    return this.#clock();
  }

  get timings(): ClusterTimings {
    return this.#t;
  }

  /** True when a renewal sent at `sentAt` (this node's clock) is too old to keep acting on its leases: stop now. */
  renewalOverdue(sentAt: number): boolean {
    return this.#clock() - sentAt > this.#t.leaseMs - this.#t.stopMarginMs;
  }

  /** From now on lease changes reach `handlers` and the beats place the cameras. */
  run(handlers: LeaseHandlers): void {
    this.#handlers = handlers;
  }

  /** Every node with the cameras it holds, as the database has it now. */
  async nodes(): Promise<NodeView[]> {
    const [nodes, leases] = await Promise.all([this.#deps.repo.nodes(this.#t.leaseMs), this.#deps.repo.leases()]);
    return nodes.map((n) => ({
      name: n.name,
      alive: n.alive,
      cameraIds: leases.filter((l) => l.valid && l.owner === n.name).map((l) => l.cameraId),
      cordoned: n.cordoned,
      draining: n.draining,
      lastSeen: n.lastSeen,
      weight: n.weight,
      apiUrl: n.apiUrl,
      mediaUrl: n.mediaUrl,
    }));
  }

  /** The node whose lease runs the camera now, with its media URL; or who held it last. */
  async placeOf(cameraId: string): Promise<CameraPlace> {
    if (this.#held.has(cameraId)) return { node: this.name, here: true, mediaUrl: this.#deps.mediaUrl ?? null };
    const [nodes, leases] = await Promise.all([this.#deps.repo.nodes(this.#t.leaseMs), this.#deps.repo.leases()]);
    const lease = leases.find((l) => l.cameraId === cameraId);
    const node = nodes.find((n) => n.name === lease?.owner);
    if (lease?.valid && lease.owner !== null) return { node: lease.owner, here: false, mediaUrl: node?.mediaUrl ?? null };
    return { node: null, lastNode: lease?.owner ?? null, lastNodeAlive: node?.alive ?? false };
  }

  /** cordon: takes no new camera; drain: also hands its cameras over one by one; uncordon: back to normal. */
  async setState(name: string, action: 'cordon' | 'drain' | 'uncordon'): Promise<boolean> {
    const flags = { cordoned: action !== 'uncordon', draining: action === 'drain' };
    return this.#deps.repo.setNodeFlags(name, flags);
  }

  registerMetrics(registry: Registry): void {
    const registers = [registry];
    const owned = () => this.#held.size;
    const failures = () => this.#renewFailures;
    const lost = () => this.#leasesLost;
    const nodes = () => this.#lastNodes;
    const database = () => this.databaseState();
    new Gauge({
      name: 'psvgw_cluster_owned_cameras',
      help: 'Cameras whose lease this node holds.',
      registers,
      collect() {
        this.set(owned());
      },
    });
    new Counter({
      name: 'psvgw_cluster_lease_renew_failures_total',
      help: 'Heartbeats whose lease renewal failed (database unreachable or an error).',
      registers,
      collect() {
        this.reset();
        this.inc(failures());
      },
    });
    new Counter({
      name: 'psvgw_cluster_leases_lost_total',
      help: 'Leases this node lost without giving them up (expired, taken over, a write refused by the fence).',
      registers,
      collect() {
        this.reset();
        this.inc(lost());
      },
    });
    new Gauge({
      name: 'psvgw_cluster_database_unreachable_seconds',
      help: 'How long the database has not answered this node (0 while it answers).',
      registers,
      collect() {
        this.set((database().unreachableForMs ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'psvgw_cluster_recording_locally',
      help: '1 while the database is unreachable and this node keeps its cameras recording, their index writes queued.',
      registers,
      collect() {
        this.set(database().recordingLocally ? 1 : 0);
      },
    });
    new Gauge({
      name: 'psvgw_cluster_node_alive',
      help: '1 for each node whose heartbeat is recent, 0 for a silent one, as this node last read the nodes table.',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const n of nodes()) this.set({ node: n.name }, n.alive ? 1 : 0);
      },
    });
  }

  /** Stops beating and gives every lease up (the pipelines must be stopped first); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#watchdog !== null) clearInterval(this.#watchdog);
    await Promise.all([this.#renewing, this.#placing].map((p) => p?.catch(() => undefined)));
    for (const w of this.#waiters.splice(0)) w.resolve(false);
    for (const [cameraId, epoch] of [...this.#held]) {
      this.#held.delete(cameraId);
      await this.#deps.repo.release(this.name, cameraId, epoch).catch(() => undefined);
    }
  }

  /**
   * Renewal and placement run apart: a hand-over (stopping a camera, indexing its last
   * segment) may take seconds, and must never hold back the renewal of the other leases.
   */
  #beat(): void {
    if (this.#closed) return;
    // While the database is unreachable, one line when it starts and one when it ends, not one per beat.
    const log = (what: string) => (err: unknown) => {
      if (isDatabaseUnreachable(err) && this.#dbDownSince !== null && this.#dbDownSince < this.#clock() - this.#t.heartbeatMs) return;
      this.#deps.logger.error({ err, node: this.name }, what);
    };
    if (this.#renewing === null) {
      this.#renewing = this.#renew()
        .catch(log('cluster heartbeat failed'))
        .finally(() => (this.#renewing = null));
    }
    if (this.#placing === null && this.#handlers !== null) {
      this.#placing = this.#place()
        .catch(log('cluster placement failed'))
        .finally(() => (this.#placing = null));
    }
    for (const t of this.#tasks.filter((t) => !t.running)) {
      t.running = true;
      void t.task
        .beat()
        .catch(log('cluster lease task failed'))
        .finally(() => (t.running = false));
    }
  }

  #checkRenewalAge(): void {
    const now = this.#clock();
    this.#lastGap = now - this.#lastCheck;
    this.#lastCheck = now;
    if (this.#held.size === 0 || this.#closed) return;
    const age = now - this.#lastRenewSent;
    if (age <= this.#t.leaseMs - this.#t.stopMarginMs) return;
    const maxMs = this.#t.databaseOutageMaxMs ?? DEFAULT_TIMINGS.databaseOutageMaxMs ?? 0;
    const { logger } = this.#deps;
    if (!this.#recordingLocally) {
      // The cameras record on only when renewals found the database itself unreachable (then no node can claim
      // anything) and this node's loop kept running: a node that was frozen (SIGSTOP, a stalled loop) cannot tell
      // what happened meanwhile and stops as before.
      if (this.keepsThroughOutage(false)) {
        this.#recordingLocally = true;
        logger.warn(
          { node: this.name, sinceRenewalMs: Math.round(age), cameras: this.#held.size, maxOutageMs: maxMs },
          'database unreachable: the cameras keep recording here, their index writes queued until it answers',
        );
        return;
      }
      logger.error(
        { node: this.name, sinceRenewalMs: Math.round(age), cameras: this.#held.size },
        'leases not renewed in time: stopping every camera here before they can be granted elsewhere',
      );
    } else {
      if (this.keepsThroughOutage(true)) return;
      this.#recordingLocally = false;
      logger.error(
        { node: this.name, unreachableMs: Math.round(now - (this.#dbDownSince ?? now)), cameras: this.#held.size, maxOutageMs: maxMs },
        'database unreachable for longer than cluster.databaseOutageMaxSeconds: stopping every camera here',
      );
    }
    for (const cameraId of [...this.#held.keys()]) this.#drop(cameraId);
  }

  #drop(cameraId: string): void {
    if (!this.#held.delete(cameraId)) return;
    this.#leasesLost += 1;
    this.#settleWaiters(cameraId);
    this.#handlers?.lost(cameraId);
  }

  async #tick(first = false): Promise<void> {
    await this.#renew(first);
    if (this.#closed || (this.#handlers === null && !first)) return;
    await this.#place();
  }

  async #renew(first = false): Promise<void> {
    this.#checkRenewalAge();
    const { repo, logger } = this.#deps;
    const sent = this.#clock();
    // Only what was held when the renewal was sent can be judged by its answer (claims and releases run meanwhile).
    const before = new Map(this.#held);
    let renewed;
    try {
      await repo.beat({
        name: this.name,
        apiUrl: this.#deps.apiUrl,
        mediaUrl: this.#deps.mediaUrl ?? null,
        weight: this.#deps.weight,
        aliveMs: this.#t.leaseMs,
      });
      // The leases held, at their epochs (at the first beat: whatever this node name still owns).
      const held = first ? undefined : [...before].map(([cameraId, epoch]) => ({ cameraId, epoch }));
      renewed = held?.length === 0 ? [] : await repo.renew(this.name, this.#t.leaseMs, held);
    } catch (err) {
      this.#renewFailures += 1;
      if (isDatabaseUnreachable(err) && this.#dbDownSince === null) {
        this.#dbDownSince = sent;
        logger.warn({ node: this.name, cameras: this.#held.size }, 'database unreachable: lease renewals fail');
      }
      throw err;
    }
    this.#lastRenewSent = sent;
    if (this.#dbDownSince !== null) {
      logger.info(
        {
          node: this.name,
          unreachableMs: Math.round(sent - this.#dbDownSince),
          cameras: this.#held.size,
          recordedLocally: this.#recordingLocally,
        },
        'database reachable again: leases renewed, queued index writes follow',
      );
      // Other nodes' expired leases are left to their owners for a lease time: they renew them at their next beat.
      this.#claimGraceUntil = this.#clock() + this.#t.leaseMs;
      this.#dbDownSince = null;
      this.#recordingLocally = false;
    }
    const still = new Map(renewed.map((l) => [l.cameraId, l.epoch]));
    for (const [cameraId, epoch] of before) {
      if (still.get(cameraId) === epoch || this.#held.get(cameraId) !== epoch) continue;
      logger.warn({ cameraId, node: this.name, epoch }, 'camera lease lost: stopping the camera here');
      this.#drop(cameraId);
    }
    // Writes queued meanwhile go on under the renewed leases (or learn that theirs is gone).
    this.#settleWaiters();
    // At the first beat: leases this node name still holds from a run before a restart, its own, taken back.
    if (!first) return;
    for (const [cameraId, epoch] of still) {
      if (this.#held.has(cameraId)) continue;
      this.#held.set(cameraId, epoch);
      this.#handlers?.acquired(cameraId);
    }
  }

  async #place(): Promise<void> {
    const { repo, logger } = this.#deps;
    const [nodes, leases, cameras] = await Promise.all([repo.nodes(this.#t.leaseMs), repo.leases(), this.#deps.cameras()]);
    this.#lastNodes = nodes;
    const live = nodes.filter((n) => n.alive);
    const holders = new Map(leases.filter((l) => l.valid && l.owner !== null).map((l) => [l.cameraId, l.owner as string]));
    const desired = placeCameras({
      cameras,
      nodes: live.map((n) => ({ name: n.name, weight: n.weight, accepts: !n.cordoned && !n.draining, keeps: !n.draining })),
      holders,
    });
    const inService = new Set(cameras.map((c) => c.id));

    // One hand-over at a time: the next waits until the last one is claimed (or a lease time has passed).
    const over = this.#handingOver;
    if (over !== null && (holders.has(over.cameraId) || !inService.has(over.cameraId) || this.#clock() - over.since > this.#t.leaseMs)) {
      this.#handingOver = null;
    }
    if (this.#handingOver === null) {
      const leaving = [...this.#held.keys()].find((id) => {
        const to = desired.get(id);
        return !inService.has(id) || (to !== undefined && to !== this.name);
      });
      if (leaving !== undefined) await this.#release(leaving, desired.get(leaving) ?? null, inService.has(leaving));
    }

    // Claimed in batches, one statement each. Just after an outage, another node's expired lease is its owner's to renew.
    const lastOwner = new Map(leases.map((l) => [l.cameraId, l.owner]));
    const grace = this.#clock() < this.#claimGraceUntil;
    const wanted = cameras
      .map((c) => c.id)
      .filter((id) => desired.get(id) === this.name && !this.#held.has(id) && !holders.has(id))
      .filter((id) => !grace || (lastOwner.get(id) ?? null) === null || lastOwner.get(id) === this.name);
    for (let i = 0; i < wanted.length && !this.#closed; i += CLAIM_BATCH) {
      for (const lease of await repo.claimBatch(this.name, wanted.slice(i, i + CLAIM_BATCH), this.#t.leaseMs)) {
        this.#held.set(lease.cameraId, lease.epoch);
        logger.info({ cameraId: lease.cameraId, node: this.name, epoch: lease.epoch }, 'camera lease claimed');
        this.#handlers?.acquired(lease.cameraId);
      }
    }
  }

  /** Answers the writes waiting for a renewal: all of them, or those of one camera just dropped. */
  #settleWaiters(cameraId?: string): void {
    const settled = this.#waiters.filter((w) => cameraId === undefined || w.cameraId === cameraId);
    this.#waiters = this.#waiters.filter((w) => !settled.includes(w));
    for (const w of settled) w.resolve(this.#held.has(w.cameraId));
  }

  async #release(cameraId: string, to: string | null, handOver: boolean): Promise<void> {
    const epoch = this.#held.get(cameraId);
    if (epoch === undefined) return;
    if (handOver) this.#handingOver = { cameraId, since: this.#clock() };
    // Stopped and indexed under the lease, then given up: the next owner starts after the last segment is in.
    await this.#handlers?.releasing(cameraId);
    this.#held.delete(cameraId);
    await this.#deps.repo.release(this.name, cameraId, epoch);
    this.#deps.logger.info({ cameraId, node: this.name, epoch, to }, 'camera lease released');
    this.#handlers?.released(cameraId);
  }
}
