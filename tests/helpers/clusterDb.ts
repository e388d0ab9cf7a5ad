import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the cluster tests use; each test file makes a database of its own on it. */
export const POSTGRES_ADMIN_URL = process.env.PSVGW_TEST_POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database (closing the connections still open to it). */
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is needed for the cluster tests but ${POSTGRES_ADMIN_URL} did not answer (${(err as Error).message}). ` +
        'Install and start it (Debian: apt-get install postgresql && pg_ctlcluster 15 main start), ' +
        'or set PSVGW_TEST_POSTGRES_ADMIN_URL to a server where the tests may create databases.',
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh database `psvgw_cluster_<random>`; drop it after the tests. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `psvgw_cluster_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
