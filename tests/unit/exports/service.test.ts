import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExportJob } from '../../../src/domain/index.js';
import { ExportService, requireWatermarkFont } from '../../../src/exports/index.js';
import { ChainSigner } from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/index.js';

function job(id: string, over: Partial<ExportJob>): ExportJob {
  return {
    id,
    requestId: 'gone',
    cameraId: 'c1',
    from: '2026-05-01T08:00:00.000Z',
    to: '2026-05-01T08:01:00.000Z',
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

describe('ExportService at start (a real SQLite store)', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psvgw-export-service-'));
    store = new SqliteStore(join(dir, 'psvgw.db'));
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails a job the last run left running, removing what it wrote, then works through the queue', async () => {
    const exportsDir = join(dir, 'exports');
    mkdirSync(join(exportsDir, '.work-r'), { recursive: true });
    writeFileSync(join(exportsDir, '.work-r', 'clip.mp4.part'), 'half');
    writeFileSync(join(exportsDir, 'r.mp4'), 'renamed, but no manifest yet');
    await store.exportJobs.insert(job('r', { state: 'running', startedAt: '2026-05-01T10:00:01.000Z' }));
    await store.exportJobs.insert(job('q', {}));
    const service = await new ExportService({
      store,
      dir: exportsDir,
      recordingsDir: join(dir, 'recordings'),
      signer: ChainSigner.loadOrCreate(dir),
      ffmpegPath: 'ffmpeg',
      ffprobePath: 'ffprobe',
      logger: pino({ level: 'silent' }),
    }).start();
    try {
      expect(await store.exportJobs.get('r')).toMatchObject({ state: 'failed', error: expect.stringContaining('gateway stopped') });
      expect(existsSync(join(exportsDir, '.work-r'))).toBe(false);
      expect(existsSync(join(exportsDir, 'r.mp4'))).toBe(false);
      const deadline = Date.now() + 5000;
      while ((await store.exportJobs.get('q'))?.state !== 'failed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await store.exportJobs.get('q')).toMatchObject({ state: 'failed', error: 'access request gone no longer exists' });
      const fails = await store.audit.list({ action: 'export.fail' });
      expect(fails.map((a) => a.details.jobId).sort()).toEqual(['q', 'r']);
    } finally {
      await service.close();
    }
  });

  it('names the font package when the watermark font is missing', () => {
    expect(() => requireWatermarkFont(join(dir, 'none.ttc'))).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/watermark font .* is missing/),
        hint: expect.stringContaining('fonts-wqy-microhei'),
      }),
    );
  });
});
