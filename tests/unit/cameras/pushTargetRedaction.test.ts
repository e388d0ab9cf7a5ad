import { describe, expect, it } from 'vitest';
import { redactedView, restoreRedactedTargets } from '../../../src/cameras/index.js';
import { isGatewayError } from '../../../src/errors.js';
import { redactPushTarget } from '../../../src/log.js';

describe('redactPushTarget', () => {
  it.each([
    ['rtmp://platform.example/live/StreamKey1', 'rtmp://platform.example/live/***'],
    ['rtmp://platform.example/live/a/b?auth_key=Sig9&t=1', 'rtmp://platform.example/live/***?***'],
    ['rtmps://u:Pass1@platform.example:443/app/key', 'rtmps://u:***@platform.example:443/app/***'],
    ['rtsp://platform.example:554/push', 'rtsp://platform.example:554/push'],
    ['rtmp://platform.example/live?key=K1', 'rtmp://platform.example/live?***'],
    ['rtmp://u@platform.example/live/k', 'rtmp://u@platform.example/live/***'],
  ])('%s → %s', (target, shown) => {
    expect(redactPushTarget(target)).toBe(shown);
  });
});

describe('redactedView', () => {
  it('redacts the push targets and leaves the rest of the camera as it was', () => {
    const view = { id: 'c1', name: 'Gate', pushTargets: ['rtmp://p/live/K1', 'rtsp://p/app'] };
    expect(redactedView(view)).toEqual({ id: 'c1', name: 'Gate', pushTargets: ['rtmp://p/live/***', 'rtsp://p/app'] });
    expect(view.pushTargets[0]).toBe('rtmp://p/live/K1');
  });
});

describe('restoreRedactedTargets', () => {
  const stored = ['rtmp://p/live/A', 'rtmp://p/live/B', 'rtsp://p/app/C'];

  it('maps each redacted form sent back to the stored target it stands for, the n-th to the n-th', () => {
    const sent = ['rtsp://p/app/***', 'rtmp://p/live/***', 'rtmp://p/live/***'];
    expect(restoreRedactedTargets(sent, stored)).toEqual(['rtsp://p/app/C', 'rtmp://p/live/A', 'rtmp://p/live/B']);
  });

  it('keeps full URLs and leaves out what was not sent back', () => {
    expect(restoreRedactedTargets(['rtmp://new/live/N', 'rtmp://p/live/***'], stored)).toEqual(['rtmp://new/live/N', 'rtmp://p/live/A']);
    expect(restoreRedactedTargets(['rtmp://new/live/N'], stored)).toEqual(['rtmp://new/live/N']);
    expect(restoreRedactedTargets(['rtmp://p/live/***', 'rtmp://p/live/A'], stored)).toEqual(['rtmp://p/live/B', 'rtmp://p/live/A']);
  });

  it('passes anything else through for the schema to judge', () => {
    expect(restoreRedactedTargets('rtmp://x/***', stored)).toBe('rtmp://x/***');
    expect(restoreRedactedTargets([1, null], stored)).toEqual([1, null]);
  });

  it('refuses a redacted entry that stands for no stored target, or one more than there are', () => {
    for (const sent of [['rtmp://other/live/***'], ['rtsp://p/app/***', 'rtsp://p/app/***']]) {
      let error: unknown;
      try {
        restoreRedactedTargets(sent, stored);
      } catch (err) {
        error = err;
      }
      expect(isGatewayError(error) && error.code).toBe('VALIDATION_FAILED');
      expect(String((error as Error).message)).toMatch(/pushTargets\[\d\] is a redacted URL .* send the full URL/);
    }
  });
});
