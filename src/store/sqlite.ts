/**
 * The embedded store: one SQLite file (WAL mode), opened with better-sqlite3.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { GatewayError } from '../errors.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, migrationSql, pendingMigrations, type Migration } from './migrations.js';
import type { SqlExecutor, SqlValue } from './sqlRepositories.js';
import { SqlStore } from './sqlStore.js';

export interface SqliteStoreOptions {
  /** Milliseconds a writer waits for another connection's lock before failing. Default 5000. */
  busyTimeoutMs?: number;
  /** Migrations to apply; the gateway's own list unless a test gives another. */
  migrations?: readonly Migration[];
  /**
   * How commits reach the disk. FULL (the default): each commit's WAL frames are synced
   * before it returns, so an index or chain write that returned survives a power loss.
   * NORMAL syncs only at checkpoints: faster, but the last commits can vanish. The bench
   * compares the two.
   */
  synchronous?: SqliteSynchronous;
}

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export class SqliteStore extends SqlStore {
  readonly path: string;

  #db: Database.Database | null;
  readonly #statements = new Map<string, Database.Statement>();
  readonly #migrations: readonly Migration[];
  /**
   * Set while a transaction is open on the one connection: every statement outside it
   * waits for this to settle, so nothing interleaves into the open transaction.
   */
  #txGate: Promise<void> | null = null;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    super();
    const inMemory = path === ':memory:' || path === '';
    this.path = inMemory ? ':memory:' : resolve(path);
    this.#migrations = opts.migrations ?? MIGRATIONS;
    try {
      if (!inMemory) mkdirSync(dirname(this.path), { recursive: true });
      this.#db = new Database(this.path);
    } catch (err) {
      throw new GatewayError('CONFIG_INVALID', `cannot open the SQLite store at ${this.path}: ${errorMessage(err)}`, {
        hint: 'Check store.sqlitePath: its directory must be writable by the gateway user.',
        cause: err,
      });
    }
    const db = this.#db;
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000))}`);
      if (!inMemory) db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = ON');
    } catch (err) {
      db.close();
      this.#db = null;
      throw new GatewayError('CONFIG_INVALID', `cannot use ${this.path} as a SQLite store: ${errorMessage(err)}`, {
        hint: 'The file exists but is not a SQLite database, or it is locked by another program.',
        cause: err,
      });
    }
  }

  protected async queryRows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    while (this.#txGate !== null) await this.#txGate;
    return this.#all(sql, params);
  }

  protected async execute(sql: string, params: readonly SqlValue[]): Promise<number> {
    while (this.#txGate !== null) await this.#txGate;
    return this.#run(sql, params);
  }

  /**
   * One transaction at a time on the single connection (BEGIN IMMEDIATE, so another
   * process's writer cannot slip in between our read and write). While it is open, every
   * other statement of this store waits; better-sqlite3 runs each statement synchronously,
   * and a waiter runs its statement in the same turn as it finds the gate open, so
   * nothing interleaves into a transaction.
   */
  protected async runTransaction<T>(body: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    // The check and the taking of the gate must not be separated by an await.
    while (this.#txGate !== null) await this.#txGate;
    let release: () => void = () => undefined;
    this.#txGate = new Promise<void>((resolve) => (release = resolve));
    try {
      const db = this.#open();
      db.exec('BEGIN IMMEDIATE');
      const rollback = () => {
        if (db.open && db.inTransaction) db.exec('ROLLBACK');
      };
      let result: T;
      try {
        result = await body({
          all: async (sql, params = []) => this.#all(sql, params),
          run: async (sql, params = []) => this.#run(sql, params),
          isUniqueViolation: (err) => this.isUniqueViolation(err),
        });
      } catch (err) {
        rollback();
        throw err;
      }
      try {
        db.exec('COMMIT');
      } catch (err) {
        rollback();
        throw err;
      }
      return result;
    } finally {
      this.#txGate = null;
      release();
    }
  }

  #all(sql: string, params: readonly SqlValue[]): Record<string, unknown>[] {
    return this.#statement(sql).all(...params) as Record<string, unknown>[];
  }

  #run(sql: string, params: readonly SqlValue[]): number {
    return this.#statement(sql).run(...params).changes;
  }

  protected isUniqueViolation(err: unknown): boolean {
    return err instanceof Database.SqliteError && (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE');
  }

  /** Applies pending migrations, each in its own IMMEDIATE transaction, so concurrent starters do not collide. */
  async migrate(): Promise<void> {
    const db = this.#open();
    db.exec(SCHEMA_MIGRATIONS_DDL);
    const appliedVersions = (): number[] =>
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => Number(r.version));
    for (const migration of pendingMigrations(appliedVersions(), this.#migrations)) {
      const apply = db.transaction(() => {
        // Another process may have applied it between the read above and this lock.
        if (appliedVersions().includes(migration.version)) return;
        db.exec(migrationSql(migration, 'sqlite'));
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          migration.version,
          migration.name,
          new Date().toISOString(),
        );
      });
      try {
        apply.immediate();
      } catch (err) {
        throw new GatewayError(
          'CONFIG_INVALID',
          `migration ${migration.version} (${migration.name}) failed on ${this.path}: ${errorMessage(err)}`,
          { hint: 'The store is unchanged by this migration; fix the cause and start again.', cause: err },
        );
      }
    }
    this.#statements.clear();
  }

  /** Versions recorded in schema_migrations, ascending. */
  async appliedMigrations(): Promise<number[]> {
    const db = this.#open();
    db.exec(SCHEMA_MIGRATIONS_DDL);
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    return rows.map((r) => Number(r.version));
  }

  /** The durability settings in force on the connection (journal mode, synchronous level). */
  durability(): { journalMode: string; synchronous: string } {
    const db = this.#open();
    const journalMode = String(db.pragma('journal_mode', { simple: true }));
    const level = Number(db.pragma('synchronous', { simple: true }));
    return { journalMode, synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][level] ?? String(level) };
  }

  async close(): Promise<void> {
    while (this.#txGate !== null) await this.#txGate;
    const db = this.#db;
    if (db === null) return;
    this.#db = null;
    this.#statements.clear();
    db.close();
  }

  #open(): Database.Database {
    if (this.#db === null) throw new Error(`the SQLite store at ${this.path} is closed`);
    return this.#db;
  }

  #statement(sql: string): Database.Statement<SqlValue[]> {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.#open().prepare(sql);
      this.#statements.set(sql, stmt);
    } else {
      this.#open();
    }
    return stmt as Database.Statement<SqlValue[]>;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
