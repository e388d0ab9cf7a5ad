/**
 * The SQLite worker thread's program and the messages it exchanges with SqliteWorkerStore.
 *
 * The thread is started from this function's source text (`new Worker(code, { eval: true })`),
 * so the same code runs from the compiled gateway and from the TypeScript sources under test.
 * Therefore the function must be self-contained: it may use only its parameter, globals and
 * type-only imports, never a binding of this module.
 */
import type * as WorkerThreads from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

export type SqliteParam = string | number | null;

/** What the main thread asks; `id` pairs each answer with its request. */
export type ToSqliteThread =
  | { id: number; op: 'open'; path: string; inMemory: boolean; busyTimeoutMs: number; synchronous: 'FULL' | 'NORMAL' }
  | { id: number; op: 'all'; sql: string; params: readonly SqliteParam[] }
  | { id: number; op: 'run'; sql: string; params: readonly SqliteParam[] }
  | { id: number; op: 'exec'; sql: string }
  | { id: number; op: 'rollback' }
  /** The next slice of a large result of request `id`. */
  | { id: number; op: 'more' }
  | { id: number; op: 'applied'; ddl: string }
  | { id: number; op: 'migrate'; ddl: string; migrations: readonly { version: number; name: string; sql: string }[] }
  | { id: number; op: 'durability' }
  | { id: number; op: 'close' };

/** A failure as it crosses the thread boundary (an Error instance would lose its class and code). */
export interface SqliteThreadError {
  name: string;
  message: string;
  /** SqliteError's code, e.g. SQLITE_BUSY or SQLITE_CONSTRAINT_UNIQUE. */
  code?: string;
  /** The connection could not be opened or configured: every request answers with this. */
  openFailed?: 'open' | 'configure';
  /** The version of the migration that failed. */
  migration?: number;
}

export type FromSqliteThread =
  /** `more`: further rows follow; ask for them with op `more`. */
  { id: number; ok: true; value: unknown; more?: boolean } | { id: number; ok: false; error: SqliteThreadError };

/**
 * Rows per message. Deserialising a message runs on the main thread in one go (about 2 µs a
 * row of a dozen columns), so a 10,000-row result is handed over in slices of about 4 ms
 * instead of one 20 ms block: two at first, then one more each time the main thread has
 * taken one and let a turn of the loop pass. Each slice costs a round trip to the thread, so
 * slices are not made smaller than that.
 */
export const ROWS_PER_MESSAGE = 2000;

/**
 * The thread's whole program: one better-sqlite3 connection; requests run one at a time in
 * arrival order, so a lock held by another process (busy timeout) waits here, not on the
 * event loop.
 */
export function sqliteThreadMain(require: NodeJS.Require, driverPath: string, rowsPerMessage: number): void {
  const { parentPort } = require('node:worker_threads') as typeof WorkerThreads;
  const Database = require(driverPath) as typeof BetterSqlite3;
  const port = parentPort;
  if (!port) throw new Error('the SQLite store thread runs as a worker thread');

  let db: BetterSqlite3.Database | null = null;
  let openError: SqliteThreadError | null = null;
  const statements = new Map<string, BetterSqlite3.Statement<SqliteParam[]>>();
  /** Large results not yet fully handed over, by request id. */
  const unsent = new Map<number, { rows: unknown[]; next: number }>();

  const send = (msg: FromSqliteThread) => port.postMessage(msg);
  const toError = (err: unknown, extra: Partial<SqliteThreadError> = {}): SqliteThreadError => {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}), ...extra };
  };
  const connection = (): BetterSqlite3.Database => {
    if (db === null) throw new Error('the SQLite store is closed');
    return db;
  };
  const statement = (sql: string) => {
    let stmt = statements.get(sql);
    if (stmt === undefined) {
      stmt = connection().prepare<SqliteParam[]>(sql);
      statements.set(sql, stmt);
    } else connection();
    return stmt;
  };
  /** Sends the slice of `rows` from `from` on, and notes what is left for the next `more`. */
  const slice = (id: number, rows: unknown[], from: number) => {
    const next = from + rowsPerMessage;
    if (next < rows.length) {
      unsent.set(id, { rows, next });
      send({ id, ok: true, value: rows.slice(from, next), more: true });
    } else {
      unsent.delete(id);
      send({ id, ok: true, value: from === 0 ? rows : rows.slice(from) });
    }
  };
  const sendMore = (id: number) => {
    const left = unsent.get(id);
    if (left !== undefined) slice(id, left.rows, left.next);
  };
  const applied = (conn: BetterSqlite3.Database, ddl: string): number[] => {
    conn.exec(ddl);
    return (conn.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) =>
      Number(r.version),
    );
  };

  port.on('message', (msg: ToSqliteThread) => {
    // A failed open answers every request with its error (openError set by then).
    if (msg.op === 'open') {
      try {
        db = new Database(msg.path);
      } catch (err) {
        openError = toError(err, { openFailed: 'open' });
        send({ id: msg.id, ok: false, error: openError });
        return;
      }
      try {
        db.pragma(`busy_timeout = ${msg.busyTimeoutMs}`);
        if (!msg.inMemory) db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${msg.synchronous}`);
        db.pragma('foreign_keys = ON');
      } catch (err) {
        db.close();
        db = null;
        openError = toError(err, { openFailed: 'configure' });
        send({ id: msg.id, ok: false, error: openError });
        return;
      }
      send({ id: msg.id, ok: true, value: null });
      return;
    }
    if (openError !== null) {
      send(msg.op === 'close' ? { id: msg.id, ok: true, value: null } : { id: msg.id, ok: false, error: openError });
      return;
    }
    try {
      switch (msg.op) {
        case 'all':
          slice(msg.id, statement(msg.sql).all(...msg.params), 0);
          // One slice ahead: the next is on its way while the main thread takes this one.
          sendMore(msg.id);
          return;
        case 'more':
          sendMore(msg.id);
          return;
        case 'run':
          send({ id: msg.id, ok: true, value: statement(msg.sql).run(...msg.params).changes });
          return;
        case 'exec':
          connection().exec(msg.sql);
          break;
        case 'rollback': {
          const conn = connection();
          if (conn.inTransaction) conn.exec('ROLLBACK');
          break;
        }
        case 'applied':
          send({ id: msg.id, ok: true, value: applied(connection(), msg.ddl) });
          return;
        case 'migrate': {
          const conn = connection();
          for (const migration of msg.migrations) {
            const apply = conn.transaction(() => {
              // Another process may have applied it between the main thread's read and this lock.
              if (applied(conn, msg.ddl).includes(migration.version)) return;
              conn.exec(migration.sql);
              conn
                .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
                .run(migration.version, migration.name, new Date().toISOString());
            });
            try {
              apply.immediate();
            } catch (err) {
              statements.clear();
              send({ id: msg.id, ok: false, error: toError(err, { migration: migration.version }) });
              return;
            }
          }
          statements.clear();
          break;
        }
        case 'durability': {
          const conn = connection();
          send({
            id: msg.id,
            ok: true,
            value: {
              journalMode: conn.pragma('journal_mode', { simple: true }),
              synchronous: conn.pragma('synchronous', { simple: true }),
            },
          });
          return;
        }
        case 'close':
          statements.clear();
          unsent.clear();
          db?.close();
          db = null;
          break;
      }
      send({ id: msg.id, ok: true, value: null });
    } catch (err) {
      send({ id: msg.id, ok: false, error: toError(err) });
    }
  });
}
