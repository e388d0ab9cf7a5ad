import type { KeyObject } from 'node:crypto';
import type { ChainEntry, Checkpoint } from '../domain/index.js';
import { DAY_MS } from './layout.js';
import { GENESIS_CHECKPOINT, checkpointHash, checkpointMessage, keyFingerprint, publicKeyFromBase64, verifySignature } from './signing.js';
import type { KeyRing } from './trust.js';
import type { Finding } from './findings.js';
import type { WitnessedCheckpoint } from './witness.js';

/** A deletion may be stamped up to this long after the checkpoint that covers it (clock steps between writes). */
const STAMP_TOLERANCE_MS = 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Retention days the recorder wrote on a segment (`detail.retention.days`), else the deletion's own `retentionDays`. */
function retentionDaysOf(segment: ChainEntry, deletion: ChainEntry): number | undefined {
  const r = segment.detail.retention;
  const written = typeof r === 'object' && r !== null ? num((r as Record<string, unknown>).days) : undefined;
  return written ?? num(deletion.detail.retentionDays);
}

export interface DeletionCheck {
  /** Seqs of the segments the chain records as deleted (by a valid deletion entry). */
  deleted: Set<number>;
  deletions: number;
  withoutRetention: number;
  findings: Finding[];
}

/**
 * What was deleted comes from the chain alone: each deletion entry must name an earlier
 * segment entry of its camera with the same file and hash, once, and be lawful: at or after
 * the segment's end plus its retention, and not stamped later than the checkpoint that
 * signed it (the stamp is not in the entry hash). Entries without retention facts (older
 * data) are counted, not judged.
 */
export function checkDeletions(entries: readonly ChainEntry[], checkpoints: readonly Checkpoint[]): DeletionCheck {
  const out: DeletionCheck = { deleted: new Set(), deletions: 0, withoutRetention: 0, findings: [] };
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  for (const d of entries) {
    if (d.kind !== 'deletion') continue;
    out.deletions += 1;
    const base = { kind: 'deletion_invalid' as const, cameraId: d.cameraId, seq: d.seq, path: d.path };
    const target = num(d.detail.deletedSeq);
    const segment = target === undefined ? undefined : bySeq.get(target);
    if (target === undefined || segment === undefined || segment.kind !== 'segment' || target >= d.seq) {
      out.findings.push({
        ...base,
        message: `deletion entry ${d.seq} names no earlier segment entry (deletedSeq ${String(d.detail.deletedSeq)})`,
      });
      continue;
    }
    if (segment.path !== d.path || segment.sha256 !== d.sha256) {
      out.findings.push({ ...base, message: `deletion entry ${d.seq} names segment ${target}, but its file or SHA-256 is another's` });
      continue;
    }
    if (out.deleted.has(target)) {
      out.findings.push({ ...base, message: `segment ${target} is deleted a second time by entry ${d.seq}` });
      continue;
    }
    out.deleted.add(target);
    const at = Date.parse(d.at);
    const signedBy = checkpoints.find((c) => c.seq >= d.seq);
    if (signedBy !== undefined && Number.isFinite(at) && at > Date.parse(signedBy.signedAt) + STAMP_TOLERANCE_MS) {
      out.findings.push({
        ...base,
        kind: 'deletion_unlawful',
        message: `deletion entry ${d.seq} claims ${d.at}, after the checkpoint of ${signedBy.signedAt} that signed it: its time was changed`,
      });
      continue;
    }
    const days = retentionDaysOf(segment, d);
    if (days === undefined) {
      out.withoutRetention += 1;
      continue;
    }
    const keepUntil = segment.endMs + days * DAY_MS;
    if (!Number.isFinite(at) || at < keepUntil) {
      out.findings.push({
        ...base,
        kind: 'deletion_unlawful',
        message: `segment ${target} (${iso(segment.startMs)}–${iso(segment.endMs)}) was deleted ${d.at} by entry ${d.seq}, inside its ${days}-day retention until ${iso(keepUntil)}`,
      });
    }
  }
  return out;
}

function verifies(cp: Checkpoint, key: KeyObject): boolean {
  return verifySignature(checkpointMessage(cp), key, cp.signature);
}

/** The fingerprint of the key whose signature a checkpoint carries, trusted or not (null: none known verifies). */
function signerOf(keys: KeyRing, cp: Checkpoint): string | null {
  if ((cp.node ?? null) !== null) {
    // A node's checkpoint counts only with the key registered to that node.
    const key = cp.keyFingerprint === null ? undefined : keys.registered.get(cp.keyFingerprint);
    return key !== undefined && key.node === cp.node && verifies(cp, keys.keys.get(key.fingerprint)!) ? key.fingerprint : null;
  }
  if (cp.keyFingerprint !== null) {
    const key = keys.keys.get(cp.keyFingerprint);
    return key !== undefined && verifies(cp, key) ? cp.keyFingerprint : null;
  }
  for (const key of keys.keys.values()) if (verifies(cp, key)) return keyFingerprint(key);
  return null;
}

