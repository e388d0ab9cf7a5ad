import type { Logger } from '../log.js';
import type { ChainEntry, Checkpoint } from '../domain/index.js';
import type { Store, StoreTx } from '../store/index.js';
import { nextEntry, type EntryContent } from './chain.js';
import { GENESIS_CHECKPOINT, checkpointHash, publicKeyBase64, type ChainSigner } from './signing.js';
import type { CheckpointWitness } from './witness.js';

/**
 * Who may write a camera's chain (cluster mode: the holder of its lease). The check runs
 * inside the append's own transaction, so a node whose lease has moved on cannot write
 * over its successor's entries.
 */
export interface ChainGuard {
  /** This node's current belief: false skips the camera's sweeps and checkpoints here. */
  mayWrite(cameraId: string): boolean;
  /** In the write's transaction: true while this node still holds the camera's lease. */
  fence(tx: StoreTx, cameraId: string): Promise<boolean>;
  /** A write was refused: the camera must stop here. */
  refused(cameraId: string): void;
  /**
   * Runs the write, and again each time it finds the database unreachable once the lease has been renewed; null
   * when the lease is gone by then (the write is refused). Absent: the write fails as any store error.
   */
  retryUnreachable?<T>(cameraId: string, write: () => Promise<T>): Promise<{ value: T } | null>;
}

/** A chain write refused by the lease fence: another node owns the camera now. */
export class FencedWriteError extends Error {
  constructor(readonly cameraId: string) {
    super(`camera ${cameraId}: this node no longer holds its lease; the chain write was refused`);
    this.name = 'FencedWriteError';
  }
}

/**
 * The one writer of every camera's hash chain: the recorder (new segments) and the
 * sweeper (deletions) append through it, one entry at a time per camera, and it signs
 * checkpoints of the heads.
 */
export class ChainLedger {
  readonly #queues = new Map<string, Promise<unknown>>();
  /** Each camera's newest checkpoint (null: none yet), the link the next one commits to. */
  readonly #lastCheckpoint = new Map<string, Checkpoint | null>();
  readonly #witnesses: CheckpointWitness[] = [];
  /** Bytes of the segments still stored: summed from the index once, then kept by each append. */
  #storedBytes: number | null = null;
  #guard: ChainGuard | null = null;
  /** The node this ledger writes for: named, with its key, in every entry and checkpoint (null: none named). */
  #node: string | null = null;

  constructor(
    private readonly store: Store,
    private readonly signer: ChainSigner,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Cluster mode: every write is checked against the camera's lease (none: every camera is this gateway's). */
  guardWith(guard: ChainGuard): void {
    this.#guard = guard;
  }

  /** Names `node` and the signer's key in every entry and checkpoint written from now on (its key is registered to it). */
  writeAs(node: string): void {
    this.#node = node;
  }

