import { describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../src/domain/index.js';
import {
  entryHash,
  nextEntry,
  recordingUnreachable,
  segmentPlace,
  unreachableSpans,
  type HoldingNode,
} from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/sqlite.js';

const seg = (seq: number, startMs: number, endMs: number, node?: string) =>
  ({ seq, startMs, endMs, kind: 'segment', ...(node === undefined ? {} : { node }) }) as ChainEntry;
const NODES: HoldingNode[] = [
  { name: 'gw-1', alive: true, apiUrl: 'http://10.0.0.1:8080' },
  { name: 'gw-2', alive: false, apiUrl: 'http://10.0.0.2:8080' },
  { name: 'gw-3', alive: true, apiUrl: null },
];

describe('segmentPlace', () => {
  it('serves from this disk what names no node or this node', () => {
    expect(segmentPlace(seg(1, 0, 1), null, [])).toEqual({ at: 'here' });
    expect(segmentPlace(seg(1, 0, 1), 'gw-1', NODES)).toEqual({ at: 'here' });
    expect(segmentPlace(seg(1, 0, 1, 'gw-1'), 'gw-1', NODES)).toEqual({ at: 'here' });
  });

  it('goes through a live holder; a dead, unknown or unaddressed holder is unreachable with the reason', () => {
    expect(segmentPlace(seg(1, 0, 1, 'gw-1'), 'gw-9', NODES)).toEqual({ at: 'node', node: 'gw-1', apiUrl: 'http://10.0.0.1:8080' });
    expect(segmentPlace(seg(1, 0, 1, 'gw-2'), 'gw-1', NODES)).toMatchObject({
      at: 'unreachable',
      node: 'gw-2',
      reason: expect.stringMatching(/not alive/),
    });
    expect(segmentPlace(seg(1, 0, 1, 'gw-7'), 'gw-1', NODES)).toMatchObject({ at: 'unreachable', reason: 'is not a node of this cluster' });
    expect(segmentPlace(seg(1, 0, 1, 'gw-3'), 'gw-1', NODES)).toMatchObject({
      at: 'unreachable',
      reason: expect.stringMatching(/API URL/),
    });
  });
});

describe('unreachableSpans and recordingUnreachable', () => {
  it('one span per unreachable node, from its first start to its last end, in time order', () => {
    const entries = [seg(1, 0, 10, 'gw-1'), seg(2, 10, 20, 'gw-2'), seg(3, 20, 30, 'gw-7'), seg(4, 30, 40, 'gw-2'), seg(5, 40, 50)];
    expect(unreachableSpans(entries, 'gw-1', NODES)).toEqual([
      { node: 'gw-2', reason: 'is not alive (its heartbeat expired)', fromMs: 10, toMs: 40, segments: 2 },
      { node: 'gw-7', reason: 'is not a node of this cluster', fromMs: 20, toMs: 30, segments: 1 },
    ]);
    expect(unreachableSpans(entries.slice(0, 1), 'gw-9', NODES)).toEqual([]);
  });

  it('is a 503 naming the node and the time range: unreachable, not missing', () => {
    const err = recordingUnreachable('cam-1', [
      { node: 'gw-2', reason: 'is not alive (its heartbeat expired)', fromMs: 0, toMs: 60_000, segments: 3 },
    ]);
    expect(err.code).toBe('RECORDING_UNREACHABLE');
    expect(err.httpStatus).toBe(503);
    expect(err.message).toBe(
      'Recordings of camera cam-1 are unreachable, not missing: node gw-2 holds 3 segments from 1970-01-01T00:00:00.000Z to 1970-01-01T00:01:00.000Z and is not alive (its heartbeat expired).',
    );
    expect(err.hint).toContain('once node gw-2 is back');
    expect(err.details).toEqual({
      cameraId: 'cam-1',
      unreachable: [{ node: 'gw-2', from: '1970-01-01T00:00:00.000Z', to: '1970-01-01T00:01:00.000Z', segments: 3 }],
    });
  });
});

describe('the holding node in the index', () => {
  it('is stored with the entry as its writer (in its hash), and absent for entries that name none', async () => {
    const store = new SqliteStore(':memory:');
    try {
      await store.migrate();
      const content = {
        cameraId: 'cam-1',
        kind: 'segment' as const,
        path: 'cam-1/a.ts',
        startMs: 0,
        endMs: 1000,
        bytes: 10,
        sha256: 'ab',
        partial: false,
        detail: {},
      };
      const first = nextEntry(undefined, content, '2026-12-01T00:00:00.000Z');
      const second = nextEntry(first, { ...content, path: 'cam-1/b.ts', node: 'gw-1', keyFingerprint: null }, '2026-12-01T00:00:01.000Z');
      expect(second.entryHash).toBe(entryHash(second));
      expect(second.entryHash).not.toBe(entryHash({ ...second, node: null }));
      await store.recordings.append(first);
      await store.recordings.append(second);
      const [a, b] = await store.recordings.entries({ cameraId: 'cam-1' });
      expect(a).toEqual(first);
      expect(a).not.toHaveProperty('node');
      expect(b).toEqual(second);
    } finally {
      await store.close();
    }
  });
});
