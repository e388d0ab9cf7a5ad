/**
 * Platform link leases in PostgreSQL (migration 28): which node holds each upstream
 * platform link. The same statements as the camera leases (clusterRepository.ts) on their
 * own table: database time only, claims skip a row another transaction holds, the epoch
 * only grows. Only a PostgreSQL store runs them.
 */
import type { SqlExecutor } from './sqlRepositories.js';
import type { HeldLinkLease, LinkLeaseRepository } from './store.js';

/** `?` milliseconds as an interval. */
const MS = "(CAST(? AS DOUBLE PRECISION) * INTERVAL '1 millisecond')";

export class SqlLinkLeaseRepository implements LinkLeaseRepository {
  constructor(private readonly db: SqlExecutor) {}

  async renew(node: string, ttlMs: number): Promise<HeldLinkLease[]> {
    // Expired or not (after a database outage): while the row still names the node, nobody has claimed it since.
    const rows = await this.db.all(`UPDATE platform_link_leases SET expires_at = now() + ${MS} WHERE owner = ? RETURNING link, epoch`, [
      ttlMs,
      node,
    ]);
    return rows.map((r) => ({ link: String(r.link), epoch: Number(r.epoch) }));
  }

  async claim(node: string, link: string, ttlMs: number): Promise<HeldLinkLease | null> {
    await this.db.run(
      `INSERT INTO platform_link_leases (link, owner, epoch, acquired_at, expires_at) VALUES (?, NULL, 0, NULL, now()) ON CONFLICT (link) DO NOTHING`,
      [link],
    );
    const rows = await this.db.all(
      `UPDATE platform_link_leases SET owner = ?, epoch = epoch + 1, acquired_at = now(), expires_at = now() + ${MS}
       WHERE link = (SELECT link FROM platform_link_leases WHERE link = ?
                     AND (owner IS NULL OR (expires_at <= now() AND (owner = ? OR now() - pg_postmaster_start_time() > ${MS})))
                     FOR UPDATE SKIP LOCKED)
       RETURNING epoch`,
      [node, ttlMs, link, node, ttlMs],
    );
    return rows[0] === undefined ? null : { link, epoch: Number(rows[0].epoch) };
  }

  async release(node: string, link: string, epoch: number): Promise<boolean> {
    const changed = await this.db.run(
      'UPDATE platform_link_leases SET owner = NULL, expires_at = now() WHERE link = ? AND owner = ? AND epoch = ?',
      [link, node, epoch],
    );
    return changed > 0;
  }

  async fence(link: string, node: string, epoch: number): Promise<boolean> {
    // FOR SHARE: no claim can take the lease until this transaction ends (as camera_leases).
    const rows = await this.db.all(
      'SELECT 1 AS held FROM platform_link_leases WHERE link = ? AND owner = ? AND epoch = ? AND expires_at > now() FOR SHARE',
      [link, node, epoch],
    );
    return rows.length > 0;
  }

  async holders(): Promise<Array<{ link: string; owner: string | null; epoch: number }>> {
    const rows = await this.db.all(
      `SELECT link, CASE WHEN owner IS NOT NULL AND expires_at > now() THEN owner ELSE NULL END AS owner, epoch FROM platform_link_leases ORDER BY link`,
    );
    return rows.map((r) => ({ link: String(r.link), owner: r.owner === null ? null : String(r.owner), epoch: Number(r.epoch) }));
  }
}
