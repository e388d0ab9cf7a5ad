import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { PipelineManager, type PipelineStateChange, type PipelineSettings, type TierEndpoints } from '../../../src/pipeline/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'psvgw-manager-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const settings: PipelineSettings = {
  ffmpegPath: '/nonexistent/ffmpeg',
  rtspTransport: 'tcp',
  socketTimeoutSeconds: 1,
  stallMs: 1000,
  startTimeoutMs: 1000,
  backoff: { initialMs: 60_000, maxMs: 60_000, factor: 2, jitter: 0 },
  maxRestartsPerMinute: 1,
  liveTranscode: 'off',
  sharedEncoder: { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 1500, gopSeconds: 1 },
  dataDir,
} as unknown as PipelineSettings;

const media: TierEndpoints = {
  publishUrl: (tier, id) => `rtmp://127.0.0.1:1/${tier}/${id}`,
  openFeed: () => ({ url: 'pipe:3', marker: 'psvgw=test', write: () => undefined, end: () => undefined }),
  internalPlayUrl: (tier, id) => `rtmp://127.0.0.1:1/${tier}/${id}`,
  describeStream: () => undefined,
  mirrorTier: () => undefined,
  unmirrorTier: () => undefined,
};

describe('PipelineManager state events', () => {
  it('a listener that throws (or rejects) does not keep the others from the change', async () => {
    const errors: unknown[] = [];
    const logger = createLogger({ level: 'silent' });
    logger.error = ((obj: unknown) => errors.push(obj)) as typeof logger.error;
    const manager = new PipelineManager({
      settings,
      media,
      // The probe fails: the ingest goes to backoff without starting any ffmpeg.
      probe: () => Promise.reject(new Error('no such camera')),
      logger,
    });
    const first: PipelineStateChange[] = [];
    const last: PipelineStateChange[] = [];
    manager.on('state', (change) => first.push(change));
    manager.on('state', () => {
      throw new Error('listener bug');
    });
    manager.on('state', () => Promise.reject(new Error('async listener bug')));
    manager.on('state', (change) => last.push(change));
    try {
      await manager.apply({
        id: 'cam-1',
        sourceUrl: 'rtsp://127.0.0.1:1/none',
        pushTargets: [],
        shared: { masks: [], version: 0, encoder: {} },
      });
      const deadline = Date.now() + 5000;
      while (!last.some((c) => c.to === 'backoff') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(last.some((c) => c.cameraId === 'cam-1' && c.stream === 'ingest' && c.to === 'backoff')).toBe(true);
      expect(last).toEqual(first);
      expect(errors.length).toBeGreaterThanOrEqual(2);
    } finally {
      await manager.close();
    }
  });

  it('on() returns a function that removes the listener', async () => {
    const manager = new PipelineManager({
      settings,
      media,
      probe: () => Promise.reject(new Error('x')),
      logger: createLogger({ level: 'silent' }),
    });
    const seen: PipelineStateChange[] = [];
    const off = manager.on('state', (c) => seen.push(c));
    off();
    await manager.apply({
      id: 'cam-2',
      sourceUrl: 'rtsp://127.0.0.1:1/none',
      pushTargets: [],
      shared: { masks: [], version: 0, encoder: {} },
    });
    await new Promise((r) => setTimeout(r, 200));
    await manager.close();
    expect(seen).toEqual([]);
  });
});
