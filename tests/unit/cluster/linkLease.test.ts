import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { BeatTask } from '../../../src/cluster/index.js';
import { ClusterNode, LinkFencedError, LinkLeases } from '../../../src/cluster/index.js';
import { GatewayError } from '../../../src/errors.js';
import type { HeldLinkLease, LinkLeaseRepository, Store, StoreTx } from '../../../src/store/index.js';

const logger = pino({ level: 'silent' });

/** The lease table as one node sees it: `owner` per link, epochs that grow at each claim. */
class TableRepo implements LinkLeaseRepository {
  readonly rows = new Map<string, { owner: string | null; epoch: number }>();
  released: string[] = [];
  /** Every call fails as an unreachable server does. */
  down = false;
  #check(): void {
    if (this.down)
      throw new GatewayError('CONFIG_INVALID', 'cannot reach PostgreSQL', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
  }
  async renew(node: string): Promise<HeldLinkLease[]> {
    this.#check();
    return [...this.rows].filter(([, r]) => r.owner === node).map(([link, r]) => ({ link, epoch: r.epoch }));
  }
  async claim(node: string, link: string): Promise<HeldLinkLease | null> {
    this.#check();
    const r = this.rows.get(link) ?? { owner: null, epoch: 0 };
    if (r.owner !== null) return null;
    this.rows.set(link, { owner: node, epoch: r.epoch + 1 });
    return { link, epoch: r.epoch + 1 };
  }
  async release(node: string, link: string, epoch: number): Promise<boolean> {
    const r = this.rows.get(link);
    if (r?.owner !== node || r.epoch !== epoch) return false;
    r.owner = null;
    this.released.push(link);
    return true;
  }
  async holders() {
    return [...this.rows].map(([link, r]) => ({ link, ...r }));
  }
  readonly fenced: string[] = [];
  async fence(link: string, node: string, epoch: number): Promise<boolean> {
    this.#check();
    this.fenced.push(`${link} ${node} ${epoch}`);
    const r = this.rows.get(link);
    return r?.owner === node && r.epoch === epoch;
  }
}

/** A store whose transaction offers the lease table (the write's own rows are the test's). */
const storeOf = (repo: TableRepo): Pick<Store, 'transaction'> => ({
  transaction: (work) => work({ linkLeases: repo } as unknown as StoreTx),
});

/**
 * The ClusterNode surface LinkLeases uses, on a clock the test moves. `outage`: what ClusterNode.keepsThroughOutage
 * answers (its rule is tested in databaseOutage.test.ts); the retry of unreachable writes is ClusterNode's own.
 */
function fakeNode(name: string) {
  const state = {
    now: 0,
    task: null as BeatTask | null,
    outage: { keeps: false, riding: [] as boolean[] },
    drain: { draining: false, othersAccept: true },
    grace: false,
  };
  const timings = { heartbeatMs: 1000, leaseMs: 6000, stopMarginMs: 2000 };
  const real = new ClusterNode({ name, apiUrl: null, weight: 1, repo: {} as never, cameras: async () => [], logger });
  const node = {
    name,
    timings,
    now: () => state.now,
    keepOnBeat: (t: BeatTask) => void (state.task = t),
    renewalOverdue: (sent: number) => state.now - sent > timings.leaseMs - timings.stopMarginMs,
    keepsThroughOutage: (riding: boolean) => (state.outage.riding.push(riding), state.outage.keeps),
    drainState: () => state.drain,
    inClaimGrace: () => state.grace,
    retryUnreachable: real.retryUnreachable.bind(real),
  } as unknown as ClusterNode;
  return { node, state, beat: () => (state.task as BeatTask).beat(), watch: () => (state.task as BeatTask).watch() };
}

function recorder() {
  const events: string[] = [];
  return { events, on: { acquired: () => void events.push('acquired'), lost: () => void events.push('lost') } };
}

/** Nodes `a` and `b` over one table, each with its LinkLeases. */
function twoNodes() {
  const repo = new TableRepo();
  const a = fakeNode('a');
  const b = fakeNode('b');
  return { repo, a, b, la: new LinkLeases({ node: a.node, repo, logger }), lb: new LinkLeases({ node: b.node, repo, logger }) };
}

/** Node `a` alone, holding link `city` after one beat. */
async function holdingCity() {
  const repo = new TableRepo();
  const a = fakeNode('a');
  const la = new LinkLeases({ node: a.node, repo, logger, store: storeOf(repo) });
  const r = recorder();
  la.hold('city', r.on);
  await a.beat();
  return { repo, a, la, r };
}

