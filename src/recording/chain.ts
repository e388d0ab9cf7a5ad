import { createHash } from 'node:crypto';
import type { ChainEntry } from '../domain/index.js';

/** The `prevHash` of a camera's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an entry hash commits to: everything but the hash itself, the append time and `deletedAt`. */
export type EntryContent = Omit<ChainEntry, 'entryHash' | 'at' | 'deletedAt'>;

/** What an entry hash commits to, in this order (changing it would break every stored chain). */
const HASHED = ['cameraId', 'seq', 'kind', 'path', 'startMs', 'endMs', 'bytes', 'sha256', 'partial', 'detail', 'prevHash'] as const;

/** SHA-256 over the canonical JSON of the entry's content, the previous hash included. */
export function entryHash(e: EntryContent): string {
  const canonical = JSON.stringify(HASHED.map((key) => (key === 'detail' ? sortKeys(e.detail) : e[key])));
  return createHash('sha256').update(canonical).digest('hex');
}

/** The next link after `head` (undefined: the chain is empty). */
export function nextEntry(head: ChainEntry | undefined, content: Omit<EntryContent, 'seq' | 'prevHash'>, at: string): ChainEntry {
  const base: EntryContent = { ...content, seq: (head?.seq ?? 0) + 1, prevHash: head?.entryHash ?? GENESIS_HASH };
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
  let prev: ChainEntry | undefined;
  let lastSegmentStart = -Infinity;
  for (const e of entries) {
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (e.seq !== expectedSeq)
      problems.push({ kind: 'chain_broken', cameraId: e.cameraId, seq: e.seq, message: `entries ${expectedSeq}…${e.seq - 1} are missing` });
    const expectedPrev = prev?.entryHash ?? GENESIS_HASH;
    if (e.seq === expectedSeq && e.prevHash !== expectedPrev)
      problems.push({ kind: 'chain_broken', cameraId: e.cameraId, seq: e.seq, message: 'does not commit to the previous entry' });
    if (entryHash(e) !== e.entryHash)
      problems.push({ kind: 'index_tampered', cameraId: e.cameraId, seq: e.seq, message: 'index entry was changed after it was written' });
    if (e.kind === 'segment') {
      if (e.startMs < lastSegmentStart)
        problems.push({ kind: 'reordered', cameraId: e.cameraId, seq: e.seq, message: 'starts before the segment indexed ahead of it' });
      lastSegmentStart = Math.max(lastSegmentStart, e.startMs);
    }
    prev = e;
  }
  return problems;
}

function sortKeys(value: Record<string, unknown>): Array<[string, unknown]> {
  return Object.keys(value)
    .sort()
    .map((k) => [k, value[k]]);
}
