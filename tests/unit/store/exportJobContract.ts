import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExportJob } from '../../../src/domain/index.js';
import type { StoreHarness } from './storeContract.js';

function exportJob(id: string, over: Partial<ExportJob> = {}): ExportJob {
  return {
    id,
    requestId: 'r-1',
    cameraId: '34020000001320000001',
    from: '2026-05-01T08:00:00.000Z',
    to: '2026-05-01T08:10:00.000Z',
    userId: 'u-1',
    username: 'officer',
    state: 'queued',
    progress: 0,
    clip: null,
    manifest: null,
    clipBytes: null,
    clipSha256: null,
    error: null,
    createdAt: '2026-05-01T10:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    ...over,
  };
}

/** The export job repository, for every Store implementation. */
export function describeExportJobContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: export jobs`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('keeps a job whole and lists oldest first, by user and by state', async () => {
      const store = await h.fresh();
      const a = exportJob('a');
      const b = exportJob('b', { userId: 'u-2', createdAt: '2026-05-01T09:00:00.000Z', state: 'running' });
      await store.exportJobs.insert(a);
      await store.exportJobs.insert(b);
      expect(await store.exportJobs.get('a')).toEqual(a);
      expect(await store.exportJobs.get('nope')).toBeUndefined();
      expect((await store.exportJobs.list()).map((j) => j.id)).toEqual(['b', 'a']);
      expect((await store.exportJobs.list({ userId: 'u-1' })).map((j) => j.id)).toEqual(['a']);
      expect((await store.exportJobs.list({ state: 'queued', limit: 1 })).map((j) => j.id)).toEqual(['a']);
    });

    it('keeps the node a job runs on; a node lists its own jobs and those naming none', async () => {
      const store = await h.fresh();
      const mine = exportJob('a', { node: 'gw-1' });
      await store.exportJobs.insert(mine);
      await store.exportJobs.insert(exportJob('b', { node: 'gw-2', createdAt: '2026-05-01T10:00:01.000Z' }));
      await store.exportJobs.insert(exportJob('c', { createdAt: '2026-05-01T10:00:02.000Z' }));
      expect(await store.exportJobs.get('a')).toEqual(mine);
      expect(await store.exportJobs.get('c')).not.toHaveProperty('node');
      expect((await store.exportJobs.list({ state: 'queued', runnableBy: 'gw-1' })).map((j) => j.id)).toEqual(['a', 'c']);
      expect((await store.exportJobs.list({ state: 'queued', runnableBy: 'gw-2', limit: 1 })).map((j) => j.id)).toEqual(['b']);
    });

    it('changes a job only from the expected state, keeping sizes past 32 bits', async () => {
      const store = await h.fresh();
      await store.exportJobs.insert(exportJob('a'));
      expect(await store.exportJobs.update('a', 'queued', { state: 'running', startedAt: '2026-05-01T10:00:01.000Z' })).toBe(true);
      expect(await store.exportJobs.update('a', 'queued', { state: 'running' })).toBe(false);
      expect(await store.exportJobs.update('a', 'running', { progress: 0.5 })).toBe(true);
      const done = {
        state: 'done' as const,
        progress: 1,
        clip: 'a.mp4',
        manifest: 'a.manifest.json',
        clipBytes: 5_000_000_000,
        clipSha256: 'ab'.repeat(32),
      };
      expect(await store.exportJobs.update('a', 'running', done)).toBe(true);
      expect(await store.exportJobs.get('a')).toMatchObject({ ...done, startedAt: '2026-05-01T10:00:01.000Z' });
    });
  });
}
