/**
 * The recording index: each camera's hash chain of segments and deletions, the signed
 * checkpoints of its head, the gaps with their causes, and evidence holds. Written once
 * over the shared SQL executor, like the other repositories.
 */
import type { ChainEntry, ChainEntryKind, Checkpoint, EvidenceHold, KeyRotation, RecordingGap, RegisteredKey } from '../domain/index.js';
import type { SqlExecutor, SqlValue } from './sqlRepositories.js';
import type { EntryQuery, RecordingRepository } from './store.js';

const ENTRY_COLUMNS =
  'camera_id, seq, kind, path, start_ms, end_ms, bytes, sha256, partial, detail, prev_hash, entry_hash, at, deleted_at, node, key_fingerprint';
const KEY_COLUMNS = 'fingerprint, node, public_key, created_at, retired_at';
const HOLD_COLUMNS = 'id, camera_ids, start_ms, end_ms, reason, created_by, created_at, lifted_by, lifted_at, lift_reason';

export class SqlRecordingRepository implements RecordingRepository {
  constructor(private readonly db: SqlExecutor) {}

  async head(cameraId: string): Promise<ChainEntry | undefined> {
    const rows = await this.db.all(`SELECT ${ENTRY_COLUMNS} FROM recording_entries WHERE camera_id = ? ORDER BY seq DESC LIMIT 1`, [
      cameraId,
    ]);
    return rows[0] === undefined ? undefined : rowToEntry(rows[0]);
  }

