/**
 * In a cluster the owner of a camera chains the deletion of its segments (retention, a
 * deletion request), but a segment's file lies on the node that wrote it
 * (`recording_entries.node`), often a former owner. Each node therefore removes, on its
 * sweeper's schedule and at start, the files it holds whose deletion the chain records:
 * deleted segments naming it, found through a partial index of those still to go
 * (migration 29), so a pass costs what is pending, not the history. The deletion entry is
 * the decision (taken by the owner, fenced, after the retention and evidence-hold checks);
 * the holder only carries it out, idempotently.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { ChainEntry } from '../domain/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';

/** The entries whose file `self` must remove: deleted segments it wrote. Pure. */
export function filesToRemove(entries: readonly ChainEntry[], self: string): ChainEntry[] {
  return entries.filter((e) => e.kind === 'segment' && e.deletedAt !== null && e.node === self);
}

/** The file of a segment path inside the recordings directory; null for a path that would leave it. Pure. */
export function segmentFile(dir: string, rel: string): string | null {
  const clean = normalize(rel);
  if (rel === '' || isAbsolute(rel) || clean === '..' || clean.startsWith(`..${sep}`) || clean.includes('\0')) return null;
  return join(dir, clean);
}

export interface HolderSweepOptions {
  store: Store;
  /** This node's recordings directory. */
  dir: string;
  /** This node's name, as its entries carry it. */
  node: string;
  logger: Logger;
  /** Entries read per query (default 500). */
  batch?: number;
  clock?: () => number;
}

export interface HolderSweepResult {
  removed: number;
  failed: number;
}

export class HolderSweep {
  readonly #batch: number;
  readonly #clock: () => number;

  constructor(private readonly opts: HolderSweepOptions) {
    this.#batch = opts.batch ?? 500;
    this.#clock = opts.clock ?? Date.now;
  }

  /** Removes every pending file of this node; a file that cannot be removed is logged and tried again next pass. */
  async sweepOnce(): Promise<HolderSweepResult> {
    const result: HolderSweepResult = { removed: 0, failed: 0 };
    const failed = new Set<string>();
    for (;;) {
      // Files that failed this pass stay pending (they sort among the rest): ask for that many more.
      const limit = this.#batch + failed.size;
      const pending = await this.opts.store.recordings.pendingFileRemovals(this.opts.node, limit);
      const todo = filesToRemove(pending, this.opts.node).filter((e) => !failed.has(`${e.cameraId}/${e.seq}`));
      for (const e of todo) {
        if (await this.#remove(e)) result.removed += 1;
        else failed.add(`${e.cameraId}/${e.seq}`);
      }
      if (todo.length === 0 || pending.length < limit) break;
    }
    result.failed = failed.size;
    if (result.removed > 0 || result.failed > 0)
      this.opts.logger.info(
        { node: this.opts.node, removed: result.removed, failed: result.failed },
        'removed the files of deleted segments this node holds',
      );
    return result;
  }

  async #remove(e: ChainEntry): Promise<boolean> {
    const file = segmentFile(this.opts.dir, e.path);
    if (file === null) {
      this.opts.logger.error(
        { cameraId: e.cameraId, seq: e.seq, path: e.path },
        'deleted segment path leaves the recordings directory: not removed',
      );
      return false;
    }
    try {
      // force: a file already gone (removed by the owner on shared storage, or by an earlier pass) is fine.
      await rm(file, { force: true });
    } catch (err) {
      this.opts.logger.warn(
        { err, cameraId: e.cameraId, seq: e.seq, path: e.path },
        'could not remove a deleted segment file; trying again next sweep',
      );
      return false;
    }
    await this.opts.store.recordings.markFileRemoved(e.cameraId, e.seq, new Date(this.#clock()).toISOString());
    this.opts.logger.debug({ cameraId: e.cameraId, seq: e.seq, path: e.path }, 'deleted segment file removed');
    return true;
  }
}
