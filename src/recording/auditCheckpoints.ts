/**
 * Signed checkpoints of the audit chain's head, with the recording signing key and the
 * recording checkpoint format (v2, chain name 'audit'): a deleted newest entry or a chain
 * rewritten end to end, which the links alone cannot show, breaks a signed head.
 */
import type { AuditEntry, Checkpoint } from '../domain/index.js';
import { AUDIT_CHAIN_ID, verifyAuditChain, type AuditProblem, type AuditVerification, type Store } from '../store/index.js';
import { checkpointHash, checkpointMessage, GENESIS_CHECKPOINT, verifySignature, type ChainSigner } from './signing.js';
import type { KeyRing } from './trust.js';

/** Signs the audit head when it moved since the last checkpoint; undefined when it did not (or another node signed it first). */
export async function signAuditHead(store: Store, signer: ChainSigner, signedAt: string): Promise<Checkpoint | undefined> {
  // The newest row is the head (appends chain every older row first); reading one row keeps the beat cheap.
  const [head] = await store.audit.list({ limit: 1 });
  const last = (await store.audit.checkpoints()).at(-1);
  if (head?.seq === undefined || head.entryHash === undefined || head.seq <= (last?.seq ?? 0)) return undefined;
  const cp = signer.sign({
    cameraId: AUDIT_CHAIN_ID,
    seq: head.seq,
    headHash: head.entryHash,
    signedAt,
    prevHash: last === undefined ? GENESIS_CHECKPOINT : checkpointHash(last),
  });
  // Another node may have signed since `last` was read: then its checkpoint stands and this one is dropped.
  return (await store.audit.addCheckpoint(cp, last ?? null)) ? cp : undefined;
}

export interface AuditLogVerification extends AuditVerification {
  checkpoints: number;
  /** The newest signed seq (0: none). */
  signedSeq: number;
  /** Fingerprints whose signatures counted. */
  trustedKeys: string[];
}

/**
 * The chain check plus its checkpoints: each signed by a trusted key, chained to the one
 * before, naming an entry that is there with that hash; and no entry older than
 * `maxUnsignedMs` past the newest signed one.
 */
export async function verifyAuditLog(opts: {
  store: Store;
  keys: KeyRing;
  nowMs: number;
  maxUnsignedMs: number;
}): Promise<AuditLogVerification> {
  const base = await verifyAuditChain(opts.store);
  const chain = await opts.store.audit.chain();
  const checkpoints = await opts.store.audit.checkpoints();
  const problems = [...base.problems, ...checkCheckpoints(chain, checkpoints, opts)];
  const signedSeq = checkpoints.at(-1)?.seq ?? 0;
  return {
    ...base,
    ok: problems.length === 0,
    problems,
    checkpoints: checkpoints.length,
    signedSeq,
    trustedKeys: [...opts.keys.trusted],
  };
}

function checkCheckpoints(
  chain: readonly AuditEntry[],
  checkpoints: readonly Checkpoint[],
  opts: { keys: KeyRing; nowMs: number; maxUnsignedMs: number },
): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const bySeq = new Map(chain.filter((e) => e.seq !== undefined).map((e) => [e.seq as number, e]));
  const headSeq = Math.max(0, ...bySeq.keys());
  let prevHash = GENESIS_CHECKPOINT;
  for (const cp of checkpoints) {
    const at = `checkpoint of seq ${cp.seq} signed ${cp.signedAt}`;
    const key = cp.keyFingerprint === null ? undefined : opts.keys.keys.get(cp.keyFingerprint);
    if (key === undefined || !verifySignature(checkpointMessage(cp), key, cp.signature) || cp.prevHash !== prevHash)
      problems.push({
        kind: 'checkpoint_invalid',
        id: null,
        seq: cp.seq,
        message: `${at}: signature or link to the previous checkpoint does not verify`,
      });
    else if (!opts.keys.trusted.has(cp.keyFingerprint ?? ''))
      problems.push({
        kind: 'untrusted_key',
        id: null,
        seq: cp.seq,
        message: `${at}: signed by ${cp.keyFingerprint}, a key that is not trusted`,
      });
    prevHash = checkpointHash(cp);
    const entry = bySeq.get(cp.seq);
    if (cp.seq > headSeq)
      problems.push({
        kind: 'truncated',
        id: null,
        seq: cp.seq,
        message: `entries ${headSeq + 1}…${cp.seq} were signed (${at}) but are gone`,
      });
    else if (entry !== undefined && entry.entryHash !== cp.headHash)
      problems.push({
        kind: 'rewritten',
        id: entry.id ?? null,
        seq: cp.seq,
        message: `entry seq ${cp.seq} (id ${entry.id}) is not the one the ${at} signed`,
      });
  }
  const signedSeq = checkpoints.at(-1)?.seq ?? 0;
  const firstUnsigned = bySeq.get(signedSeq + 1);
  if (firstUnsigned !== undefined && opts.nowMs - Date.parse(firstUnsigned.at) > opts.maxUnsignedMs)
    problems.push({
      kind: 'head_unsigned',
      id: firstUnsigned.id ?? null,
      seq: firstUnsigned.seq ?? null,
      message: `entries from seq ${firstUnsigned.seq} (id ${firstUnsigned.id}, ${firstUnsigned.at}) on are older than ${Math.round(opts.maxUnsignedMs / 1000)} s and no signed checkpoint covers them`,
    });
  return problems;
}
