import type { Logger } from '../log.js';
import type { LinkLeaseRepository, Store, StoreTx } from '../store/index.js';
import type { ClusterNode } from './clusterNode.js';

/** What a link does as its lease comes and goes on this node. */
export interface LinkLeaseHandlers {
  /** This node holds the link now: register with the platform and answer it. */
  acquired(): void;
  /**
   * The lease is lost (expired, not renewed in time) or handed over: stop at once, without unregistering (another
   * node takes over); a hand-over waits for the returned promise before it releases the lease.
   */
  lost(): void | Promise<void>;
}

/** A write only a link's holder may make was refused by its lease fence: nothing was written, the link stopped here. */
export class LinkFencedError extends Error {
  constructor(readonly link: string) {
    super(`platform link ${link}: this node no longer holds its lease, the write was refused`);
    this.name = 'LinkFencedError';
  }
}

/**
 * One node holds each upstream platform link (migration 28): a lease per link, claimed,
 * renewed and lost like the camera leases, on the ClusterNode's heartbeat, clock and
 * self-stop margin. Every node asks to hold every configured link; the first to claim a
 * free or expired lease runs the link, the others stand by and claim it once it expires.
 */
export class LinkLeases {
  readonly #node: ClusterNode;
  readonly #repo: LinkLeaseRepository;
  readonly #logger: Logger;
  readonly #store: Pick<Store, 'transaction'> | undefined;
  readonly #wanted = new Map<string, LinkLeaseHandlers>();
  /**
   * Link → fencing epoch and when the renewal (or claim) that extended it last was sent (node clock); `riding`: running
   * on past the self-stop through a database outage (ClusterNode.keepsThroughOutage).
   */
  readonly #held = new Map<string, { epoch: number; sent: number; riding: boolean }>();
  /** A link this draining node released, not yet claimed elsewhere: the next hand-over waits for it. */
  #handingOver: { link: string; since: number } | null = null;
  /** Writes waiting for the link's next renewal (the database was unreachable). */
  #waiters: { link: string; resolve: (held: boolean) => void }[] = [];
  #closed = false;

