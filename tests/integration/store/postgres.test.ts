import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import { PostgresStore } from '../../../src/store/postgres.js';
import { describeAccessRequestContract } from '../../unit/store/accessRequestContract.js';
import { describeAccessRegisterContract } from '../../unit/store/accessRegisterContract.js';
import { describeExportJobContract } from '../../unit/store/exportJobContract.js';
import { describePendingChangeContract } from '../../unit/store/pendingChangeContract.js';
import { describePlatformContract } from '../../unit/store/platformContract.js';
import { describeAuditChainContract } from '../../unit/store/auditChainContract.js';
import { describeOnvifRepositoryContract } from '../../unit/store/onvifContract.js';
import { describeHealthStoreContract } from '../../unit/store/healthStoreContract.js';
import { camera, describeStoreContract, type StoreHarness, type TestStore } from '../../unit/store/storeContract.js';
import { describeUserStoreContract } from '../../unit/store/userStoreContract.js';

/**
 * Runs against a real PostgreSQL server. Each store gets a schema of its own, dropped
 * afterwards, so the database can be shared.
 */
const URL = process.env.PSVGW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

beforeAll(async () => {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is needed for these tests but ${URL} did not answer (${(err as Error).message}). ` +
        'Install and start it (Debian: apt-get install postgresql && pg_ctlcluster 15 main start), ' +
        'or set PSVGW_TEST_POSTGRES_URL to a database the tests may create schemas in.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
});

/** The schema each harness-made store lives in (for tests that edit rows behind the store). */
const schemaOfStore = new WeakMap<TestStore, string>();

function postgresHarness(): StoreHarness {
  const schemas = new Map<TestStore, string>();
  const stores: PostgresStore[] = [];
  const make = (schema: string, migrations = MIGRATIONS) => {
    const store = new PostgresStore(URL, { schema, migrations, maxConnections: 4 });
    stores.push(store);
    schemas.set(store, schema);
    schemaOfStore.set(store, schema);
    return store;
  };
  const created: string[] = [];
  return {
    async fresh(opts = {}) {
      const schema = `psvgw_test_${randomBytes(6).toString('hex')}`;
      created.push(schema);
      const store = make(schema, opts.migrations ?? MIGRATIONS);
      if (opts.migrate !== false) await store.migrate();
      return store;
    },
    sibling: (store) => make(schemas.get(store) ?? 'public'),
    async cleanup() {
      for (const s of stores) await s.close();
      const client = new pg.Client({ connectionString: URL });
      await client.connect();
      try {
        for (const schema of created) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

describeStoreContract('PostgresStore', postgresHarness);
describeExportJobContract('PostgresStore', postgresHarness);
describeAuditChainContract('PostgresStore', postgresHarness, async (store, sql) => {
  // A separate connection on the store's schema, as someone editing rows by hand would use.
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schemaOfStore.get(store) ?? 'public'}`);
    await client.query(sql);
  } finally {
    await client.end();
  }
});
describeOnvifRepositoryContract('PostgresStore', postgresHarness);
describeHealthStoreContract('PostgresStore', postgresHarness);
describeUserStoreContract('PostgresStore', postgresHarness);
describeAccessRequestContract('PostgresStore', postgresHarness);
describeAccessRegisterContract('PostgresStore', postgresHarness);
describePendingChangeContract('PostgresStore', postgresHarness);
describePlatformContract('PostgresStore', postgresHarness);

describe('PostgresStore specifics', () => {
  const h = postgresHarness();
  afterAll(() => h.cleanup());

  it('lets several nodes migrate the same database at once', async () => {
    const first = await h.fresh({ migrate: false });
    const nodes = [first, h.sibling(first), h.sibling(first), h.sibling(first)];
    await Promise.all(nodes.map((n) => n.migrate()));
    expect(await first.appliedMigrations()).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('orders serial reads of nodes creating cameras at once: the second reads after the first commits', async () => {
    const a = await h.fresh();
    const b = h.sibling(a);
    const prefix = '34020000001320';
    let releaseA: () => void = () => undefined;
    const aHolds = new Promise<void>((resolve) => (releaseA = resolve));
    let aRead: (serial: number) => void = () => undefined;
    const aHasRead = new Promise<number>((resolve) => (aRead = resolve));
    const first = a.transaction(async (tx) => {
      const serial = await tx.cameras.maxSerial(prefix);
      aRead(serial);
      await aHolds;
      await tx.cameras.insert(camera(serial + 1));
    });
    expect(await aHasRead).toBe(0);
    let bSerial: number | null = null;
    const second = b.transaction(async (tx) => {
      bSerial = await tx.cameras.maxSerial(prefix);
      await tx.cameras.insert(camera(bSerial + 1));
    });
    // B waits on A's lock: give it time to (wrongly) read before A commits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bSerial).toBeNull();
    releaseA();
    await Promise.all([first, second]);
    expect(bSerial).toBe(1);
    expect((await a.cameras.list()).map((c) => c.id)).toEqual([camera(1).id, camera(2).id]);
  });

  it('says which server it could not reach, without the password', async () => {
    const store = new PostgresStore('postgres://psvgw:hunter2-secret@127.0.0.1:1/none', { connectTimeoutMs: 2000 });
    try {
      const err = await store.migrate().then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err?.code).toBe('CONFIG_INVALID');
      expect(err?.message).toMatch(/cannot connect to PostgreSQL at postgres:\/\/psvgw:\*\*\*@127\.0\.0\.1:1\/none/);
      expect(err?.message).not.toContain('hunter2');
    } finally {
      await store.close();
    }
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new PostgresStore(URL, { schema: 'x; DROP TABLE cameras' })).toThrow(/not allowed/);
  });

  it('openStore opens and migrates PostgreSQL', async () => {
    const schema = `psvgw_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${schema}`);
      const url = `${URL}${URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const store = await openStore({ driver: 'postgres', sqlitePath: '', postgresUrl: url });
      try {
        expect(await store.cameras.count()).toBe(0);
      } finally {
        await store.close();
      }
      const tables = await admin.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
      expect(tables.rows.map((r: { table_name: string }) => r.table_name).sort()).toEqual([
        'access_register',
        'access_requests',
        'alert_outbox',
        'api_keys',
        'audit_checkpoints',
        'audit_log',
        'auth_sessions',
        'auth_signing_keys',
        'camera_lease_history',
        'camera_leases',
        'cameras',
        'console_walls',
        'evidence_holds',
        'export_jobs',
        'filings',
        'gb28181_platforms',
        'login_lockouts',
        'maintenance_windows',
        'nodes',
        'onvif_devices',
        'outages',
        'pending_changes',
        'platform_link_leases',
        'platform_outages',
        'public_requests',
        'recording_checkpoints',
        'recording_entries',
        'recording_gaps',
        'recording_key_rotations',
        'schema_migrations',
        'settings',
        'signing_keys',
        'users',
      ]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
