import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import type { TierEndpoints } from '../../../src/pipeline/tiers.js';
import { SharedTier, type SharedStream, type SharedTierSpec } from '../../../src/pipeline/sharedTier.js';
import type { PreparedRun, StreamSupervisor } from '../../../src/pipeline/supervisor.js';

const maskDir = mkdtempSync(join(tmpdir(), 'psvgw-shared-'));
afterAll(() => rmSync(maskDir, { recursive: true, force: true }));

/** A stand-in for the supervised process: records what the shared tier asked of it. */
class FakeRun {
  calls: string[] = [];
  constructor(
    readonly stream: SharedStream,
    readonly prepare: (signal: AbortSignal) => Promise<PreparedRun>,
  ) {}
  start() {
    this.calls.push('start');
  }
  retryNow() {
    this.calls.push('retry');
  }
  close() {
    this.calls.push('close');
    return Promise.resolve();
  }
  snapshot() {
    return { state: 'live', lastCause: null };
  }
}

const info = (width: number, height: number) => ({
  video: { codec: 'h264', width, height, fps: 25, profile: null },
  audio: { codec: 'pcm_alaw', sampleRate: 8000, channels: 1 },
  format: 'rtsp',
});

function setUp(spec: SharedTierSpec, subUrl: string | null) {
  const media: string[] = [];
  const runs: FakeRun[] = [];
  const probed: string[] = [];
  const endpoints: TierEndpoints = {
    publishUrl: (tier, id) => `rtmp://local/${tier}/${id}`,
    openFeed: () => ({ url: 'pipe:3', marker: 'psvgw=test', write: () => undefined, end: () => undefined }),
    internalPlayUrl: (tier, id) => `rtmp://local/${tier}/${id}?internal`,
    describeStream: (tier) => media.push(`describe ${tier}`),
    mirrorTier: () => media.push('mirror'),
    unmirrorTier: () => media.push('unmirror'),
  };
  const tier = new SharedTier(
    {
      cameraId: 'c1',
      media: endpoints,
      encoder: { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 1500, gopSeconds: 1 },
      maskDir,
      streamInfo: () => info(640, 360),
      probe: (url) => {
        probed.push(url);
        return Promise.resolve(info(320, 180));
      },
      input: {
        rtspTransport: 'tcp',
        socketTimeoutSeconds: 5,
        liveTranscode: { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 2000, gopSeconds: 1 },
      },
      supervise: (stream, prepare) => {
        const run = new FakeRun(stream, prepare);
        runs.push(run);
        return run as unknown as StreamSupervisor;
      },
      logger: createLogger({ level: 'silent' }),
    },
    spec,
    subUrl,
  );
  return { tier, media, runs, probed };
}

const plain: SharedTierSpec = { masks: [], version: 0, encoder: {} };
const SUB = 'rtsp://u:p@cam/sub';

describe('SharedTier with a sub stream', () => {
  it('relays the sub stream from the start, never mirroring raw, and independent of the ingest', async () => {
    const { tier, media, runs, probed } = setUp(plain, SUB);
    expect(media).toEqual(['unmirror']);
    expect(runs.map((r) => r.stream)).toEqual(['shared']);
    tier.start();
    tier.beforeIngest();
    tier.ingestLive();
    tier.ingestLive();
    expect(runs[0]?.calls).toEqual(['start']);
    expect(media).not.toContain('mirror');
    const { args } = await (runs[0] as FakeRun).prepare(new AbortController().signal);
    expect(probed).toEqual([SUB]);
    // The ingest's copy of the sub stream: G.711 made AAC, the shared tier its only target, no recording.
    expect(args.join(' ')).toContain(`-i ${SUB} -copytb 1 -map 0:v:0 -map 0:a:0 -c:v copy -c:a aac -b:a 48k -f tee`);
    expect(args.at(-1)).toBe('[f=flv:flvflags=no_duration_filesize:flush_packets=1:onfail=ignore]rtmp://local/shared/c1');
    expect(tier.snapshot()).toMatchObject({ mode: 'relayed', source: 'sub stream', masking: null, relay: { state: 'live' } });
  });

  it('restarts only its own process when the sub stream changes, and mirrors raw again when it goes', async () => {
    const { tier, media, runs } = setUp(plain, SUB);
    tier.start();
    await tier.apply({ ...plain, encoder: { maxHeight: 480 } }, SUB);
    expect(runs).toHaveLength(1); // encoder settings mean nothing to a copy relay
    await tier.apply(plain, 'rtsp://u:p@cam/other');
    expect(runs[0]?.calls).toEqual(['start', 'close']);
    expect(runs[1]?.calls).toEqual(['start']);
    await tier.apply(plain, null);
    expect(runs[1]?.calls).toEqual(['start', 'close']);
    expect(media.at(-1)).toBe('mirror');
    expect(tier.snapshot()).toMatchObject({ mode: 'mirrored', source: 'raw', relay: null });
  });

  const masked: SharedTierSpec = { masks: [{ shape: 'rect', x: 0, y: 0, w: 0.5, h: 0.5, mode: 'fill' }], version: 1, encoder: {} };

  it('masks the sub stream read over RTSP, planned on its own resolution', async () => {
    const { tier, runs, probed } = setUp(masked, SUB);
    tier.start();
    expect(runs.map((r) => [r.stream, r.calls])).toEqual([['masking', ['start']]]);
    const args = (await (runs[0] as FakeRun).prepare(new AbortController().signal)).args.join(' ');
    expect(probed).toEqual([SUB]);
    expect(args).toContain(`-rtsp_transport tcp -timeout 5000000 -analyzeduration 2000000 -i ${SUB} -loop 1`);
    expect(args).toContain('scale=-2:180[shared]');
    expect(args).toContain('-c:a aac');
    expect(tier.snapshot()).toMatchObject({ mode: 'masked', source: 'sub stream', relay: null });
  });

  it('without a sub stream, a masking transcode of raw still waits for the ingest', () => {
    const { tier, runs } = setUp(masked, null);
    tier.start();
    expect(runs[0]?.calls).toEqual([]);
    tier.ingestLive();
    tier.ingestLive();
    expect(runs[0]?.calls).toEqual(['start', 'retry']);
    expect(tier.snapshot()).toMatchObject({ mode: 'masked', source: 'raw' });
  });
});