describe('LinkLeases: one node holds each platform link', () => {
  it('claims a free link at its beat, and stands by while another node holds it', async () => {
    const { a, b, la, lb } = twoNodes();
    const ra = recorder();
    const rb = recorder();
    la.hold('city', ra.on);
    lb.hold('city', rb.on);
    await a.beat();
    await b.beat();
    expect(ra.events).toEqual(['acquired']);
    expect(rb.events).toEqual([]);
    expect([la.holds('city'), lb.holds('city')]).toEqual([true, false]);
  });

  it('a renewal that no longer returns the lease stops the link (lost)', async () => {
    const { repo, a, la, r } = await holdingCity();
    (repo.rows.get('city') as { owner: string | null }).owner = 'b'; // expired and claimed elsewhere
    await a.beat();
    expect(r.events).toEqual(['acquired', 'lost']);
    expect(la.holds('city')).toBe(false);
  });

  it('the watchdog stops the link once the last renewal is older than lease − margin, without the database', async () => {
    const { a, r } = await holdingCity();
    a.state.now = 4000;
    a.watch();
    expect(r.events).toEqual(['acquired']);
    a.state.now = 4001;
    a.watch();
    expect(r.events).toEqual(['acquired', 'lost']);
  });

  it('takes back a lease its name still holds from before a restart, and releases one it no longer wants', async () => {
    const repo = new TableRepo();
    repo.rows.set('city', { owner: 'a', epoch: 3 });
    repo.rows.set('gone', { owner: 'a', epoch: 1 });
    const a = fakeNode('a');
    const la = new LinkLeases({ node: a.node, repo, logger });
    const r = recorder();
    la.hold('city', r.on);
    await a.beat();
    expect(r.events).toEqual(['acquired']);
    expect(repo.released).toEqual(['gone']);
  });

  it('letting go and closing release the held leases', async () => {
    const repo = new TableRepo();
    const a = fakeNode('a');
    const la = new LinkLeases({ node: a.node, repo, logger });
    const letGo = la.hold('city', recorder().on);
    la.hold('county', recorder().on);
    expect(() => la.hold('city', recorder().on)).toThrow(/already held/);
    await a.beat();
    await letGo();
    expect(repo.released).toEqual(['city']);
    await la.close();
    expect(repo.released).toEqual(['city', 'county']);
  });

  it("a link's write runs in a transaction that checks the lease at the epoch the node claimed", async () => {
    const { repo, la, r } = await holdingCity();
    const written: string[] = [];
    expect(await la.write('city', async () => (written.push('row'), 7))).toBe(7);
    expect(written).toEqual(['row']);
    expect(repo.fenced).toEqual(['city a 1']);
    expect(r.events).toEqual(['acquired']);
  });

  it('a write the fence refuses writes nothing, stops the link at once and is not retried', async () => {
    const { repo, la, r } = await holdingCity();
    // Claimed by another node behind this one's back, before its next renewal.
    repo.rows.set('city', { owner: 'b', epoch: 2 });
    let runs = 0;
    await expect(la.write('city', async () => void runs++)).rejects.toBeInstanceOf(LinkFencedError);
    expect(runs).toBe(0);
    expect(r.events).toEqual(['acquired', 'lost']);
    expect(la.holds('city')).toBe(false);
    expect(repo.fenced).toEqual(['city a 1']);
    // The same node name at a later epoch (a restart that claimed it again) is not this claim either.
    const { repo: again, la: la2, r: r2 } = await holdingCity();
    (again.rows.get('city') as { epoch: number }).epoch = 5;
    await expect(la2.write('city', async () => void runs++)).rejects.toThrow(/no longer holds its lease/);
    expect([runs, r2.events]).toEqual([0, ['acquired', 'lost']]);
  });

  it('a link this node does not hold has every write refused without asking the table', async () => {
    const repo = new TableRepo();
    repo.rows.set('city', { owner: 'b', epoch: 1 });
    const a = fakeNode('a');
    const la = new LinkLeases({ node: a.node, repo, logger, store: storeOf(repo) });
    const r = recorder();
    la.hold('city', r.on);
    await a.beat();
    await expect(la.write('city', async () => 'row')).rejects.toBeInstanceOf(LinkFencedError);
    expect([repo.fenced, r.events]).toEqual([[], []]);
  });

  it('through a database outage (its loop fine) the link runs on past the self-stop, renewed at its own epoch after', async () => {
    const { repo, a, la, r } = await holdingCity();
    repo.down = true;
    a.state.now = 1000;
    await expect(a.beat()).rejects.toThrow(/cannot reach/); // the node logs it
    a.state.outage.keeps = true;
    a.state.now = 4001;
    a.watch();
    a.state.now = 9000; // past the lease time too: nobody can claim while the database is down
    a.watch();
    expect(a.state.outage.riding).toEqual([false, true]);
    expect([r.events, la.holds('city')]).toEqual([['acquired'], true]);
    // A write meanwhile waits for the renewal and then runs, under the same epoch.
    const written: string[] = [];
    const write = la.write('city', async () => void written.push('row'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual([]);
    repo.down = false;
    a.state.outage.keeps = false;
    await a.beat();
    await write;
    expect([written, repo.fenced, repo.rows.get('city')]).toEqual([['row'], ['city a 1'], { owner: 'a', epoch: 1 }]);
    // Renewed: the self-stop counts from this renewal again, and the link is no longer riding.
    a.state.now = 12_000;
    a.watch();
    expect([r.events, a.state.outage.riding]).toEqual([['acquired'], [false, true]]);
  });

  it('the link stops at the self-stop when the outage rule says so (loop stalled, bound passed), and a waiting write is dropped', async () => {
    const { repo, a, la, r } = await holdingCity();
    repo.down = true;
    const write = la.write('city', async () => 'row');
    await new Promise((resolve) => setImmediate(resolve));
    a.state.now = 4001;
    a.watch();
    expect([r.events, la.holds('city')]).toEqual([['acquired', 'lost'], false]);
    await expect(write).rejects.toBeInstanceOf(LinkFencedError);
    // Back up: no longer held here, so it claims again at a new epoch (the old row is its own and free).
    repo.down = false;
    (repo.rows.get('city') as { owner: string | null }).owner = null;
    await a.beat();
    expect([r.events, repo.rows.get('city')]).toEqual([['acquired', 'lost', 'acquired'], { owner: 'a', epoch: 2 }]);
  });

  it('just after an outage a node claims no link (the holders renew theirs first)', async () => {
    const repo = new TableRepo();
    const b = fakeNode('b');
    const lb = new LinkLeases({ node: b.node, repo, logger });
    const r = recorder();
    lb.hold('city', r.on);
    b.state.grace = true;
    await b.beat();
    expect(r.events).toEqual([]);
    b.state.grace = false;
    await b.beat();
    expect(r.events).toEqual(['acquired']);
  });

  it('a draining node hands its links over one at a time: stopped first, then released; it claims none', async () => {
    const { repo, a, b, la, lb } = twoNodes();
    const order: string[] = [];
    const on = (node: string, link: string) => ({
      acquired: () => void order.push(`${node} acquired ${link}`),
      lost: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`${node} stopped ${link} (released: ${repo.released.join(',') || 'none'})`);
      },
    });
    for (const link of ['city', 'county']) {
      la.hold(link, on('a', link));
      lb.hold(link, on('b', link));
    }
    await a.beat();
    a.state.drain = { draining: true, othersAccept: false };
    await a.beat(); // nobody to take them: it keeps them
    expect(repo.released).toEqual([]);
    a.state.drain.othersAccept = true;
    await a.beat();
    await a.beat(); // city not claimed elsewhere yet: county waits
    expect([repo.released, la.holds('county')]).toEqual([['city'], true]);
    await b.beat();
    await a.beat();
    await b.beat();
    await a.beat(); // released and claimed elsewhere, a claims neither back
    expect(order).toEqual([
      'a acquired city',
      'a acquired county',
      'a stopped city (released: none)',
      'b acquired city',
      'a stopped county (released: city)',
      'b acquired county',
    ]);
    expect([la.holds('city'), la.holds('county'), repo.rows.get('county')]).toEqual([false, false, { owner: 'b', epoch: 2 }]);
  });

  it('a hand-over not claimed elsewhere within a lease time goes on with the next link', async () => {
    const repo = new TableRepo();
    const a = fakeNode('a');
    const la = new LinkLeases({ node: a.node, repo, logger });
    la.hold('city', recorder().on);
    la.hold('county', recorder().on);
    await a.beat();
    a.state.drain = { draining: true, othersAccept: true };
    await a.beat();
    a.state.now = 6000;
    await a.beat();
    expect(repo.released).toEqual(['city']);
    a.state.now = 6001;
    await a.beat();
    expect(repo.released).toEqual(['city', 'county']);
  });
});
