/**
 * The embedded store with its SQLite work on a worker thread: the same file, pragmas and
 * semantics as SqliteStore, but a lock held by another process (`psvgw verify`, a backup, an
 * editor), a long query or a slow fsync waits on that thread instead of freezing the event
 * loop that also serves live video.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { GatewayError } from '../errors.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_DDL, migrationSql, pendingMigrations, type Migration } from './migrations.js';
import type { SqliteStoreOptions } from './sqlite.js';
import type { SqlExecutor, SqlValue } from './sqlRepositories.js';
import { SqlStore } from './sqlStore.js';
import {
  ROWS_PER_MESSAGE,
  sqliteThreadMain,
  type FromSqliteThread,
  type SqliteThreadError,
  type ToSqliteThread,
} from './sqliteWorkerThread.js';

type Request = ToSqliteThread extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  /** Slices of a large result received so far. */
  rows: unknown[] | null;
}

export interface SqliteWorkerStoreOptions extends SqliteStoreOptions {
  /**
   * Called once if the thread dies (not at close): every later store call fails with the same
   * error, so the gateway must say so and stop being ready rather than fail call by call.
   */
  onLost?: (reason: Error) => void;
  /** The thread's JavaScript heap cap (MiB), so a runaway result kills the thread, not the process. Default: Node's. */
  maxHeapMb?: number;
}

/** The thread's source: its program applied to the worker's own require and the driver's resolved path. */
function threadSource(): string {
  const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
  // `__name`: a helper some TypeScript transforms call to keep function names; a no-op here.
  return `var __name = (f) => f;\n(${sqliteThreadMain.toString()})(require, ${JSON.stringify(driverPath)}, ${ROWS_PER_MESSAGE});\n`;
}
let source: string | null = null;

export class SqliteWorkerStore extends SqlStore {
  readonly path: string;

  readonly #worker: Worker;
  readonly #migrations: readonly Migration[];
  readonly #onLost: ((reason: Error) => void) | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Set once the thread is gone (closed, or died): every later request fails with it. */
  #stopped: Error | null = null;
  #closing: Promise<void> | null = null;
  /** Resolved when the last pending request is answered (close waits for it). */
  #idle: (() => void)[] = [];
  /**
   * Set while a transaction is open on the thread's one connection: every statement outside
   * it waits for this to settle. A waiter posts its statement in the same turn as it finds
   * the gate open, and the thread runs requests in arrival order, so nothing interleaves
   * into a transaction.
   */
  #txGate: Promise<void> | null = null;

