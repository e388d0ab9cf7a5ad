import { describe, expect, it } from 'vitest';
import { buildPushArgs, pushTargetLabel } from '../../../src/platform/index.js';

describe('push', () => {
  it('relays with copy, choosing the muxer from the target scheme', () => {
    expect(buildPushArgs('rtmp://127.0.0.1/shared/1', 'rtsp://p/x').slice(-5)).toEqual([
      '-f',
      'rtsp',
      '-rtsp_transport',
      'tcp',
      'rtsp://p/x',
    ]);
    expect(buildPushArgs('rtmp://127.0.0.1/shared/1', 'rtmp://p/live/k')).toEqual(expect.arrayContaining(['-c', 'copy', '-f', 'flv']));
  });

  it('labels targets without their stream key, stably and distinctly', () => {
    const a = pushTargetLabel('rtmp://platform:1935/live/secret-key-1');
    const b = pushTargetLabel('rtmp://platform:1935/live/secret-key-2');
    expect(a).toMatch(/^rtmp:\/\/platform:1935\/live#[0-9a-f]{8}$/);
    expect(a).not.toContain('secret');
    expect(a).not.toBe(b);
    expect(pushTargetLabel('rtmp://platform:1935/live/secret-key-1')).toBe(a);
  });
});
