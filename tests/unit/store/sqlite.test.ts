import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { LATEST_VERSION, MIGRATIONS, type Migration } from '../../../src/store/migrations.js';
import { SqliteStore } from '../../../src/store/sqlite.js';
import { describeAccessRequestContract } from './accessRequestContract.js';
import { describeAccessRegisterContract } from './accessRegisterContract.js';
import { describeExportJobContract } from './exportJobContract.js';
import { describePendingChangeContract } from './pendingChangeContract.js';
import { describePlatformContract } from './platformContract.js';
import { describeAuditChainContract } from './auditChainContract.js';
import { describeOnvifRepositoryContract } from './onvifContract.js';
import { describeHealthStoreContract } from './healthStoreContract.js';
import { camera, codeOf, describeStoreContract, type StoreHarness } from './storeContract.js';
import { describeUserStoreContract } from './userStoreContract.js';

function sqliteHarness(): StoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'psvgw-store-'));
  const stores: SqliteStore[] = [];
  let n = 0;
  const track = (s: SqliteStore) => (stores.push(s), s);
  return {
    async fresh(opts = {}) {
      const store = track(new SqliteStore(join(dir, `db-${++n}.db`), { migrations: opts.migrations ?? MIGRATIONS }));
      if (opts.migrate !== false) await store.migrate();
      return store;
    },
    sibling: (store) => track(new SqliteStore((store as SqliteStore).path)),
    async cleanup() {
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeStoreContract('SqliteStore', sqliteHarness);
describeOnvifRepositoryContract('SqliteStore', sqliteHarness);
describeHealthStoreContract('SqliteStore', sqliteHarness);
describeUserStoreContract('SqliteStore', sqliteHarness);
describeAccessRequestContract('SqliteStore', sqliteHarness);
describeAccessRegisterContract('SqliteStore', sqliteHarness);
describeExportJobContract('SqliteStore', sqliteHarness);
describePendingChangeContract('SqliteStore', sqliteHarness);
describePlatformContract('SqliteStore', sqliteHarness);
describeAuditChainContract('SqliteStore', sqliteHarness, async (store, sql) => {
  // A second connection on the real store file, as someone editing it by hand would use.
  const db = new Database((store as SqliteStore).path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
});

describe('SqliteStore specifics', () => {
  let dir: string;
  const opened: SqliteStore[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'psvgw-sqlite-'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(path: string, migrations?: readonly Migration[]): Promise<SqliteStore> {
    const store = new SqliteStore(path, migrations === undefined ? {} : { migrations });
    opened.push(store);
    await store.migrate();
    return store;
  }

  it('creates the parent directory and puts the database in WAL mode', async () => {
    const path = join(dir, 'nested', 'deeper', 'gateway.db');
    const store = await open(path);
    expect(store.path).toBe(path);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('leaves no table behind from a migration that fails half-way', async () => {
    const path = join(dir, 'broken.db');
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: LATEST_VERSION + 1, name: 'half done', sql: 'CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;' },
    ];
    await expect(open(path, broken)).rejects.toSatisfy((e) => codeOf(e) === 'CONFIG_INVALID');
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").all()).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('serves the ordered camera list from the primary-key index', async () => {
    const path = join(dir, 'plan.db');
    const store = await open(path);
    for (let i = 1; i <= 500; i++) await store.cameras.insert(camera(i));
    const raw = new Database(path, { readonly: true });
    try {
      for (const sql of [
        'SELECT * FROM cameras ORDER BY id LIMIT 100 OFFSET 100',
        "SELECT MAX(id) FROM cameras WHERE id >= '34020000001320000000' AND id <= '34020000001320999999'",
      ]) {
        const plan = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
        const details = plan.map((p) => p.detail).join(' | ');
        expect(details).not.toMatch(/TEMP B-TREE|SCAN cameras$/);
        expect(details).toMatch(/INDEX/);
      }
    } finally {
      raw.close();
    }
  });

  it('refuses a file that is not a SQLite database with a clear error', () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'this is not sqlite, just text that is long enough to have a header'.repeat(20));
    expect(() => new SqliteStore(path)).toThrow(/as a SQLite store: file is not a database/);
  });

  it('openStore opens and migrates SQLite, and refuses an unknown driver or a postgres driver without URL', async () => {
    const store = await openStore({ driver: 'sqlite', sqlitePath: join(dir, 'open.db') });
    try {
      expect(await store.cameras.count()).toBe(0);
    } finally {
      await store.close();
    }
    await expect(openStore({ driver: 'bogus' as 'sqlite', sqlitePath: join(dir, 'x.db') })).rejects.toThrow(/unknown store.driver/);
    await expect(openStore({ driver: 'postgres', sqlitePath: '' })).rejects.toThrow(/postgresUrl is not set/);
  });
});