  constructor(path: string, opts: SqliteWorkerStoreOptions = {}) {
    super();
    const inMemory = path === ':memory:' || path === '';
    this.path = inMemory ? ':memory:' : resolve(path);
    this.#migrations = opts.migrations ?? MIGRATIONS;
    this.#onLost = opts.onLost;
    try {
      if (!inMemory) mkdirSync(dirname(this.path), { recursive: true });
    } catch (err) {
      throw openError(this.path, { name: 'Error', message: errorMessage(err), openFailed: 'open' }, err);
    }
    source ??= threadSource();
    const resourceLimits = opts.maxHeapMb === undefined ? undefined : { maxOldGenerationSizeMb: opts.maxHeapMb };
    this.#worker = new Worker(source, { eval: true, name: 'psvgw-sqlite', resourceLimits });
    this.#worker.on('message', (msg: FromSqliteThread) => this.#onMessage(msg));
    this.#worker.on('error', (err) => this.#stop(new Error(`the SQLite store thread failed: ${err.message}`, { cause: err })));
    this.#worker.on('exit', (code) => this.#stop(new Error(`the SQLite store thread exited (code ${code})`)));
    // Held only while a request is pending, so an idle store does not keep the process alive.
    this.#worker.unref();
    // A failed open is answered again to every later request (migrate() comes first in openStore).
    this.#send({
      op: 'open',
      path: this.path,
      inMemory,
      busyTimeoutMs: Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5000)),
      synchronous: opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL',
    }).catch(() => undefined);
  }

  protected async queryRows(sql: string, params: readonly SqlValue[]): Promise<Record<string, unknown>[]> {
    while (this.#txGate !== null) await this.#txGate;
    this.#refuseWhenClosing();
    return this.#send({ op: 'all', sql, params });
  }

  protected async execute(sql: string, params: readonly SqlValue[]): Promise<number> {
    while (this.#txGate !== null) await this.#txGate;
    this.#refuseWhenClosing();
    return this.#send({ op: 'run', sql, params });
  }

  /** BEGIN IMMEDIATE … COMMIT on the thread, one transaction at a time (see #txGate). */
  protected async runTransaction<T>(body: (executor: SqlExecutor) => Promise<T>): Promise<T> {
    // The check and the taking of the gate must not be separated by an await.
    while (this.#txGate !== null) await this.#txGate;
    this.#refuseWhenClosing();
    let release: () => void = () => undefined;
    this.#txGate = new Promise<void>((resolve) => (release = resolve));
    try {
      await this.#send({ op: 'exec', sql: 'BEGIN IMMEDIATE' });
      let result: T;
      try {
        result = await body({
          all: async (sql, params = []) => this.#send({ op: 'all', sql, params }),
          run: async (sql, params = []) => this.#send({ op: 'run', sql, params }),
          isUniqueViolation: (err) => this.isUniqueViolation(err),
        });
      } catch (err) {
        await this.#rollback();
        throw err;
      }
      try {
        await this.#send({ op: 'exec', sql: 'COMMIT' });
      } catch (err) {
        await this.#rollback();
        throw err;
      }
      return result;
    } finally {
      this.#txGate = null;
      release();
    }
  }

  protected isUniqueViolation(err: unknown): boolean {
    return err instanceof Database.SqliteError && (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE');
  }

  /** Applies pending migrations, each in its own IMMEDIATE transaction, so concurrent starters do not collide. */
  async migrate(): Promise<void> {
    const applied = await this.appliedMigrations();
    for (const migration of pendingMigrations(applied, this.#migrations)) {
      const { version, name } = migration;
      try {
        await this.#send({
          op: 'migrate',
          ddl: SCHEMA_MIGRATIONS_DDL,
          migrations: [{ version, name, sql: migrationSql(migration, 'sqlite') }],
        });
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        throw new GatewayError('CONFIG_INVALID', `migration ${version} (${name}) failed on ${this.path}: ${errorMessage(err)}`, {
          hint: 'The store is unchanged by this migration; fix the cause and start again.',
          cause: err,
        });
      }
    }
  }

  /** Versions recorded in schema_migrations, ascending. */
  async appliedMigrations(): Promise<number[]> {
    return this.#send({ op: 'applied', ddl: SCHEMA_MIGRATIONS_DDL });
  }

  /** The durability settings in force on the connection (journal mode, synchronous level). */
  async durability(): Promise<{ journalMode: string; synchronous: string }> {
    const d = await this.#send<{ journalMode: unknown; synchronous: unknown }>({ op: 'durability' });
    const level = Number(d.synchronous);
    return { journalMode: String(d.journalMode), synchronous: ['OFF', 'NORMAL', 'FULL', 'EXTRA'][level] ?? String(level) };
  }

  /** Lets every request already made finish, closes the connection and ends the thread. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    while (this.#txGate !== null) await this.#txGate;
    while (this.#pending.size > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#stopped === null) {
      try {
        await this.#send({ op: 'close' });
      } finally {
        this.#stop(this.#closedError());
        await this.#worker.terminate();
      }
    }
  }

  async #rollback(): Promise<void> {
    try {
      await this.#send({ op: 'rollback' });
    } catch {
      // The transaction's own error is the one to report; a dead thread took the transaction with it.
    }
  }

  #refuseWhenClosing(): void {
    if (this.#closing !== null) throw this.#closedError();
  }

  #closedError(): Error {
    return new Error(`the SQLite store at ${this.path} is closed`);
  }

  /** Posts a request in this very turn (callers rely on that for ordering) and resolves with its answer. */
  #send<T>(request: Request): Promise<T> {
    if (this.#stopped !== null) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, rows: null });
      if (this.#pending.size === 1) this.#worker.ref();
      this.#worker.postMessage({ ...request, id });
    });
  }

  #onMessage(msg: FromSqliteThread): void {
    const pending = this.#pending.get(msg.id);
    if (pending === undefined) return;
    if (msg.ok && msg.more === true) {
      (pending.rows ??= []).push(...(msg.value as unknown[]));
      // The next slice is asked for after this turn's I/O, so timers and sockets run between slices.
      setImmediate(() => {
        if (this.#stopped === null) this.#worker.postMessage({ id: msg.id, op: 'more' } satisfies ToSqliteThread);
      });
      return;
    }
    this.#settle(msg.id);
    if (msg.ok) pending.resolve(pending.rows === null ? msg.value : pending.rows.concat(msg.value as unknown[]));
    else pending.reject(msg.error.openFailed === undefined ? localError(msg.error) : openError(this.path, msg.error));
  }

  #settle(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size > 0) return;
    this.#worker.unref();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** The thread is gone: fail what is pending and everything after. */
  #stop(reason: Error): void {
    if (this.#stopped === null && this.#closing === null) this.#onLost?.(reason);
    this.#stopped ??= reason;
    for (const [id, pending] of [...this.#pending]) {
      this.#settle(id);
      pending.reject(this.#stopped);
    }
  }
}

/** The same errors as SqliteStore's constructor gives for a file it cannot open or configure. */
function openError(path: string, e: SqliteThreadError, cause: unknown = localError(e)): GatewayError {
  return e.openFailed === 'configure'
    ? new GatewayError('CONFIG_INVALID', `cannot use ${path} as a SQLite store: ${e.message}`, {
        hint: 'The file exists but is not a SQLite database, or it is locked by another program.',
        cause,
      })
    : new GatewayError('CONFIG_INVALID', `cannot open the SQLite store at ${path}: ${e.message}`, {
        hint: 'Check store.sqlitePath: its directory must be writable by the gateway user.',
        cause,
      });
}

/** Rebuilds a thread's error as the class the in-process driver throws (SqliteError keeps its code). */
function localError(e: SqliteThreadError): Error {
  if (e.name === 'SqliteError' && e.code !== undefined) return new Database.SqliteError(e.message, e.code);
  const err =
    e.name === 'TypeError' ? new TypeError(e.message) : e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message);
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  return err;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
