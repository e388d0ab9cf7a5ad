/** The web console's saved walls (see api/wallRoutes.ts), over the shared SQL executor. */
import type { WallRecord, WallRepository } from './store.js';
import type { SqlExecutor } from './sqlRepositories.js';

export class SqlWallRepository implements WallRepository {
  constructor(private readonly db: SqlExecutor) {}

  async list(userId: string): Promise<WallRecord[]> {
    const rows = await this.db.all('SELECT user_id, name, layout, tiles, updated_at FROM console_walls WHERE user_id = ? ORDER BY name', [
      userId,
    ]);
    return rows.map((r) => ({
      userId: String(r.user_id),
      name: String(r.name),
      layout: Number(r.layout),
      tiles: JSON.parse(String(r.tiles)) as Array<string | null>,
      updatedAt: String(r.updated_at),
    }));
  }

  async put(w: WallRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO console_walls (user_id, name, layout, tiles, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (user_id, name) DO UPDATE SET layout = excluded.layout, tiles = excluded.tiles, updated_at = excluded.updated_at`,
      [w.userId, w.name, w.layout, JSON.stringify(w.tiles), w.updatedAt],
    );
  }

  async remove(userId: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM console_walls WHERE user_id = ? AND name = ?', [userId, name])) > 0;
  }
}
