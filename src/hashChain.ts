/**
 * The generic part of every hash chain the gateway keeps (recording index, audit log):
 * the genesis link, SHA-256 over canonical JSON, and the link check. What an entry
 * commits to is each chain's own business; how links are checked is decided once here.
 */
import { createHash } from 'node:crypto';

/** The `prevHash` of a chain's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Lowercase hex SHA-256 of a UTF-8 text. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** An object's entries as [key, value] pairs in sorted key order (one level). */
export function sortKeys(value: Record<string, unknown>): Array<[string, unknown]> {
  return Object.keys(value)
    .sort()
    .map((k) => [k, value[k]]);
}

/** JSON with every object's keys sorted, at every depth: equal content, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** What every chained entry carries. */
export interface Link {
  seq: number;
  prevHash: string;
  entryHash: string;
}

/** The link an entry after `head` gets (undefined head: the chain is empty). */
export function nextLink(head: Link | undefined): Pick<Link, 'seq' | 'prevHash'> {
  return { seq: (head?.seq ?? 0) + 1, prevHash: head?.entryHash ?? GENESIS_HASH };
}

export type LinkFault =
  /** seq is not the one after the previous entry; `expectedSeq` says which was due. */
  | { kind: 'missing'; expectedSeq: number }
  /** The entry does not commit to the previous entry's hash. */
  | { kind: 'unlinked' }
  /** The stored hash does not recompute: the entry was changed after it was written. */
  | { kind: 'changed' };

/**
 * The faults of each entry (same index as `entries`, stored order), each entry's in this
 * order: missing, unlinked (only when seq is the expected one), changed.
 */
export function linkFaults<T extends Link>(entries: readonly T[], hashOf: (e: T) => string): LinkFault[][] {
  let prev: T | undefined;
  return entries.map((e) => {
    const faults: LinkFault[] = [];
    const expected = nextLink(prev);
    if (e.seq !== expected.seq) faults.push({ kind: 'missing', expectedSeq: expected.seq });
    else if (e.prevHash !== expected.prevHash) faults.push({ kind: 'unlinked' });
    if (hashOf(e) !== e.entryHash) faults.push({ kind: 'changed' });
    prev = e;
    return faults;
  });
}
