import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store, StoreRepositories, StoreTx } from '../../src/store/store.js';

/** Repository methods that change the store; every other method only reads. */
const WRITES = new Set([
  'insert',
  'replace',
  'remove',
  'append',
  'set',
  'upsert',
  'markSeen',
  'open',
  'setCause',
  'close',
  'add',
  'enqueue',
  'markDelivered',
  'markFailed',
  'markRejected',
  'markDead',
  'prune',
  'markDeleted',
  'markFileRemoved',
  'addCheckpoint',
  'addKeyRotation',
  'registerKey',
  'retireKey',
  'renameKeyNode',
  'openGap',
  'closeGap',
  'createHold',
  'liftHold',
  'transition',
]);

const REPOSITORIES = [
  'cameras',
  'audit',
  'settings',
  'onvif',
  'outages',
  'platformOutages',
  'maintenance',
  'alertOutbox',
  'filings',
  'recordings',
  'users',
  'sessions',
  'apiKeys',
  'signingKeys',
  'accessRequests',
  'accessRegister',
  'exportJobs',
  'pendingChanges',
  'publicRequests',
  'lockouts',
  'platforms',
  'walls',
  'cluster',
  'linkLeases',
] as const satisfies ReadonlyArray<keyof StoreRepositories>;

/**
 * A real store (SQLite, by default in memory) that fails on command: `failAtWrite(n)` makes
 * the n-th write from then on throw, whether made on the store itself or inside a
 * transaction. Writes are counted per repository call (`cameras.insert`, `audit.append`, …).
 */
export class FailingStore implements Store {
  readonly cameras!: Store['cameras'];
  readonly audit!: Store['audit'];
  readonly settings!: Store['settings'];
  readonly onvif!: Store['onvif'];
  readonly outages!: Store['outages'];
  readonly platformOutages!: Store['platformOutages'];
  readonly maintenance!: Store['maintenance'];
  readonly alertOutbox!: Store['alertOutbox'];
  readonly filings!: Store['filings'];
  readonly recordings!: Store['recordings'];
  readonly users!: Store['users'];
  readonly sessions!: Store['sessions'];
  readonly apiKeys!: Store['apiKeys'];
  readonly signingKeys!: Store['signingKeys'];
  readonly accessRequests!: Store['accessRequests'];
  readonly accessRegister!: Store['accessRegister'];
  readonly exportJobs!: Store['exportJobs'];
  readonly pendingChanges!: Store['pendingChanges'];
  readonly publicRequests!: Store['publicRequests'];
  readonly lockouts!: Store['lockouts'];
  readonly platforms!: Store['platforms'];
  readonly walls!: Store['walls'];
  readonly cluster!: Store['cluster'];
  readonly linkLeases!: Store['linkLeases'];
  /** Every write attempted so far, as `repository.method`. */
  readonly writes: string[] = [];
  #failAt: number | null = null;
  #error: ((what: string) => Error) | null = null;

  constructor(readonly inner: Store) {
    Object.assign(this, this.#wrap(inner));
  }

  /** A migrated in-memory SQLite store, wrapped. */
  static async inMemory(): Promise<FailingStore> {
    const inner = new SqliteStore(':memory:');
    await inner.migrate();
    return new FailingStore(inner);
  }

  /**
   * The n-th write from now on (1: the next one) throws: `error`, or by default an Error
   * saying which write it was. Later writes succeed again.
   */
  failAtWrite(n: number, error?: Error): void {
    this.#failAt = this.writes.length + n;
    this.#error = (what) => error ?? new Error(`injected store failure at write ${n} (${what})`);
  }

  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.inner.transaction((tx) => work(this.#wrap(tx)));
  }

  migrate(): Promise<void> {
    return this.inner.migrate();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #wrap(repos: StoreRepositories): StoreRepositories {
    const out: Record<string, unknown> = {};
    for (const name of REPOSITORIES) {
      const repo = repos[name] as unknown as Record<string, unknown>;
      out[name] = new Proxy(repo, {
        get: (target, prop, receiver) => {
          const value: unknown = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function') return value;
          const method = value as (...args: unknown[]) => unknown;
          if (typeof prop !== 'string' || !WRITES.has(prop)) return method.bind(target);
          return async (...args: unknown[]) => {
            const what = `${name}.${prop}`;
            this.writes.push(what);
            if (this.#failAt === this.writes.length && this.#error !== null) {
              this.#failAt = null;
              throw this.#error(what);
            }
            return method.apply(target, args);
          };
        },
      });
    }
    return out as unknown as StoreRepositories;
  }
}
