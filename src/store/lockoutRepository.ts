/** Login lockout counters (see access/lockout.ts), over the shared SQL executor. */
import type { LockoutRecord, LockoutRepository } from './store.js';
import type { SqlExecutor } from './sqlRepositories.js';

export class SqlLockoutRepository implements LockoutRepository {
  constructor(private readonly db: SqlExecutor) {}

  async list(): Promise<LockoutRecord[]> {
    const rows = await this.db.all('SELECT key, failures, locked_until_ms, touched_ms FROM login_lockouts ORDER BY key', []);
    return rows.map((r) => ({
      key: String(r.key),
      failures: Number(r.failures),
      lockedUntilMs: Number(r.locked_until_ms),
      touchedMs: Number(r.touched_ms),
    }));
  }

  async put(r: LockoutRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO login_lockouts (key, failures, locked_until_ms, touched_ms) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, locked_until_ms = excluded.locked_until_ms, touched_ms = excluded.touched_ms`,
      [r.key, r.failures, r.lockedUntilMs, r.touchedMs],
    );
  }

  async remove(key: string): Promise<void> {
    await this.db.run('DELETE FROM login_lockouts WHERE key = ?', [key]);
  }
}
