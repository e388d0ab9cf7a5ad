/**
 * The shared store: PostgreSQL through a pg Pool, for several gateway nodes working on
 * one database. Same repositories and migrations as SQLite.
 */
import pg from 'pg';
import { GatewayError } from '../errors.js';
import { redactUrl } from '../log.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, migrationSql, pendingMigrations, type Migration } from './migrations.js';
import type { SqlExecutor, SqlValue } from './sqlRepositories.js';
import { SqlStore } from './sqlStore.js';

export interface PostgresStoreOptions {
  /** Keep the tables in this schema (created on migrate) instead of the connection's default. */
  schema?: string;
  /** Most connections the pool opens. Default 10. */
  maxConnections?: number;
  /** Milliseconds to wait for a connection. Default 10 000. */
  connectTimeoutMs?: number;
  /** Migrations to apply; the gateway's own list unless a test gives another. */
  migrations?: readonly Migration[];
}

const HINT = 'Check store.postgresUrl: the server must be running and reachable, and the user allowed to connect.';

export class PostgresStore extends SqlStore {
  /** Audit appenders queue on a transaction-scoped lock per schema (released at COMMIT/ROLLBACK). */
  protected override readonly auditLockSql = "SELECT pg_advisory_xact_lock(hashtext('psvgw.audit_log.' || current_schema()))";
  readonly #pool: pg.Pool;
  readonly #where: string;
  readonly #schema: string | undefined;
  readonly #migrations: readonly Migration[];
  readonly #placeholders = new Map<string, string>();
  #closing: Promise<void> | null = null;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    super();
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) {
      throw new GatewayError('CONFIG_INVALID', `PostgreSQL schema name "${opts.schema}" is not allowed`, {
        hint: 'Use lower-case letters, digits and underscores, starting with a letter or underscore.',
      });
    }
    this.#schema = opts.schema;
    this.#where = redactUrl(url);
    this.#migrations = opts.migrations ?? MIGRATIONS;
    this.#pool = new pg.Pool({
      connectionString: url,
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      ...(opts.schema === undefined ? {} : { options: `-c search_path=${opts.schema}` }),
    });
    // An idle client losing its server must not crash the process; the next query reconnects.
    this.#pool.on('error', () => undefined);
  }

  protected async queryRows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    return (await this.#query(sql, params)).rows as Record<string, unknown>[];
  }

  protected async execute(sql: string, params: readonly SqlValue[]): Promise<number> {
    return (await this.#query(sql, params)).rowCount ?? 0;
  }

  protected isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === '23505';
  }

  /** A pooled client of its own, between BEGIN and COMMIT (ROLLBACK when `body` throws). */
  protected async runTransaction<T>(body: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    let broken: Error | undefined;
    try {
      await this.#query('BEGIN', [], client);
      try {
        const result = await body({
          all: async (text, params = []) => (await this.#query(text, params, client)).rows as Record<string, unknown>[],
          run: async (text, params = []) => (await this.#query(text, params, client)).rowCount ?? 0,
          isUniqueViolation: (err) => this.isUniqueViolation(err),
        });
        await this.#query('COMMIT', [], client);
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          // A client that cannot roll back is not given back to the pool.
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        });
        throw err;
      }
    } catch (err) {
      if (broken === undefined && isDatabaseUnreachable(err)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Applies pending migrations, each in its own transaction, under an advisory lock so
   * that nodes starting together migrate one at a time.
   */
  async migrate(): Promise<void> {
    const client = await this.#connect();
    const lockKey = `psvgw.migrations.${this.#schema ?? ''}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
      try {
        if (this.#schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
        await client.query(SCHEMA_MIGRATIONS_DDL);
        const applied = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
        for (const migration of pendingMigrations(
          applied.rows.map((r) => Number(r.version)),
          this.#migrations,
        )) {
          try {
            await client.query('BEGIN');
            await client.query(migrationSql(migration, 'postgres'));
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
              migration.version,
              migration.name,
              new Date().toISOString(),
            ]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw new GatewayError(
              'CONFIG_INVALID',
              `migration ${migration.version} (${migration.name}) failed on ${this.#where}: ${errorMessage(err)}`,
              { hint: 'The store is unchanged by this migration; fix the cause and start again.', cause: err },
            );
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
      }
    } finally {
      client.release();
    }
  }

  /** Versions recorded in schema_migrations, ascending. */
  async appliedMigrations(): Promise<number[]> {
    const rows = await this.#query('SELECT version FROM schema_migrations ORDER BY version', []);
    return rows.rows.map((r: { version: unknown }) => Number(r.version));
  }

  async close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    await this.#closing;
  }

  async #connect(): Promise<pg.PoolClient> {
    this.#checkOpen();
    try {
      return await this.#pool.connect();
    } catch (err) {
      throw new GatewayError('CONFIG_INVALID', `cannot connect to PostgreSQL at ${this.#where}: ${errorMessage(err)}`, {
        hint: HINT,
        cause: err,
      });
    }
  }

  async #query(sql: string, params: readonly SqlValue[], on: pg.Pool | pg.PoolClient = this.#pool): Promise<pg.QueryResult> {
    this.#checkOpen();
    try {
      return await on.query(this.#numbered(sql), params as SqlValue[]);
    } catch (err) {
      if (isConnectionError(err)) {
        throw new GatewayError('CONFIG_INVALID', `cannot reach PostgreSQL at ${this.#where}: ${errorMessage(err)}`, {
          hint: HINT,
          cause: err,
        });
      }
      throw err;
    }
  }

  #checkOpen(): void {
    if (this.#closing !== null) throw new Error(`the PostgreSQL store at ${this.#where} is closed`);
  }

  /** `?` placeholders (outside quotes) → `$1, $2, …`. */
  #numbered(sql: string): string {
    let out = this.#placeholders.get(sql);
    if (out === undefined) {
      let n = 0;
      let quote: string | null = null;
      out = '';
      for (const ch of sql) {
        if (quote !== null) {
          if (ch === quote) quote = null;
        } else if (ch === "'" || ch === '"') {
          quote = ch;
        } else if (ch === '?') {
          out += `$${++n}`;
          continue;
        }
        out += ch;
      }
      this.#placeholders.set(sql, out);
    }
    return out;
  }
}

/**
 * The server cannot be reached or is going away: refused or lost connections, and the
 * server's own "shutting down / starting up / terminating your connection" answers
 * (57P01-57P03), as a restart gives them. Not a refused statement.
 */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    return /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|EPIPE|57P01|57P02|57P03)$/.test(code) || code.startsWith('08');
  }
  // pg's own errors of a lost connection carry no code.
  const message = err instanceof Error ? err.message : '';
  return /^(Connection terminated|Client has encountered a connection error|Client was closed)/.test(message);
}

/**
 * True when `err` (or its cause) says PostgreSQL could not be reached, rather than that a
 * statement was refused: the cluster keeps recording through such an outage.
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (isConnectionError(e)) return true;
  }
  return false;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