  async append(e: ChainEntry): Promise<void> {
    await this.db.run(`INSERT INTO recording_entries (${ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      e.cameraId,
      e.seq,
      e.kind,
      e.path,
      e.startMs,
      e.endMs,
      e.bytes,
      e.sha256,
      e.partial ? 1 : 0,
      JSON.stringify(e.detail),
      e.prevHash,
      e.entryHash,
      e.at,
      e.deletedAt,
      e.node ?? null,
      e.keyFingerprint ?? null,
    ]);
  }

  async entry(cameraId: string, seq: number): Promise<ChainEntry | undefined> {
    const rows = await this.db.all(`SELECT ${ENTRY_COLUMNS} FROM recording_entries WHERE camera_id = ? AND seq = ?`, [cameraId, seq]);
    return rows[0] === undefined ? undefined : rowToEntry(rows[0]);
  }

  async lastSegment(cameraId: string): Promise<ChainEntry | undefined> {
    const rows = await this.db.all(
      `SELECT ${ENTRY_COLUMNS} FROM recording_entries WHERE camera_id = ? AND kind = 'segment' ORDER BY seq DESC LIMIT 1`,
      [cameraId],
    );
    return rows[0] === undefined ? undefined : rowToEntry(rows[0]);
  }

  async entries(query: EntryQuery = {}): Promise<ChainEntry[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (clause: string, value: SqlValue) => {
      where.push(clause);
      params.push(value);
    };
    if (query.cameraId !== undefined) add('camera_id = ?', query.cameraId);
    if (query.kind !== undefined) add('kind = ?', query.kind);
    if (query.fromMs !== undefined) add('end_ms >= ?', query.fromMs);
    if (query.toMs !== undefined) add('start_ms <= ?', query.toMs);
    const sql = `SELECT ${ENTRY_COLUMNS} FROM recording_entries${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY camera_id, seq`;
    return (await this.db.all(sql, params)).map(rowToEntry);
  }

  async liveSegmentsEndingBy(cameraId: string, endMs: number): Promise<ChainEntry[]> {
    // The literals (not parameters) let SQLite use the partial index on live segments.
    const rows = await this.db.all(
      `SELECT ${ENTRY_COLUMNS} FROM recording_entries WHERE camera_id = ? AND kind = 'segment' AND deleted_at IS NULL AND end_ms <= ? ORDER BY seq`,
      [cameraId, endMs],
    );
    return rows.map(rowToEntry);
  }

  async markDeleted(cameraId: string, seq: number, at: string): Promise<void> {
    await this.db.run('UPDATE recording_entries SET deleted_at = ? WHERE camera_id = ? AND seq = ?', [at, cameraId, seq]);
  }

  async pendingFileRemovals(node: string, limit: number): Promise<ChainEntry[]> {
    // The literals (not parameters) let SQLite use the partial index on pending removals.
    const rows = await this.db.all(
      `SELECT ${ENTRY_COLUMNS} FROM recording_entries WHERE node = ? AND kind = 'segment' AND deleted_at IS NOT NULL AND file_removed_at IS NULL ORDER BY camera_id, seq LIMIT ?`,
      [node, limit],
    );
    return rows.map(rowToEntry);
  }

  async markFileRemoved(cameraId: string, seq: number, at: string): Promise<void> {
    await this.db.run('UPDATE recording_entries SET file_removed_at = ? WHERE camera_id = ? AND seq = ?', [at, cameraId, seq]);
  }

  async cameraIds(): Promise<string[]> {
    const rows = await this.db.all('SELECT DISTINCT camera_id FROM recording_entries ORDER BY camera_id');
    return rows.map((r) => String(r.camera_id));
  }

  async storedBytes(): Promise<number> {
    const rows = await this.db.all(
      "SELECT COALESCE(SUM(bytes), 0) AS total FROM recording_entries WHERE kind = 'segment' AND deleted_at IS NULL",
    );
    return Number(rows[0]?.total ?? 0);
  }

  async addCheckpoint(c: Checkpoint): Promise<void> {
    await this.db.run(
      'INSERT INTO recording_checkpoints (camera_id, seq, head_hash, signed_at, signature, version, prev_hash, key_fingerprint, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [c.cameraId, c.seq, c.headHash, c.signedAt, c.signature, c.version, c.prevHash, c.keyFingerprint, c.node ?? null],
    );
  }

  async checkpoints(cameraId: string): Promise<Checkpoint[]> {
    const rows = await this.db.all(
      'SELECT camera_id, seq, head_hash, signed_at, signature, version, prev_hash, key_fingerprint, node FROM recording_checkpoints WHERE camera_id = ? ORDER BY seq, id',
      [cameraId],
    );
    return rows.map((r) => ({
      cameraId: String(r.camera_id),
      seq: Number(r.seq),
      headHash: String(r.head_hash),
      signedAt: String(r.signed_at),
      version: Number(r.version) === 2 ? 2 : 1,
      prevHash: r.prev_hash === null || r.prev_hash === undefined ? null : String(r.prev_hash),
      keyFingerprint: text(r.key_fingerprint),
      signature: String(r.signature),
      ...(r.node === null || r.node === undefined ? {} : { node: String(r.node) }),
    }));
  }

  async registerKey(k: RegisteredKey): Promise<void> {
    await this.db.run(`INSERT INTO signing_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [
      k.fingerprint,
      k.node,
      k.publicKeyPem,
      k.createdAt,
      k.retiredAt,
    ]);
  }

  async retireKey(fingerprint: string, at: string): Promise<boolean> {
    const before = await this.db.all('SELECT fingerprint FROM signing_keys WHERE fingerprint = ? AND retired_at IS NULL', [fingerprint]);
    if (before.length === 0) return false;
    await this.db.run('UPDATE signing_keys SET retired_at = ? WHERE fingerprint = ? AND retired_at IS NULL', [at, fingerprint]);
    return true;
  }

  async renameKeyNode(fingerprint: string, node: string): Promise<void> {
    await this.db.run('UPDATE signing_keys SET node = ? WHERE fingerprint = ?', [node, fingerprint]);
  }

  async signingKeys(): Promise<RegisteredKey[]> {
    const rows = await this.db.all(`SELECT ${KEY_COLUMNS} FROM signing_keys ORDER BY created_at, fingerprint`);
    return rows.map((r) => ({
      fingerprint: String(r.fingerprint),
      node: String(r.node),
      publicKeyPem: String(r.public_key),
      createdAt: String(r.created_at),
      retiredAt: text(r.retired_at),
    }));
  }

  async addKeyRotation(r: KeyRotation): Promise<void> {
    await this.db.run('INSERT INTO recording_key_rotations (old_public_key, new_public_key, at, signature) VALUES (?, ?, ?, ?)', [
      r.oldPublicKey,
      r.newPublicKey,
      r.at,
      r.signature,
    ]);
  }

  async keyRotations(): Promise<KeyRotation[]> {
    const rows = await this.db.all('SELECT old_public_key, new_public_key, at, signature FROM recording_key_rotations ORDER BY id');
    return rows.map((r) => ({
      oldPublicKey: String(r.old_public_key),
      newPublicKey: String(r.new_public_key),
      at: String(r.at),
      signature: String(r.signature),
    }));
  }

  async openGap(cameraId: string, startMs: number, cause: string): Promise<void> {
    await this.db.run('INSERT INTO recording_gaps (camera_id, start_ms, end_ms, cause) VALUES (?, ?, NULL, ?)', [cameraId, startMs, cause]);
  }

  async closeGap(cameraId: string, endMs: number): Promise<void> {
    await this.db.run('UPDATE recording_gaps SET end_ms = ? WHERE camera_id = ? AND end_ms IS NULL', [endMs, cameraId]);
  }

  async gaps(cameraId: string, fromMs: number, toMs: number): Promise<RecordingGap[]> {
    const rows = await this.db.all(
      'SELECT id, camera_id, start_ms, end_ms, cause FROM recording_gaps WHERE camera_id = ? AND start_ms <= ? AND (end_ms IS NULL OR end_ms >= ?) ORDER BY start_ms, id',
      [cameraId, toMs, fromMs],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      cameraId: String(r.camera_id),
      startMs: Number(r.start_ms),
      endMs: r.end_ms === null || r.end_ms === undefined ? null : Number(r.end_ms),
      cause: String(r.cause),
    }));
  }

  async createHold(h: Omit<EvidenceHold, 'id' | 'liftedBy' | 'liftedAt' | 'liftReason'>): Promise<EvidenceHold> {
    await this.db.run(
      'INSERT INTO evidence_holds (camera_ids, start_ms, end_ms, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [JSON.stringify(h.cameraIds), h.startMs, h.endMs, h.reason, h.createdBy, h.createdAt],
    );
    // Identify the new row by its content: portable across both dialects without RETURNING.
    const rows = await this.db.all(
      `SELECT ${HOLD_COLUMNS} FROM evidence_holds WHERE created_at = ? AND created_by = ? AND reason = ? ORDER BY id DESC LIMIT 1`,
      [h.createdAt, h.createdBy, h.reason],
    );
    return rowToHold(rows[0] ?? {});
  }

  async holds(): Promise<EvidenceHold[]> {
    return (await this.db.all(`SELECT ${HOLD_COLUMNS} FROM evidence_holds ORDER BY id`)).map(rowToHold);
  }

  async liftHold(id: number, by: string, at: string, reason: string): Promise<EvidenceHold | undefined> {
    await this.db.run('UPDATE evidence_holds SET lifted_by = ?, lifted_at = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL', [
      by,
      at,
      reason,
      id,
    ]);
    const rows = await this.db.all(`SELECT ${HOLD_COLUMNS} FROM evidence_holds WHERE id = ?`, [id]);
    return rows[0] === undefined ? undefined : rowToHold(rows[0]);
  }
}

