import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { DAY_MS } from './layout.js';
import { PeriodicTask } from './periodic.js';
import type { ChainEntry } from '../domain/index.js';
import type { Store } from '../store/index.js';
import type { ChainLedger } from './ledger.js';
import type { ClockGuard } from './clockGuard.js';
import { retentionVerdict, type RetentionPolicy } from './retention.js';
import type { HolderSweep } from './holderSweep.js';

export interface SweeperOptions {
  store: Store;
  ledger: ChainLedger;
  /** The recordings directory. */
  dir: string;
  policy: RetentionPolicy;
  logger: Logger;
  /** Injectable for tests; ms since the epoch. */
  clock?: () => number;
  /** Deletion waits while this finds the clock untrustworthy (absent: the clock is trusted). */
  clockGuard?: ClockGuard;
  /** Removes the files this node holds of segments deleted by any node, after each sweep (absent: none named). */
  holder?: HolderSweep;
}

export interface SweepResult {
  deleted: ChainEntry[];
  /** Segments past retention kept by an evidence hold. */
  held: number;
  /** Why nothing was deleted: the clock is not trusted. */
  paused?: string;
  /** Files of deleted segments this node holds that it removed (see HolderSweep). */
  removedHere?: number;
}

/**
 * Deletes whole segments once their retention has passed and no evidence hold protects
 * them, and records each deletion in the camera's hash chain. It is also the only way
 * the API deletes footage: a request touching anything inside retention is refused whole.
 */
export class RetentionSweeper {
  readonly #periodic: PeriodicTask;
  private readonly clock: () => number;

  constructor(private readonly opts: SweeperOptions) {
    this.clock = opts.clock ?? Date.now;
    this.#periodic = new PeriodicTask(() => this.sweepOnce(), opts.logger, 'retention sweep failed');
  }

  start(intervalMs: number): void {
    this.#periodic.start(intervalMs);
  }

  close(): Promise<void> {
    return this.#periodic.close();
  }

  async sweepOnce(): Promise<SweepResult> {
    const result = await this.#sweepOwned();
    // The deletions are chained already (whichever node decided them): carried out whatever the clock says.
    if (this.opts.holder !== undefined) result.removedHere = (await this.opts.holder.sweepOnce()).removed;
    return result;
  }

  async #sweepOwned(): Promise<SweepResult> {
    const clock = await this.opts.clockGuard?.check();
    if (clock?.trusted === false) {
      this.opts.logger.warn({ reason: clock.reason }, 'retention sweep paused: the clock is not trusted');
      return { deleted: [], held: 0, paused: clock.reason };
    }
    const now = this.clock();
    const holds = await this.opts.store.recordings.holds();
    const result: SweepResult = { deleted: [], held: 0 };
    for (const cameraId of await this.opts.store.recordings.cameraIds()) {
      // Cluster mode: the owner of a camera sweeps it.
      if (!this.opts.ledger.mayWrite(cameraId)) continue;
      // A segment is kept at least today's rule for its camera: only older ones can be due.
      const cutoff = now - this.opts.policy.rule(cameraId).days * DAY_MS;
      for (const segment of await this.opts.store.recordings.liveSegmentsEndingBy(cameraId, cutoff)) {
        const verdict = retentionVerdict(segment, now, this.opts.policy, holds);
        if (verdict.deletable) result.deleted.push(await this.remove(segment, 'retention passed', verdict));
        else if (verdict.reason.startsWith('under evidence hold')) result.held += 1;
      }
    }
    if (result.deleted.length > 0) this.opts.logger.info({ deleted: result.deleted.length, held: result.held }, 'retention sweep');
    return result;
  }

  /**
   * Deletes a camera's segments in a time range on request; refused with RETENTION_LOCKED,
   * changing nothing, when any of them is inside retention or held.
   */
  async deleteRange(cameraId: string, fromMs: number, toMs: number, actor: string): Promise<ChainEntry[]> {
    const clock = await this.opts.clockGuard?.check();
    const now = this.clock();
    const holds = await this.opts.store.recordings.holds();
    const segments = (await this.opts.store.recordings.entries({ cameraId, kind: 'segment', fromMs, toMs })).filter(
      (s) => s.deletedAt === null,
    );
    const verdicts = segments.map((s) => ({ s, v: retentionVerdict(s, now, this.opts.policy, holds) }));
    const locked = verdicts.flatMap(({ s, v }) => (v.deletable ? [] : [{ seq: s.seq, reason: v.reason }]));
    const audit = (outcome: 'ok' | 'refused', details: Record<string, unknown>) =>
      this.opts.store.audit.append({
        at: new Date(now).toISOString(),
        actor,
        action: 'recordings.delete',
        cameraId,
        outcome,
        details: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), ...details },
      });
    if (locked.length > 0) {
      await audit('refused', { locked: locked.length });
      throw new GatewayError(
        'RETENTION_LOCKED',
        `${locked.length} of the ${segments.length} segments in this range may not be deleted: the first is ${locked[0]?.reason}.`,
        {
          hint: 'Footage is deleted only after its retention (and any evidence hold) has passed; the sweeper does that on its own.',
          details: { locked: locked.slice(0, 20) },
        },
      );
    }
    if (clock?.trusted === false) {
      await audit('refused', { clock: clock.reason });
      throw new GatewayError('RETENTION_LOCKED', `Footage is not deleted while ${clock.reason}.`, {
        hint: 'Check the gateway clock (NTP); once it is right, confirm it with POST /api/v1/recordings/clock/confirm.',
      });
    }
    const deleted: ChainEntry[] = [];
    for (const { s, v } of verdicts) if (v.deletable) deleted.push(await this.remove(s, `deleted by ${actor}`, v));
    await audit('ok', { deleted: deleted.length });
    return deleted;
  }

  /** An operator confirms the gateway clock after a `clock_jump`: deletion resumes; audited. */
  async confirmClock(actor: string): Promise<{ jumpMs: number | null }> {
    const guard = this.opts.clockGuard;
    const result = guard ? guard.confirm(actor) : { jumpMs: null };
    await this.opts.store.audit.append({
      at: new Date(this.clock()).toISOString(),
      actor,
      action: 'recordings.clock.confirm',
      cameraId: null,
      outcome: 'ok',
      details: { clock: new Date(this.clock()).toISOString(), jumpMs: result.jumpMs },
    });
    return result;
  }

  /** The deletion enters the chain before the file goes, so a crash between leaves an extra file, never an unexplained hole. */
  private async remove(segment: ChainEntry, reason: string, allowed: { days: number; keepUntilMs: number }): Promise<ChainEntry> {
    const at = new Date(this.clock()).toISOString();
    // The deletion entry and the segment's deletedAt are one transaction.
    await this.opts.ledger.append(
      segment.cameraId,
      {
        kind: 'deletion',
        path: segment.path,
        startMs: segment.startMs,
        endMs: segment.endMs,
        bytes: segment.bytes,
        sha256: segment.sha256,
        partial: segment.partial,
        // The rule that allowed it, so a verifier can check the deletion against the segment's retention.
        detail: { deletedSeq: segment.seq, reason, retentionDays: allowed.days, keepUntilMs: allowed.keepUntilMs },
      },
      (tx) => tx.recordings.markDeleted(segment.cameraId, segment.seq, at),
    );
    await rm(join(this.opts.dir, segment.path), { force: true });
    return { ...segment, deletedAt: at };
  }
}