  /** The writer's fields of a new entry (none before `writeAs`). */
  #writer(): { node?: string; keyFingerprint?: string } {
    return this.#node === null ? {} : { node: this.#node, keyFingerprint: this.signer.fingerprint };
  }

  /** A checkpoint of the head signed by this node's key. */
  #sign(c: Omit<Checkpoint, 'signature' | 'version' | 'keyFingerprint' | 'node'>): Checkpoint {
    const cp = this.signer.sign(c);
    return this.#node === null ? cp : { ...cp, node: this.#node };
  }

  /** False when another node owns the camera (cluster mode). */
  mayWrite(cameraId: string): boolean {
    return this.#guard?.mayWrite(cameraId) ?? true;
  }

  /** Inside a write's transaction: refuses it when the lease is gone. */
  async #fence(tx: StoreTx, cameraId: string): Promise<void> {
    const guard = this.#guard;
    if (guard === null || (await guard.fence(tx, cameraId))) return;
    guard.refused(cameraId);
    throw new FencedWriteError(cameraId);
  }

  /**
   * Appends the next entry of the camera's chain. The head is read and the entry written
   * in one store transaction, together with whatever `alongside` writes through the same
   * `tx` (e.g. closing the recording gap the segment ends): all of it is stored, or none.
   */
  append(
    cameraId: string,
    content: Omit<EntryContent, 'cameraId' | 'seq' | 'prevHash'>,
    alongside?: (tx: StoreTx, entry: ChainEntry) => Promise<void>,
  ): Promise<ChainEntry> {
    return this.serialize(cameraId, async () => {
      const entry = await this.#whileUnreachable(cameraId, () =>
        this.store.transaction(async (tx) => {
          await this.#fence(tx, cameraId);
          const head = await tx.recordings.head(cameraId);
          const entry = nextEntry(head, { ...content, cameraId, ...this.#writer() }, new Date(this.clock()).toISOString());
          await tx.recordings.append(entry);
          await alongside?.(tx, entry);
          return entry;
        }),
      );
      // A deletion entry carries the bytes of the segment it removes.
      if (this.#storedBytes !== null)
        this.#storedBytes += entry.kind === 'segment' ? entry.bytes : entry.kind === 'deletion' ? -entry.bytes : 0;
      return entry;
    });
  }

  /**
   * Cluster mode: a write that finds the database unreachable waits, in the camera's queue (so the writes after it
   * keep their order), until the lease is renewed, then runs again under the same epoch and its fence; refused
   * when the lease is gone by then. The segment files are already in place, so a crash meanwhile loses nothing:
   * the recorder's start-up recovery indexes them.
   */
  async #whileUnreachable<T>(cameraId: string, write: () => Promise<T>): Promise<T> {
    const guard = this.#guard;
    if (guard?.retryUnreachable === undefined) return write();
    const done = await guard.retryUnreachable(cameraId, write);
    if (done !== null) return done.value;
    guard.refused(cameraId);
    throw new FencedWriteError(cameraId);
  }

  /**
   * Bytes of the footage still stored. The index is summed once (call this before anything
   * appends, as the recording system's start does); from then on every segment and deletion
   * entry, all of which pass through here, keeps the figure, so a disk check costs nothing
   * however long the history.
   */
  async storedBytes(): Promise<number> {
    this.#storedBytes ??= await this.store.recordings.storedBytes();
    return this.#storedBytes;
  }

  /** Signs the head of every chain that grew since its last checkpoint. */
  async checkpointAll(): Promise<number> {
    let signed = 0;
    for (const cameraId of await this.store.recordings.cameraIds()) {
      if (this.mayWrite(cameraId) && (await this.checkpoint(cameraId))) signed += 1;
    }
    return signed;
  }

  /** Every checkpoint signed from now on is also handed to `witness` (its failure is logged, the checkpoint stays). */
  addWitness(witness: CheckpointWitness): void {
    this.#witnesses.push(witness);
  }

  checkpoint(cameraId: string): Promise<boolean> {
    if (this.#guard !== null) return this.#guardedCheckpoint(cameraId);
    return this.serialize(cameraId, async () => {
      const head = await this.store.recordings.head(cameraId);
      if (head === undefined) return false;
      let last = this.#lastCheckpoint.get(cameraId);
      if (last === undefined) last = (await this.store.recordings.checkpoints(cameraId)).at(-1) ?? null;
      const cp = this.#nextCheckpoint(cameraId, head, last);
      if (cp === null) return false;
      await this.store.recordings.addCheckpoint(cp);
      this.#lastCheckpoint.set(cameraId, cp);
      this.logger.debug({ cameraId, seq: head.seq }, 'chain checkpoint signed');
      await this.#witness(cameraId, cp);
      return true;
    });
  }

  /** The checkpoint of the chain's head after `last`, signed; null when `last` already covers the head. */
  #nextCheckpoint(cameraId: string, head: ChainEntry, last: Checkpoint | null): Checkpoint | null {
    if (head.seq <= (last?.seq ?? 0)) return null;
    return this.#sign({
      cameraId,
      seq: head.seq,
      headHash: head.entryHash,
      signedAt: new Date(this.clock()).toISOString(),
      prevHash: last === null ? GENESIS_CHECKPOINT : checkpointHash(last),
    });
  }

  /** Hands a stored checkpoint to every witness; a witness that fails is logged, not retried. */
  async #witness(cameraId: string, cp: Checkpoint): Promise<void> {
    const witnessed = { ...cp, publicKey: publicKeyBase64(this.signer.publicKey) };
    for (const w of this.#witnesses) {
      await w.record(witnessed).catch((err: unknown) => this.logger.error({ err, cameraId, witness: w.name }, 'checkpoint witness failed'));
    }
  }

  /**
   * Cluster mode: the chain may have grown on other nodes, so the last checkpoint is read
   * afresh, and head, checkpoint and lease check are one transaction.
   */
  #guardedCheckpoint(cameraId: string): Promise<boolean> {
    return this.serialize(cameraId, async () => {
      if (!this.mayWrite(cameraId)) return false;
      const cp = await this.store.transaction(async (tx) => {
        await this.#fence(tx, cameraId);
        const head = await tx.recordings.head(cameraId);
        if (head === undefined) return null;
        const signed = this.#nextCheckpoint(cameraId, head, (await tx.recordings.checkpoints(cameraId)).at(-1) ?? null);
        if (signed !== null) await tx.recordings.addCheckpoint(signed);
        return signed;
      });
      if (cp === null) return false;
      await this.#witness(cameraId, cp);
      return true;
    });
  }

  /** Waits for every pending append. */
  async idle(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((p) => p.catch(() => undefined)));
  }

  private serialize<T>(cameraId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(cameraId) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.#queues.set(
      cameraId,
      next.catch(() => undefined),
    );
    return next;
  }
}