function rowToEntry(r: Record<string, unknown>): ChainEntry {
  return {
    cameraId: String(r.camera_id),
    seq: Number(r.seq),
    kind: String(r.kind) as ChainEntryKind,
    path: String(r.path),
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    bytes: Number(r.bytes),
    sha256: String(r.sha256),
    partial: Number(r.partial) === 1,
    detail: parseDetail(r.detail),
    prevHash: String(r.prev_hash),
    entryHash: String(r.entry_hash),
    at: String(r.at),
    deletedAt: text(r.deleted_at),
    // Named only on entries that name their writer (older entries read as they were written).
    ...writer(r),
  };
}

function writer(r: Record<string, unknown>): Pick<ChainEntry, 'node' | 'keyFingerprint'> {
  const node = text(r.node);
  const keyFingerprint = text(r.key_fingerprint);
  return node === null && keyFingerprint === null ? {} : { node, keyFingerprint };
}

function text(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function rowToHold(r: Record<string, unknown>): EvidenceHold {
  return {
    id: Number(r.id),
    cameraIds: JSON.parse(String(r.camera_ids ?? '[]')) as string[],
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    reason: String(r.reason),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
    liftedBy: text(r.lifted_by),
    liftedAt: text(r.lifted_at),
    liftReason: text(r.lift_reason),
  };
}

function parseDetail(v: unknown): Record<string, unknown> {
  if (typeof v !== 'string') return {};
  const parsed: unknown = JSON.parse(v);
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}
