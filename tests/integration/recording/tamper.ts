import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ChainEntry } from '../../../src/domain/index.js';
import { ChainSigner, GENESIS_CHECKPOINT, PUBLIC_KEY_SETTING, entryHash, signingKeyPath } from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/index.js';
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
  verify(args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
    return this.cli(['verify', ...args]);
  }

  /** A `psvgw` command with this copy's config and data directory. */
  async cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI_PATH, ...args, '--config', join(this.root, 'gateway.yaml')], {
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

  /** The copy's store, for reads and for writes the store itself allows (an attacker may use the gateway's own code). */
  async store<T>(work: (store: SqliteStore) => Promise<T>): Promise<T> {
    const store = new SqliteStore(join(this.dataDir, 'psvgw.db'));
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  }

  entries(cameraId: string): Promise<ChainEntry[]> {
    return this.store((s) => s.recordings.entries({ cameraId }));
  }

  /** Writes `entries` as the camera's whole chain, renumbered and rehashed (plain SHA-256: anyone can). */
  async rewriteChain(cameraId: string, entries: readonly ChainEntry[]): Promise<void> {
    this.db((db) => db.prepare('DELETE FROM recording_entries WHERE camera_id = ?').run(cameraId));
    let prevHash = '0'.repeat(64);
    await this.store(async (s) => {
      for (const [i, e] of entries.entries()) {
        const content = { ...e, seq: i + 1, prevHash };
        prevHash = entryHash(content);
        await s.recordings.append({ ...content, entryHash: prevHash });
      }
    });
  }

  /** Drops segment `seq` from the chain and its file from the disk, and rebuilds the chain. */
  async dropSegment(cameraId: string, seq: number): Promise<ChainEntry> {
    const entries = await this.entries(cameraId);
    const gone = entries.find((e) => e.seq === seq);
    if (!gone) throw new Error(`no entry ${seq}`);
    rmSync(join(this.recordings, gone.path));
    await this.rewriteChain(
      cameraId,
      entries.filter((e) => e.seq !== seq),
    );
    return gone;
  }

  /** A new key in place of the gateway's, the camera's checkpoints replaced by one over the head signed by it. */
  async resignWithNewKey(cameraId: string): Promise<string> {
    const forger = ChainSigner.generate();
    forger.save(signingKeyPath(this.dataDir));
    this.db((db) => db.prepare('DELETE FROM recording_checkpoints WHERE camera_id = ?').run(cameraId));
    await this.store(async (s) => {
      await s.settings.set(PUBLIC_KEY_SETTING, forger.publicPem());
      const head = (await s.recordings.head(cameraId))!;
      await s.recordings.addCheckpoint(
        forger.sign({
          cameraId,
          seq: head.seq,
          headHash: head.entryHash,
          signedAt: new Date().toISOString(),
          prevHash: GENESIS_CHECKPOINT,
        }),
      );
    });
    return forger.fingerprint;
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
