import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/index.js';

describe('SQLite store durability', () => {
  const root = mkdtempSync(join(tmpdir(), 'psvgw-sqlite-sync-'));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('syncs every commit (WAL, synchronous=FULL): an index or chain write that returned survives a power loss', async () => {
    const store = new SqliteStore(join(root, 'full.db'));
    try {
      expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 'FULL' });
    } finally {
      await store.close();
    }
  });

  it('takes NORMAL only when asked (the bench compares the two)', async () => {
    const store = new SqliteStore(join(root, 'normal.db'), { synchronous: 'NORMAL' });
    try {
      expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 'NORMAL' });
    } finally {
      await store.close();
    }
  });
});