/**
 * Each checkpoint is signed by a trusted key, still matches the chain, and (v2) commits to
 * the checkpoint before it; an unchained v1 checkpoint after a chained one is a downgrade.
 */
export function checkCheckpoints(
  keys: KeyRing,
  cameraId: string,
  entries: readonly ChainEntry[],
  checkpoints: readonly Checkpoint[],
): Finding[] {
  const findings: Finding[] = [];
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const headSeq = entries.at(-1)?.seq ?? 0;
  let prev: Checkpoint | null = null;
  let chained = false;
  let named = false;
  for (const cp of checkpoints) {
    const base = { cameraId, seq: cp.seq, path: null };
    const signer = signerOf(keys, cp);
    const writer = writerProblem(keys, cp.node ?? null, cp.keyFingerprint);
    if (writer !== null) {
      findings.push({ ...base, kind: writer.kind, message: `checkpoint of ${cp.signedAt} ${writer.message}` });
    } else if (signer === null) {
      const why =
        cp.keyFingerprint !== null && !keys.keys.has(cp.keyFingerprint) ? `by unknown key ${cp.keyFingerprint}` : 'with a bad signature';
      findings.push({ ...base, kind: 'checkpoint_invalid', message: `checkpoint of ${cp.signedAt} is signed ${why}` });
    } else if (!keys.trusted.has(signer)) {
      findings.push({
        ...base,
        kind: 'untrusted_key',
        message: `checkpoint of ${cp.signedAt} is signed by ${signer}, which is neither pinned nor reached from a pinned key by rotation`,
      });
    } else if (cp.seq > headSeq) {
      findings.push({
        ...base,
        kind: 'truncated',
        message: `the chain ends at entry ${headSeq}, but a checkpoint signed ${cp.signedAt} covers entry ${cp.seq}`,
      });
    } else if (bySeq.get(cp.seq)?.entryHash !== cp.headHash) {
      findings.push({ ...base, kind: 'chain_broken', message: `entry ${cp.seq} differs from the one signed at ${cp.signedAt}` });
    }
    if ((cp.node ?? null) === null && named) {
      findings.push({
        ...base,
        kind: 'key_mismatch',
        message: `checkpoint of ${cp.signedAt} names no node after checkpoints that did: it was re-signed outside the registry`,
      });
    }
    named ||= (cp.node ?? null) !== null;
    if (cp.version === 2) {
      const expected = prev === null ? GENESIS_CHECKPOINT : checkpointHash(prev);
      if (cp.prevHash !== expected) {
        findings.push({
          ...base,
          kind: 'checkpoint_chain_broken',
          message: `checkpoint of ${cp.signedAt} does not follow ${prev === null ? 'from the start' : `the checkpoint of entry ${prev.seq} (${prev.signedAt})`}: checkpoints were deleted or inserted`,
        });
      }
      chained = true;
    } else if (chained) {
      findings.push({
        ...base,
        kind: 'checkpoint_chain_broken',
        message: `unchained (v1) checkpoint of ${cp.signedAt} after chained ones`,
      });
    }
    prev = cp;
  }
  return findings;
}

/** What is wrong with the node and key an entry or checkpoint names (null: nothing, or it names none). */
function writerProblem(
  keys: KeyRing,
  node: string | null,
  fingerprint: string | null,
): { kind: 'unregistered_key' | 'key_mismatch'; message: string } | null {
  if (node === null) return null;
  const key = fingerprint === null ? undefined : keys.registered.get(fingerprint);
  if (key === undefined)
    return { kind: 'unregistered_key', message: `names node ${node} and key ${fingerprint ?? '(none)'}, which is not a registered key` };
  if (key.node !== node)
    return { kind: 'key_mismatch', message: `names node ${node}, but key ${fingerprint} is registered to node ${key.node}` };
  return null;
}

/**
 * Each entry that names its writer names a registered key of that node (the names are in
 * the entry hash, so the checkpoints covering it sign them too); once a chain's entries
 * name their writers, an entry naming none was written outside the registry.
 */
export function checkEntryKeys(keys: KeyRing, entries: readonly ChainEntry[]): Finding[] {
  const findings: Finding[] = [];
  let named: ChainEntry | null = null;
  for (const e of entries) {
    const node = e.node ?? null;
    const fingerprint = e.keyFingerprint ?? null;
    const where = `entry ${e.seq} (${e.kind}${e.kind === 'segment' ? ` ${e.path}` : ''})`;
    const base = { cameraId: e.cameraId, seq: e.seq, path: e.path };
    if (node === null && fingerprint === null) {
      if (named !== null)
        findings.push({
          ...base,
          kind: 'key_mismatch',
          message: `${where} names no node and key, after entry ${named.seq} named ${named.node ?? '?'}`,
        });
      continue;
    }
    named = e;
    const problem = writerProblem(keys, node ?? '(none)', fingerprint);
    if (problem !== null) findings.push({ ...base, kind: problem.kind, message: `${where} ${problem.message}` });
  }
  return findings;
}

