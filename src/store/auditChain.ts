/**
 * The audit log's hash chain: what an entry commits to, and the check that names the
 * first bad entry. The link rules are the kernel's (src/hashChain.ts), shared with the
 * recording chain.
 */
import type { AuditEntry } from '../domain/index.js';
import type { AuditRepository } from './store.js';
import { canonicalJson, GENESIS_HASH, linkFaults, nextLink, sha256Hex, type Link } from '../hashChain.js';

/** The chain name a checkpoint of the audit head signs (never a 20-digit camera ID). */
export const AUDIT_CHAIN_ID = 'audit';

export type ChainedAuditEntry = AuditEntry & Link & { id: number };

/** SHA-256 over the canonical JSON (sorted keys) of everything but `id` and `entryHash`. */
export function auditEntryHash(e: Omit<AuditEntry, 'id' | 'entryHash'> & Pick<Link, 'seq' | 'prevHash'>): string {
  return sha256Hex(
    canonicalJson({
      seq: e.seq,
      prevHash: e.prevHash,
      at: e.at,
      actor: e.actor,
      action: e.action,
      cameraId: e.cameraId,
      outcome: e.outcome,
      details: e.details,
    }),
  );
}

/** The chain fields of an entry appended after `head`. */
export function linkAuditEntry(head: Link | undefined, entry: AuditEntry): Link {
  const link = nextLink(head);
  return { ...link, entryHash: auditEntryHash({ ...entry, ...link }) };
}

export type AuditProblemKind =
  | 'changed'
  | 'missing'
  | 'reordered'
  | 'unlinked'
  | 'unchained'
  /** Checked against the signed checkpoints (recording module): */
  | 'truncated'
  | 'rewritten'
  | 'checkpoint_invalid'
  | 'untrusted_key'
  | 'head_unsigned';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The row's id (null when no row is left to name), and the seq it carries (null when its chain fields were removed). */
  id: number | null;
  seq: number | null;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** Rows from before the chain existed, not yet chained (the next append chains them). */
  pending: number;
  head: { seq: number; entryHash: string } | null;
  problems: AuditProblem[];
}

/**
 * Checks entries in stored (id) order: each carries the next seq, commits to the previous
 * entry's hash, and hashes to what it stores. Leading rows without chain fields are
 * pre-chain rows (pending); such a row after a chained one lost its chain fields.
 */
export function checkAuditChain(entries: readonly AuditEntry[]): AuditVerification {
  let pending = 0;
  while (pending < entries.length && entries[pending]?.seq == null) pending++;
  const problems: AuditProblem[] = [];
  const chained: ChainedAuditEntry[] = [];
  for (const e of entries.slice(pending)) {
    if (e.seq == null || e.prevHash == null || e.entryHash == null)
      problems.push({ kind: 'unchained', id: e.id ?? 0, seq: null, message: `entry id ${e.id} has lost its chain fields` });
    else chained.push(e as ChainedAuditEntry);
  }
  const seqs = new Set(chained.map((e) => e.seq));
  const faults = linkFaults(chained, auditEntryHash);
  chained.forEach((e, i) => {
    const at = `entry seq ${e.seq} (id ${e.id})`;
    for (const f of faults[i] ?? []) {
      if (f.kind === 'missing' && seqs.has(f.expectedSeq))
        problems.push({
          kind: 'reordered',
          id: e.id,
          seq: e.seq,
          message: `${at} is stored ahead of seq ${f.expectedSeq}: rows were reordered`,
        });
      else if (f.kind === 'missing')
        problems.push({ kind: 'missing', id: e.id, seq: e.seq, message: `entry seq ${f.expectedSeq} is missing (deleted) before ${at}` });
      else if (f.kind === 'unlinked')
        problems.push({ kind: 'unlinked', id: e.id, seq: e.seq, message: `${at} does not commit to the entry before it` });
      else problems.push({ kind: 'changed', id: e.id, seq: e.seq, message: `${at} was changed after it was written` });
    }
  });
  problems.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const last = chained.at(-1);
  return {
    ok: problems.length === 0,
    entries: entries.length,
    pending,
    head: last === undefined ? null : { seq: last.seq, entryHash: last.entryHash },
    problems,
  };
}

export { GENESIS_HASH };

/** Verifies the whole audit chain of a store. */
export async function verifyAuditChain(store: { audit: Pick<AuditRepository, 'chain'> }): Promise<AuditVerification> {
  return checkAuditChain(await store.audit.chain());
}
