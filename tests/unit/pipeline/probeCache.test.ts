import { describe, expect, it } from 'vitest';
import { needsProbe, RecentProbes } from '../../../src/pipeline/probeCache.js';

const info = { video: { codec: 'h264', width: 640, height: 360, fps: 25, profile: null }, audio: null, format: 'rtsp' };

describe('RecentProbes', () => {
  it('hands a fresh probe out once', () => {
    const probes = new RecentProbes(1000);
    probes.remember('rtsp://a', info, 0);
    expect(probes.take('rtsp://a', 500)).toBe(info);
    expect(probes.take('rtsp://a', 600)).toBeUndefined();
  });

  it('forgets probes older than the limit and other URLs', () => {
    const probes = new RecentProbes(1000);
    probes.remember('rtsp://a', info, 0);
    expect(probes.take('rtsp://b', 10)).toBeUndefined();
    expect(probes.take('rtsp://a', 1001)).toBeUndefined();
  });
});

describe('needsProbe', () => {
  it('probes first, and again only after a run that never went live', () => {
    expect(needsProbe(null, null)).toBe(true);
    expect(needsProbe(info, null)).toBe(false);
    expect(needsProbe(info, 'stalled')).toBe(false);
    expect(needsProbe(info, 'stream_unplayable')).toBe(true);
    expect(needsProbe(info, 'start_timeout')).toBe(true);
  });
});