  /** `store`: where the links' fenced writes run (`write`). */
  constructor(deps: { node: ClusterNode; repo: LinkLeaseRepository; logger: Logger; store?: Pick<Store, 'transaction'> }) {
    this.#node = deps.node;
    this.#repo = deps.repo;
    this.#logger = deps.logger;
    this.#store = deps.store;
    deps.node.keepOnBeat({ beat: () => this.#beat(), watch: () => this.#watch() });
  }

  /** This node claims the link's lease whenever it is free, from the next beat on; the returned function lets it go. */
  hold(link: string, on: LinkLeaseHandlers): () => Promise<void> {
    if (this.#wanted.has(link)) throw new Error(`platform link ${link} is already held`);
    this.#wanted.set(link, on);
    return async () => {
      if (this.#wanted.get(link) !== on) return;
      this.#wanted.delete(link);
      await this.#release(link);
    };
  }

  holds(link: string): boolean {
    return this.#held.has(link);
  }

  /** Inside the transaction of a write only the link's holder may make: true while this node holds the lease at the epoch it claimed. */
  async fence(tx: StoreTx, link: string): Promise<boolean> {
    const h = this.#held.get(link);
    return h !== undefined && (await tx.linkLeases.fence(link, this.#node.name, h.epoch));
  }

  /**
   * Runs a write only the link's holder may make (platform outage rows, access-register rows of its sessions) in
   * one transaction that checks the lease first (`FOR SHARE`: no claim takes it while the write is in flight).
   * Refused: nothing is written, the link stops here at once (as a lost lease) and it rejects with LinkFencedError;
   * the write is not retried. The database unreachable: the write waits for the link's next renewal and runs again
   * (as the cameras' writes, `ClusterNode.retryUnreachable`); the lease gone by then: LinkFencedError, nothing written.
   */
  async write<T>(link: string, work: (tx: StoreTx) => Promise<T>): Promise<T> {
    const store = this.#store;
    if (store === undefined) throw new Error('LinkLeases.write needs the store');
    const once = () => store.transaction(async (tx) => ((await this.fence(tx, link)) ? { value: await work(tx) } : null));
    const done = await this.#node.retryUnreachable(link, once, (l) => this.#whenRenewed(l), { link });
    if (done === null) throw new LinkFencedError(link);
    if (done.value !== null) return done.value.value;
    this.refused(link);
    throw new LinkFencedError(link);
  }

  #whenRenewed(link: string): Promise<boolean> {
    if (this.#closed || !this.#held.has(link)) return Promise.resolve(false);
    return new Promise((resolve) => this.#waiters.push({ link, resolve }));
  }

  /** Answers the writes waiting for a renewal: all of them, or those of one link just dropped. */
  #settleWaiters(link?: string): void {
    const settled = this.#waiters.filter((w) => link === undefined || w.link === link);
    this.#waiters = this.#waiters.filter((w) => !settled.includes(w));
    for (const w of settled) w.resolve(this.#held.has(w.link));
  }

  /** A write was refused by the link's fence: the lease is gone, the link stops here at once. */
  refused(link: string): void {
    this.#logger.warn(
      { platform: link, node: this.#node.name, epoch: this.#held.get(link)?.epoch ?? null },
      'a platform link write was refused by the lease fence: stopping the link here',
    );
    this.#drop(link);
  }

  /** Gives every link lease up (the links must be closed first): the other nodes take them at their next beat. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wanted.clear();
    for (const w of this.#waiters.splice(0)) w.resolve(false);
    for (const link of [...this.#held.keys()]) await this.#release(link);
  }

  async #beat(): Promise<void> {
    if (this.#closed || this.#wanted.size === 0) return;
    const { name, timings } = this.#node;
    const sent = this.#node.now();
    const before = new Map([...this.#held].map(([link, h]) => [link, h.epoch]));
    const renewed = new Map((await this.#repo.renew(name, timings.leaseMs)).map((l) => [l.link, l.epoch]));
    for (const [link, epoch] of renewed) {
      const held = this.#held.get(link);
      if (held?.epoch === epoch) {
        if (held.riding) this.#logger.info({ platform: link, node: name, epoch }, 'database reachable again: platform link lease renewed');
        Object.assign(held, { sent, riding: false });
      }
      // A lease this node name still holds from before a restart: its own, taken back (or given up when not wanted).
      else if (held === undefined && !before.has(link)) await this.#adopt(link, epoch, sent);
    }
    for (const [link, epoch] of before) {
      if (renewed.get(link) === epoch || this.#held.get(link)?.epoch !== epoch) continue;
      this.#logger.warn({ platform: link, node: name, epoch }, 'platform link lease lost: stopping the link here');
      this.#drop(link);
    }
    this.#settleWaiters();
    // A draining node hands its links over and claims none (unless no other live node would take them); just after
    // an outage the holders renew theirs first.
    const { draining, othersAccept } = this.#node.drainState();
    if (draining && othersAccept) return this.#handOver();
    if (this.#node.inClaimGrace()) return;
    for (const link of this.#wanted.keys()) {
      if (this.#held.has(link) || this.#closed) continue;
      const claimSent = this.#node.now();
      const lease = await this.#repo.claim(name, link, timings.leaseMs);
      if (lease !== null) await this.#adopt(link, lease.epoch, claimSent);
    }
  }

  async #adopt(link: string, epoch: number, sent: number): Promise<void> {
    const on = this.#wanted.get(link);
    if (on === undefined || this.#closed) {
      await this.#repo.release(this.#node.name, link, epoch);
      return;
    }
    this.#held.set(link, { epoch, sent, riding: false });
    this.#logger.info({ platform: link, node: this.#node.name, epoch }, 'platform link lease claimed: this node runs the link');
    on.acquired();
  }

  /**
   * One link at a time, the next once the last is claimed elsewhere (or a lease time has passed): stopped without
   * unregistering, then released, so the platform sees the next holder's REGISTER replace this one's registration
   * (an Expires 0 first would leave the device unregistered until then) and never two sources at once.
   */
  async #handOver(): Promise<void> {
    const over = this.#handingOver;
    if (over !== null) {
      const owner = (await this.#repo.holders()).find((h) => h.link === over.link)?.owner ?? null;
      if ((owner === null || owner === this.#node.name) && this.#node.now() - over.since <= this.#node.timings.leaseMs) return;
      this.#handingOver = null;
    }
    const link = this.#held.keys().next().value;
    if (link === undefined || this.#closed) return;
    this.#handingOver = { link, since: this.#node.now() };
    this.#logger.info({ platform: link, node: this.#node.name }, 'draining: handing the platform link over');
    // Still held while it stops (its last writes stay fenced under it), released once it has.
    await this.#wanted.get(link)?.lost();
    await this.#release(link);
  }

  /**
   * Without the database: a lease not renewed in time may be granted elsewhere soon, so the link stops here now;
   * unless renewals found the database itself unreachable and this node kept running (the cameras' rule).
   */
  #watch(): void {
    for (const [link, h] of [...this.#held]) {
      if (!this.#node.renewalOverdue(h.sent)) continue;
      if (this.#node.keepsThroughOutage(h.riding)) {
        if (!h.riding)
          this.#logger.warn({ platform: link, node: this.#node.name }, 'database unreachable: the platform link keeps running here');
        h.riding = true;
        continue;
      }
      this.#logger.error({ platform: link, node: this.#node.name }, 'platform link lease not renewed in time: stopping the link here');
      this.#drop(link);
    }
  }

  #drop(link: string): void {
    if (!this.#held.delete(link)) return;
    this.#settleWaiters(link);
    void this.#wanted.get(link)?.lost();
  }

  async #release(link: string): Promise<void> {
    const h = this.#held.get(link);
    if (h === undefined) return;
    this.#held.delete(link);
    this.#settleWaiters(link);
    await this.#repo
      .release(this.#node.name, link, h.epoch)
      .catch((err: unknown) => this.#logger.warn({ err, platform: link }, 'could not release a platform link lease (it expires)'));
  }
}
