import { describe, expect, it } from 'vitest';
import { canonicalJson, GENESIS_HASH, linkFaults, nextLink, sha256Hex, type Link } from '../../src/hashChain.js';
import { entryHash } from '../../src/recording/chain.js';

describe('hashChain', () => {
  it('keeps recording entry hashes byte-identical to those already stored', () => {
    // Pinned from the recording chain as written before the generic part moved out.
    const hash = entryHash({
      cameraId: '44030500001320000001',
      seq: 3,
      kind: 'segment',
      path: 'a/b.ts',
      startMs: 1000,
      endMs: 7000,
      bytes: 123,
      sha256: 'ab'.repeat(32),
      partial: false,
      detail: { z: 1, a: 'x' },
      prevHash: 'cd'.repeat(32),
    });
    expect(hash).toBe('c91541c080884b062ab3ccdb0cecd91c76d68ff8453fa99104ed8c7758e28ce7');
  });

  it('serialises with keys sorted at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"x":2,"y":1}]},"b":1}');
  });

  it('reports missing, unlinked and changed entries', () => {
    const hashOf = (e: Link & { body: string }) => sha256Hex(canonicalJson({ seq: e.seq, prevHash: e.prevHash, body: e.body }));
    const chain: Array<Link & { body: string }> = [];
    for (const body of ['a', 'b', 'c', 'd']) {
      const link = nextLink(chain.at(-1));
      const e = { ...link, body, entryHash: '' };
      e.entryHash = hashOf(e);
      chain.push(e);
    }
    expect(chain[0]?.prevHash).toBe(GENESIS_HASH);
    expect(linkFaults(chain, hashOf).flat()).toEqual([]);
    const edited = chain.map((e, i) => (i === 1 ? { ...e, body: 'B' } : e));
    expect(linkFaults(edited, hashOf)[1]).toEqual([{ kind: 'changed' }]);
    const gap = [chain[0], chain[2], chain[3]] as Array<Link & { body: string }>;
    expect(linkFaults(gap, hashOf)[1]).toEqual([{ kind: 'missing', expectedSeq: 2 }]);
    const relinked = chain.map((e, i) => (i === 2 ? { ...e, prevHash: GENESIS_HASH } : e));
    expect(linkFaults(relinked, hashOf)[2]).toEqual([{ kind: 'unlinked' }, { kind: 'changed' }]);
  });
});
