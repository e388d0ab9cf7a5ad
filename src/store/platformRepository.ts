/** GB/T 28181 upper platforms added through the API, over the shared SQL executor. */
import type { PlatformRecord, PlatformRepository } from './store.js';
import { columnsOf, textOrNull, type SqlExecutor, type SqlValue } from './sqlRepositories.js';

const SELECT = 'SELECT id, settings, password_box, state, pending_change_id, created_by, created_at FROM gb28181_platforms';

function fromRow(r: Record<string, unknown>): PlatformRecord {
  return {
    id: String(r.id),
    settings: JSON.parse(String(r.settings)) as Record<string, unknown>,
    passwordBox: String(r.password_box),
    state: String(r.state) as PlatformRecord['state'],
    pendingChangeId: textOrNull(r.pending_change_id),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
  };
}

export class SqlPlatformRepository implements PlatformRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(p: PlatformRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO gb28181_platforms (id, settings, password_box, state, pending_change_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [p.id, JSON.stringify(p.settings), p.passwordBox, p.state, p.pendingChangeId, p.createdBy, p.createdAt],
    );
  }

  async get(id: string): Promise<PlatformRecord | undefined> {
    const rows = await this.db.all(`${SELECT} WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : fromRow(rows[0]);
  }

  async list(): Promise<PlatformRecord[]> {
    return (await this.db.all(`${SELECT} ORDER BY created_at, id`)).map(fromRow);
  }

  async update(id: string, change: Partial<Pick<PlatformRecord, 'settings' | 'state' | 'pendingChangeId'>>): Promise<boolean> {
    const sets = columnsOf<'settings' | 'state' | 'pendingChangeId'>(
      {
        ...(change.settings === undefined ? {} : { settings: JSON.stringify(change.settings) }),
        ...(change.state === undefined ? {} : { state: change.state }),
        ...(change.pendingChangeId === undefined ? {} : { pendingChangeId: change.pendingChangeId }),
      },
      { settings: 'settings', state: 'state', pendingChangeId: 'pending_change_id' },
    ).filter((c): c is readonly [string, SqlValue] => c[1] !== undefined);
    if (sets.length === 0) return (await this.get(id)) !== undefined;
    const changed = await this.db.run(`UPDATE gb28181_platforms SET ${sets.map(([col]) => `${col} = ?`).join(', ')} WHERE id = ?`, [
      ...sets.map(([, v]) => v),
      id,
    ]);
    return changed > 0;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM gb28181_platforms WHERE id = ?', [id])) > 0;
  }
}
