import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ChainEntry } from '../../../src/domain/index.js';
import { ChainSigner, GENESIS_CHECKPOINT, entryHash, signingKeyPath } from '../../../src/recording/index.js';
import { CLI_PATH } from '../../helpers/gateway.js';

const run = promisify(execFile);

/** A copy of a gateway's directory (config, `data/` with store, key and recordings) to tamper with. */
export class DataDirCopy {
  readonly root: string;

  constructor(source: string) {
    this.root = mkdtempSync(join(tmpdir(), 'psvgw-tamper-'));
    cpSync(source, this.root, { recursive: true });
  }

  get dataDir(): string {
    return join(this.root, 'data');
  }

  get recordings(): string {
    return join(this.dataDir, 'recordings');
  }

  /** Runs `sql` edits on the store the way an attacker with write access would. */
  db<T>(edit: (db: Database.Database) => T): T {
    const db = new Database(join(this.dataDir, 'psvgw.db'));
    try {
      return edit(db);
    } finally {
      db.close();
    }
  }

  /** `psvgw verify` on this copy; resolves with exit code and output. */
  async verify(args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI_PATH, 'verify', '--config', join(this.root, 'gateway.yaml'), ...args], {
        env: { ...process.env, PSVGW_DATA_DIR: this.dataDir },
        timeout: 120_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw err;
      return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  entries(cameraId: string): ChainEntry[] {
    return this.db((db) =>
      (db.prepare('SELECT * FROM recording_entries WHERE camera_id = ? ORDER BY seq').all(cameraId) as Array<Record<string, unknown>>).map(
        (r) => ({
          cameraId: String(r.camera_id),
          seq: Number(r.seq),
          kind: r.kind as ChainEntry['kind'],
          path: String(r.path),
          startMs: Number(r.start_ms),
          endMs: Number(r.end_ms),
          bytes: Number(r.bytes),
          sha256: String(r.sha256),
          partial: Number(r.partial) === 1,
          detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
          prevHash: String(r.prev_hash),
          entryHash: String(r.entry_hash),
          at: String(r.at),
          deletedAt: r.deleted_at === null ? null : String(r.deleted_at),
        }),
      ),
    );
  }

  /** Writes `entries` as the camera's whole chain, renumbered and rehashed (plain SHA-256: anyone can). */
  rewriteChain(cameraId: string, entries: readonly ChainEntry[]): void {
    let prevHash = '0'.repeat(64);
    const rebuilt = entries.map((e, i) => {
      const content = { ...e, seq: i + 1, prevHash };
      const hash = entryHash(content);
      prevHash = hash;
      return { ...content, entryHash: hash };
    });
    this.db((db) => {
      db.prepare('DELETE FROM recording_entries WHERE camera_id = ?').run(cameraId);
      const insert = db.prepare(
        'INSERT INTO recording_entries (camera_id, seq, kind, path, start_ms, end_ms, bytes, sha256, partial, detail, prev_hash, entry_hash, at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const e of rebuilt) {
        insert.run(
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
        );
      }
    });
  }

  /** Drops segment `seq` from the chain and its file from the disk, and rebuilds the chain. */
  dropSegment(cameraId: string, seq: number): ChainEntry {
    const entries = this.entries(cameraId);
    const gone = entries.find((e) => e.seq === seq);
    if (!gone) throw new Error(`no entry ${seq}`);
    rmSync(join(this.recordings, gone.path));
    this.rewriteChain(
      cameraId,
      entries.filter((e) => e.seq !== seq),
    );
    return gone;
  }

  /** A new key in place of the gateway's, with chained checkpoints of every head re-signed by it. */
  resignWithNewKey(cameraId: string): string {
    const forger = ChainSigner.generate();
    forger.save(signingKeyPath(this.dataDir));
    const head = this.entries(cameraId).at(-1)!;
    const cp = forger.sign({
      cameraId,
      seq: head.seq,
      headHash: head.entryHash,
      signedAt: new Date().toISOString(),
      prevHash: GENESIS_CHECKPOINT,
    });
    this.db((db) => {
      db.prepare("UPDATE settings SET value = ? WHERE key = 'recording_public_key'").run(forger.publicPem());
      db.prepare('DELETE FROM recording_checkpoints WHERE camera_id = ?').run(cameraId);
      db.prepare(
        'INSERT INTO recording_checkpoints (camera_id, seq, head_hash, signed_at, signature, version, prev_hash, key_fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(cp.cameraId, cp.seq, cp.headHash, cp.signedAt, cp.signature, cp.version, cp.prevHash, cp.keyFingerprint);
    });
    return forger.fingerprint;
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
