/**
 * Cluster coordination in PostgreSQL: the nodes' heartbeats and the camera leases with
 * their fencing epochs. Every time is the database's (`now()`), never a node's clock.
 * Only a PostgreSQL store runs these statements (SQLite has one node and no leases).
 */
import type { SqlExecutor, SqlValue } from './sqlRepositories.js';
import type { ClusterNodeRecord, ClusterRepository, HeldLease, LeaseEvent, LeaseRecord, NodeBeat } from './store.js';

/** `?` milliseconds as an interval. */
const MS = "(CAST(? AS DOUBLE PRECISION) * INTERVAL '1 millisecond')";

export class SqlClusterRepository implements ClusterRepository {
  constructor(private readonly db: SqlExecutor) {}

  async beat(b: NodeBeat): Promise<ClusterNodeRecord> {
    await this.db.run(
      `INSERT INTO nodes (name, api_url, media_url, weight, cordoned, draining, started_at, last_seen) VALUES (?, ?, ?, ?, 0, 0, now(), now())
       ON CONFLICT (name) DO UPDATE SET api_url = EXCLUDED.api_url, media_url = EXCLUDED.media_url, weight = EXCLUDED.weight, last_seen = now()`,
      [b.name, b.apiUrl, b.mediaUrl ?? null, b.weight],
    );
    const own = (await this.nodes(b.aliveMs)).find((n) => n.name === b.name);
    if (own === undefined) throw new Error(`node ${b.name} vanished from the nodes table`);
    return own;
  }

  async nodes(aliveMs: number): Promise<ClusterNodeRecord[]> {
    const rows = await this.db.all(
      `SELECT name, api_url, media_url, weight, cordoned, draining, last_seen, CASE WHEN last_seen > now() - ${MS} THEN 1 ELSE 0 END AS alive
       FROM nodes ORDER BY name`,
      [aliveMs],
    );
    return rows.map((r) => ({
      name: String(r.name),
      apiUrl: r.api_url === null ? null : String(r.api_url),
      mediaUrl: r.media_url === null || r.media_url === undefined ? null : String(r.media_url),
      weight: Number(r.weight),
      cordoned: Number(r.cordoned) === 1,
      draining: Number(r.draining) === 1,
      lastSeen: toIso(r.last_seen),
      alive: Number(r.alive) === 1,
    }));
  }

  async setNodeFlags(name: string, flags: { cordoned: boolean; draining: boolean }): Promise<boolean> {
    const changed = await this.db.run('UPDATE nodes SET cordoned = ?, draining = ? WHERE name = ?', [
      flags.cordoned ? 1 : 0,
      flags.draining ? 1 : 0,
      name,
    ]);
    return changed > 0;
  }

  async leases(): Promise<LeaseRecord[]> {
    const rows = await this.db.all(
      `SELECT camera_id, owner, epoch, expires_at, CASE WHEN owner IS NOT NULL AND expires_at > now() THEN 1 ELSE 0 END AS valid
       FROM camera_leases ORDER BY camera_id`,
    );
    return rows.map((r) => ({
      cameraId: String(r.camera_id),
      owner: r.owner === null ? null : String(r.owner),
      epoch: Number(r.epoch),
      expiresAt: toIso(r.expires_at),
      valid: Number(r.valid) === 1,
    }));
  }

  async renew(node: string, ttlMs: number, held?: readonly HeldLease[]): Promise<HeldLease[]> {
    // Expired or not: while the node is still the owner at that epoch nobody has claimed the lease since, so
    // nobody has written under a newer epoch (a claim moves the owner and the epoch; a release clears the owner).
    const rows =
      held === undefined
        ? await this.db.all(`UPDATE camera_leases SET expires_at = now() + ${MS} WHERE owner = ? RETURNING camera_id, epoch`, [ttlMs, node])
        : await this.db.all(
            `UPDATE camera_leases SET expires_at = now() + ${MS}
             WHERE owner = ? AND (camera_id, epoch) IN (SELECT h->>'c', CAST(h->>'e' AS BIGINT) FROM json_array_elements(CAST(? AS json)) AS h)
             RETURNING camera_id, epoch`,
            [ttlMs, node, JSON.stringify(held.map((l) => ({ c: l.cameraId, e: l.epoch })))],
          );
    return rows.map((r) => ({ cameraId: String(r.camera_id), epoch: Number(r.epoch) }));
  }

