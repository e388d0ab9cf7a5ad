import { describe, expect, it } from 'vitest';
import { classifyFfmpegOutput, isReachabilityFailure } from '../../../src/pipeline/failure.js';

describe('classifyFfmpegOutput', () => {
  it.each([
    ['[rtsp @ 0x5] method DESCRIBE failed: 401 Unauthorized', 'auth_failed'],
    ['rtsp://127.0.0.1:9/x: Connection refused', 'unreachable'],
    ['Connection to tcp://10.0.0.1:554 failed: No route to host', 'unreachable'],
    ['[rtsp @ 0x5] method DESCRIBE failed: 404 Not Found', 'not_found'],
    ['x.flv: Invalid data found when processing input', 'stream_unplayable'],
  ])('%s → %s', (line, cause) => {
    expect(classifyFfmpegOutput(['frame=1', line])).toBe(cause);
  });

  it('returns null when ffmpeg said nothing recognisable (e.g. a camera that closed the stream)', () => {
    expect(classifyFfmpegOutput(['[flv @ 0x1] Failed to update header with correct duration.'])).toBeNull();
  });

  it('only unreachable failures are worth a TCP reachability poll', () => {
    expect(isReachabilityFailure('unreachable')).toBe(true);
    expect(isReachabilityFailure('auth_failed')).toBe(false);
    expect(isReachabilityFailure(null)).toBe(false);
  });
});
