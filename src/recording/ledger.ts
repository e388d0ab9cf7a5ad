import type { Logger } from '../log.js';
import type { ChainEntry, Checkpoint } from '../domain/index.js';
import type { Store, StoreTx } from '../store/index.js';
import { nextEntry, type EntryContent } from './chain.js';
import { GENESIS_CHECKPOINT, checkpointHash, publicKeyBase64, type ChainSigner } from './signing.js';
import type { CheckpointWitness } from './witness.js';

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

  constructor(
    private readonly store: Store,
    private readonly signer: ChainSigner,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

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
      const entry = await this.store.transaction(async (tx) => {
        const head = await tx.recordings.head(cameraId);
        const entry = nextEntry(head, { ...content, cameraId }, new Date(this.clock()).toISOString());
        await tx.recordings.append(entry);
        await alongside?.(tx, entry);
        return entry;
      });
      // A deletion entry carries the bytes of the segment it removes.
      if (this.#storedBytes !== null)
        this.#storedBytes += entry.kind === 'segment' ? entry.bytes : entry.kind === 'deletion' ? -entry.bytes : 0;
      return entry;
    });
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
    for (const cameraId of await this.store.recordings.cameraIds()) if (await this.checkpoint(cameraId)) signed += 1;
    return signed;
  }

  /** Every checkpoint signed from now on is also handed to `witness` (its failure is logged, the checkpoint stays). */
  addWitness(witness: CheckpointWitness): void {
    this.#witnesses.push(witness);
  }

  checkpoint(cameraId: string): Promise<boolean> {
    return this.serialize(cameraId, async () => {
      const head = await this.store.recordings.head(cameraId);
      if (head === undefined) return false;
      let last = this.#lastCheckpoint.get(cameraId);
      if (last === undefined) last = (await this.store.recordings.checkpoints(cameraId)).at(-1) ?? null;
      if (head.seq <= (last?.seq ?? 0)) return false;
      const cp = this.signer.sign({
        cameraId,
        seq: head.seq,
        headHash: head.entryHash,
        signedAt: new Date(this.clock()).toISOString(),
        prevHash: last === null ? GENESIS_CHECKPOINT : checkpointHash(last),
      });
      await this.store.recordings.addCheckpoint(cp);
      this.#lastCheckpoint.set(cameraId, cp);
      this.logger.debug({ cameraId, seq: head.seq }, 'chain checkpoint signed');
      const witnessed = { ...cp, publicKey: publicKeyBase64(this.signer.publicKey) };
      for (const w of this.#witnesses) {
        await w
          .record(witnessed)
          .catch((err: unknown) => this.logger.error({ err, cameraId, witness: w.name }, 'checkpoint witness failed'));
      }
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
