import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { LATEST_VERSION, MIGRATIONS, type Migration } from '../../../src/store/migrations.js';
import { SqliteWorkerStore } from '../../../src/store/sqliteWorker.js';
import { ROWS_PER_MESSAGE } from '../../../src/store/sqliteWorkerThread.js';
import { describeAccessRequestContract } from './accessRequestContract.js';
import { describeAccessRegisterContract } from './accessRegisterContract.js';
import { describeExportJobContract } from './exportJobContract.js';
import { describePendingChangeContract } from './pendingChangeContract.js';
import { describePlatformContract } from './platformContract.js';
import { describeAuditChainContract } from './auditChainContract.js';
import { describeOnvifRepositoryContract } from './onvifContract.js';
import { describeHealthStoreContract } from './healthStoreContract.js';
import { codeOf, describeStoreContract, type StoreHarness } from './storeContract.js';
import { describeUserStoreContract } from './userStoreContract.js';

function workerHarness(): StoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'psvgw-store-worker-'));
  const stores: SqliteWorkerStore[] = [];
  let n = 0;
  const track = (s: SqliteWorkerStore) => (stores.push(s), s);
  return {
    async fresh(opts = {}) {
      const store = track(new SqliteWorkerStore(join(dir, `db-${++n}.db`), { migrations: opts.migrations ?? MIGRATIONS }));
      if (opts.migrate !== false) await store.migrate();
      return store;
    },
    sibling: (store) => track(new SqliteWorkerStore((store as SqliteWorkerStore).path)),
    async cleanup() {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('SqliteWorkerStore', workerHarness);
describeOnvifRepositoryContract('SqliteWorkerStore', workerHarness);
describeHealthStoreContract('SqliteWorkerStore', workerHarness);
describeUserStoreContract('SqliteWorkerStore', workerHarness);
describeAccessRequestContract('SqliteWorkerStore', workerHarness);
describeAccessRegisterContract('SqliteWorkerStore', workerHarness);
describeExportJobContract('SqliteWorkerStore', workerHarness);
describePendingChangeContract('SqliteWorkerStore', workerHarness);
describePlatformContract('SqliteWorkerStore', workerHarness);
describeAuditChainContract('SqliteWorkerStore', workerHarness, async (store, sql) => {
  const db = new Database((store as SqliteWorkerStore).path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
});

/** Raw statements on the thread, for what the repositories do not reach. */
class ProbeStore extends SqliteWorkerStore {
  all(sql: string, params: (string | number | null)[] = []) {
    return this.queryRows(sql, params);
  }
  run(sql: string, params: (string | number | null)[] = []) {
    return this.execute(sql, params);
  }
}

/** Another process holding the write lock of `path` (BEGIN IMMEDIATE) for `holdMs`; resolves once it holds it. */
async function lockHolder(path: string, holdMs: number): Promise<ChildProcess> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const code = `const D = require(${JSON.stringify(driver)}); const db = new D(${JSON.stringify(path)});
db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${holdMs});`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (c) => reject(new Error(`the lock holder exited (${c}) before taking the lock`)));
  });
  return child;
}