/**
 * Every entry older than two checkpoint intervals (one for the timer, one of slack) must be
 * covered by a checkpoint. An entry's age is the earlier of its append stamp and, for a
 * segment, its end (the end is in the entry hash; the stamp is not).
 */
export function checkCoverage(
  cameraId: string,
  entries: readonly ChainEntry[],
  checkpoints: readonly Checkpoint[],
  intervalMs: number,
  now: number,
): Finding[] {
  const covered = checkpoints.reduce((max, c) => Math.max(max, c.seq), 0);
  const first = entries.find((e) => e.seq > covered);
  if (first === undefined) return [];
  const stamp = Date.parse(first.at);
  const time = Math.min(Number.isFinite(stamp) ? stamp : Infinity, first.kind === 'segment' ? first.endMs : Infinity);
  const grace = 2 * intervalMs;
  if (Number.isFinite(time) && now - time <= grace) return [];
  const head = entries.at(-1)?.seq ?? first.seq;
  const span = `entries ${first.seq}…${head} (from ${Number.isFinite(time) ? iso(time) : first.at})`;
  return [
    checkpoints.length === 0
      ? {
          kind: 'checkpoint_missing',
          cameraId,
          seq: first.seq,
          path: null,
          message: `no signed checkpoint at all covers ${span}: checkpoints were deleted (and the chain may have been rebuilt)`,
        }
      : {
          kind: 'head_unsigned',
          cameraId,
          seq: first.seq,
          path: null,
          message: `${span} are older than ${grace / 1000} s and no checkpoint covers them: the chain after entry ${covered} may have been rewritten (a gateway that died before signing leaves this until it runs again)`,
        },
  ];
}

/**
 * Compares the data directory with a witness copy of a camera's checkpoints and names the
 * first place they differ: a witnessed checkpoint missing or different here, a chain entry
 * that no longer hashes as witnessed, or a local checkpoint the witness never saw.
 */
export function compareWitness(
  cameraId: string,
  entries: readonly ChainEntry[],
  local: readonly Checkpoint[],
  witness: readonly WitnessedCheckpoint[],
): { compared: number; findings: Finding[] } {
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const headSeq = entries.at(-1)?.seq ?? 0;
  const matched = new Set<Checkpoint>();
  const diverge = (seq: number, message: string) => ({
    compared: witness.length,
    findings: [
      {
        kind: 'witness_divergence' as const,
        cameraId,
        seq,
        path: bySeq.get(seq)?.path ?? null,
        message: `first divergence from the witness: ${message}`,
      },
    ],
  });
  for (const w of [...witness].sort((a, b) => a.seq - b.seq)) {
    const fp = witnessKey(w);
    const here = local.find((c) => c.seq === w.seq && c.signedAt === w.signedAt) ?? local.find((c) => c.seq === w.seq && !matched.has(c));
    if (here === undefined)
      return diverge(w.seq, `the checkpoint of entry ${w.seq} signed ${w.signedAt} by ${fp} is not in the data directory`);
    matched.add(here);
    const fields = (['signedAt', 'headHash', 'keyFingerprint', 'prevHash', 'signature'] as const).filter((k) => here[k] !== w[k]);
    if (fields.length > 0) {
      return diverge(
        w.seq,
        `the checkpoint of entry ${w.seq} differs in ${fields.join(', ')} (witness: signed ${w.signedAt} by ${fp}, head ${w.headHash.slice(0, 16)}…; here: signed ${here.signedAt} by ${here.keyFingerprint ?? 'a v1 key'}, head ${here.headHash.slice(0, 16)}…)`,
      );
    }
    const entry = bySeq.get(w.seq);
    if (entry === undefined) return diverge(w.seq, `the chain ends at entry ${headSeq}, but the witness signed entry ${w.seq}`);
    if (entry.entryHash !== w.headHash)
      return diverge(w.seq, `entry ${w.seq} hashes to ${entry.entryHash.slice(0, 16)}…, the witness signed ${w.headHash.slice(0, 16)}…`);
  }
  const newestWitnessed = witness.reduce((max, w) => Math.max(max, w.seq), 0);
  const unseen = local.find((c) => c.seq <= newestWitnessed && !matched.has(c));
  if (unseen !== undefined)
    return diverge(unseen.seq, `the checkpoint of entry ${unseen.seq} signed ${unseen.signedAt} is not in the witness`);
  return { compared: witness.length, findings: [] };
}

function witnessKey(w: WitnessedCheckpoint): string {
  if (w.keyFingerprint !== null) return w.keyFingerprint;
  try {
    return keyFingerprint(publicKeyFromBase64(w.publicKey));
  } catch {
    return 'an unreadable key';
  }
}
