import type { ChainEntry } from '../domain/index.js';
import { linkFaults, GENESIS_HASH, nextLink, sha256Hex, sortKeys } from '../hashChain.js';

/** The `prevHash` of a camera's first entry. */
export { GENESIS_HASH };

/** The fields an entry hash commits to: everything but the hash itself, the append time and `deletedAt`. */
export type EntryContent = Omit<ChainEntry, 'entryHash' | 'at' | 'deletedAt'>;

/** What an entry hash commits to, in this order (changing it would break every stored chain). */
const HASHED = ['cameraId', 'seq', 'kind', 'path', 'startMs', 'endMs', 'bytes', 'sha256', 'partial', 'detail', 'prevHash'] as const;

/**
 * SHA-256 over the canonical JSON of the entry's content, the previous hash included. The
 * writer (node and key fingerprint) is appended when the entry names one, so entries from
 * before per-node keys hash as they always did.
 */
export function entryHash(e: EntryContent): string {
  const fields: unknown[] = HASHED.map((key) => (key === 'detail' ? sortKeys(e.detail) : e[key]));
  const node = e.node ?? null;
  const key = e.keyFingerprint ?? null;
  if (node !== null || key !== null) fields.push(node, key);
  return sha256Hex(JSON.stringify(fields));
}

/** The next link after `head` (undefined: the chain is empty). */
export function nextEntry(head: ChainEntry | undefined, content: Omit<EntryContent, 'seq' | 'prevHash'>, at: string): ChainEntry {
  const base: EntryContent = { ...content, ...nextLink(head) };
  return { ...base, entryHash: entryHash(base), at, deletedAt: null };
}

export type ChainProblemKind = 'chain_broken' | 'index_tampered' | 'reordered';

export interface ChainProblem {
  kind: ChainProblemKind;
  cameraId: string;
  seq: number;
  message: string;
}

/**
 * Checks one camera's entries (ascending seq): no missing link, every hash recomputes,
 * each entry commits to the previous, segments follow each other in time.
 */
export function checkChain(entries: readonly ChainEntry[]): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const add = (e: ChainEntry, kind: ChainProblemKind, message: string) =>
    problems.push({ kind, cameraId: e.cameraId, seq: e.seq, message });
  const faults = linkFaults(entries, entryHash);
  let lastSegmentStart = -Infinity;
  entries.forEach((e, i) => {
    for (const fault of faults[i] ?? []) {
      if (fault.kind === 'missing') add(e, 'chain_broken', `entries ${fault.expectedSeq}…${e.seq - 1} are missing`);
      else if (fault.kind === 'unlinked') add(e, 'chain_broken', 'does not commit to the previous entry');
      else add(e, 'index_tampered', 'index entry was changed after it was written');
    }
    if (e.kind === 'segment') {
      if (e.startMs < lastSegmentStart) add(e, 'reordered', 'starts before the segment indexed ahead of it');
      lastSegmentStart = Math.max(lastSegmentStart, e.startMs);
    }
  });
  return problems;
}