describe('SqliteWorkerStore specifics', () => {
  let dir: string;
  const opened: SqliteWorkerStore[] = [];
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'psvgw-sqlite-worker-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill();
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string, opts: ConstructorParameters<typeof ProbeStore>[1] = {}): Promise<ProbeStore> {
    const store = new ProbeStore(path, opts);
    opened.push(store);
    await store.migrate();
    return store;
  }

  it('is what openStore gives for SQLite unless sqliteWorker is false', async () => {
    const worker = await openStore({ driver: 'sqlite', sqlitePath: join(dir, 'a.db') });
    const loop = await openStore({ driver: 'sqlite', sqlitePath: join(dir, 'b.db'), sqliteWorker: false });
    try {
      expect(worker).toBeInstanceOf(SqliteWorkerStore);
      expect(loop).not.toBeInstanceOf(SqliteWorkerStore);
    } finally {
      await worker.close();
      await loop.close();
    }
  });

  it('puts the database in WAL mode and syncs every commit unless asked for NORMAL', async () => {
    const full = await open(join(dir, 'nested', 'full.db'));
    expect(await full.durability()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
    const normal = await open(join(dir, 'normal.db'), { synchronous: 'NORMAL' });
    expect(await normal.durability()).toEqual({ journalMode: 'wal', synchronous: 'NORMAL' });
  });

  it('refuses a file that is not a SQLite database with the same clear error', async () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'this is not sqlite, just text that is long enough to have a header'.repeat(20));
    const err: unknown = await open(path).catch((e: unknown) => e);
    expect(codeOf(err)).toBe('CONFIG_INVALID');
    expect(String(err)).toMatch(/as a SQLite store: file is not a database/);
  });

  it('leaves no table behind from a migration that fails half-way, and names it', async () => {
    const path = join(dir, 'broken.db');
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: LATEST_VERSION + 1, name: 'half done', sql: 'CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;' },
    ];
    const err: unknown = await open(path, { migrations: broken }).catch((e: unknown) => e);
    expect(codeOf(err)).toBe('CONFIG_INVALID');
    expect(String(err)).toMatch(new RegExp(`migration ${LATEST_VERSION + 1} \\(half done\\) failed`));
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").all()).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('hands errors over as the driver throws them (SqliteError with its code)', async () => {
    const store = await open(join(dir, 'errors.db'));
    await store.run('CREATE TABLE t (k TEXT PRIMARY KEY)');
    await store.run("INSERT INTO t VALUES ('a')");
    const err: unknown = await store.run("INSERT INTO t VALUES ('a')").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Database.SqliteError);
    expect((err as { code: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    await expect(store.all('SELECT nope FROM t')).rejects.toThrow(/no such column: nope/);
    await expect(store.all('SELECT ? AS x', [])).rejects.toBeInstanceOf(RangeError);
  });

  it("waits for another process's write lock on its thread, not on the event loop", async () => {
    const path = join(dir, 'busy.db');
    const store = await open(path);
    children.push(await lockHolder(path, 1500));
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const started = performance.now();
    await store.settings.set('k', 'v');
    const waited = performance.now() - started;
    lag.disable();
    expect(waited).toBeGreaterThan(1000);
    // The in-process driver blocks the loop for the whole wait (≈ 1.5 s).
    expect(lag.max / 1e6).toBeLessThan(500);
    expect(await store.settings.get('k')).toBe('v');
  });

  it('gives up with SQLITE_BUSY after its busy timeout', async () => {
    const path = join(dir, 'timeout.db');
    const store = await open(path, { busyTimeoutMs: 100 });
    children.push(await lockHolder(path, 3000));
    const err: unknown = await store.settings.set('k', 'v').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Database.SqliteError);
    expect((err as { code: string }).code).toBe('SQLITE_BUSY');
  });

  it('hands a 10,000-row result over in slices, with turns of the event loop between them, in order', async () => {
    const store = await open(join(dir, 'large.db'));
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const rows = await store.all(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) SELECT i, 'row ' || i AS label FROM n",
    );
    counting = false;
    expect(rows).toHaveLength(10_000);
    expect(rows[0]).toEqual({ i: 1, label: 'row 1' });
    expect(rows[9999]).toEqual({ i: 10_000, label: 'row 10000' });
    expect(rows.every((r, k) => r.i === k + 1)).toBe(true);
    // Two slices come at once, each further one after a turn.
    expect(turns).toBeGreaterThanOrEqual(10_000 / ROWS_PER_MESSAGE - 2);
  });

  it('says once when its thread dies, and every later call fails with that reason', async () => {
    const lost: Error[] = [];
    // A 16 MiB heap: a result of 100,000 rows of 1 KiB each cannot fit, and the thread dies of it.
    const store = await open(join(dir, 'lost.db'), { maxHeapMb: 16, onLost: (reason) => lost.push(reason) });
    const huge = store.all(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i, printf('%01024d', i) AS pad FROM n",
    );
    await expect(huge).rejects.toThrow(/SQLite store thread/);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.message).toMatch(/SQLite store thread (failed|exited)/);
    await expect(store.all('SELECT 1')).rejects.toBe(lost[0]);
    await store.close();
    expect(lost).toHaveLength(1);
  }, 30_000);

  it('does not call a closed store lost', async () => {
    const lost: Error[] = [];
    const store = await open(join(dir, 'closed.db'), { onLost: (reason) => lost.push(reason) });
    await store.close();
    expect(lost).toEqual([]);
  });

  it('finishes every request made before close, and refuses those after', async () => {
    const path = join(dir, 'drain.db');
    const store = await open(path);
    const writes = Array.from({ length: 100 }, (_, i) => store.settings.set(`k${i}`, `v${i}`));
    const closed = store.close();
    await expect(store.settings.get('k0')).rejects.toThrow(/is closed/);
    await Promise.all(writes);
    await closed;
    await expect(store.settings.get('k0')).rejects.toThrow(/is closed/);
    const again = await open(path);
    for (let i = 0; i < 100; i++) expect(await again.settings.get(`k${i}`)).toBe(`v${i}`);
  });

  it('lets a transaction opened before close finish, then closes', async () => {
    const store = await open(join(dir, 'tx.db'));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const tx = store.transaction(async (t) => {
      await t.settings.set('a', '1');
      await gate;
      await t.settings.set('b', '2');
    });
    await new Promise((r) => setTimeout(r, 20));
    const closed = store.close();
    release();
    await tx;
    await closed;
    const again = await open(store.path);
    expect([await again.settings.get('a'), await again.settings.get('b')]).toEqual(['1', '2']);
  });
});