  async claim(node: string, cameraId: string, ttlMs: number): Promise<HeldLease | null> {
    return (await this.claimBatch(node, [cameraId], ttlMs))[0] ?? null;
  }

  async claimBatch(node: string, cameraIds: readonly string[], ttlMs: number): Promise<HeldLease[]> {
    if (cameraIds.length === 0) return [];
    // One statement: a camera never claimed gets its row at epoch 1; a free or expired row moves to the node with
    // the next epoch (a row another transaction holds, a claim or the owner's fenced write, is skipped, not waited
    // for); each claim goes into the history. The sub-statements see one snapshot, so a row the INSERT makes is not
    // also taken by the UPDATE. Another node's expired lease is taken only once the server has been up for a lease
    // time: after a restart its owner renews it first (docs/cluster.md, "While PostgreSQL restarts").
    const rows = await this.db.all(
      `WITH want AS (SELECT DISTINCT value AS camera_id FROM json_array_elements_text(CAST(? AS json))),
       fresh AS (
         INSERT INTO camera_leases (camera_id, owner, epoch, acquired_at, expires_at)
         SELECT camera_id, ?, 1, now(), now() + ${MS} FROM want
         ON CONFLICT (camera_id) DO NOTHING RETURNING camera_id, epoch),
       taken AS (
         UPDATE camera_leases SET owner = ?, epoch = epoch + 1, acquired_at = now(), expires_at = now() + ${MS}
         WHERE camera_id IN (
           SELECT camera_id FROM camera_leases WHERE camera_id IN (SELECT camera_id FROM want)
             AND (owner IS NULL OR (expires_at <= now() AND (owner = ? OR now() - pg_postmaster_start_time() > ${MS})))
           ORDER BY camera_id LIMIT ? FOR UPDATE SKIP LOCKED)
         RETURNING camera_id, epoch),
       claimed AS (SELECT camera_id, epoch FROM fresh UNION ALL SELECT camera_id, epoch FROM taken),
       logged AS (
         INSERT INTO camera_lease_history (camera_id, node, epoch, event, at)
         SELECT camera_id, ?, epoch, 'claimed', clock_timestamp() FROM claimed)
       SELECT camera_id, epoch FROM claimed ORDER BY camera_id`,
      [JSON.stringify(cameraIds), node, ttlMs, node, ttlMs, node, ttlMs, cameraIds.length, node],
    );
    return rows.map((r) => ({ cameraId: String(r.camera_id), epoch: Number(r.epoch) }));
  }

  async release(node: string, cameraId: string, epoch: number): Promise<boolean> {
    const changed = await this.db.run(
      'UPDATE camera_leases SET owner = NULL, expires_at = now() WHERE camera_id = ? AND owner = ? AND epoch = ?',
      [cameraId, node, epoch],
    );
    if (changed > 0) await this.#history(cameraId, node, epoch, 'released');
    return changed > 0;
  }

  async fence(cameraId: string, node: string, epoch: number): Promise<boolean> {
    // FOR SHARE: no claim can take the lease until this transaction ends.
    const rows = await this.db.all(
      'SELECT 1 AS held FROM camera_leases WHERE camera_id = ? AND owner = ? AND epoch = ? AND expires_at > now() FOR SHARE',
      [cameraId, node, epoch],
    );
    return rows.length > 0;
  }

  async history(cameraId?: string): Promise<LeaseEvent[]> {
    const params: SqlValue[] = cameraId === undefined ? [] : [cameraId];
    const rows = await this.db.all(
      `SELECT camera_id, node, epoch, event, at FROM camera_lease_history${cameraId === undefined ? '' : ' WHERE camera_id = ?'} ORDER BY id`,
      params,
    );
    return rows.map((r) => ({
      cameraId: String(r.camera_id),
      node: String(r.node),
      epoch: Number(r.epoch),
      event: String(r.event) as LeaseEvent['event'],
      at: toIso(r.at),
    }));
  }

  async #history(cameraId: string, node: string, epoch: number, event: LeaseEvent['event']): Promise<void> {
    await this.db.run('INSERT INTO camera_lease_history (camera_id, node, epoch, event, at) VALUES (?, ?, ?, ?, clock_timestamp())', [
      cameraId,
      node,
      epoch,
      event,
    ]);
  }
}

function toIso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}
