import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { chooseProfiles, sharedSubStream } from '../../../src/onvif/profileChoice.js';
import type { MediaProfile } from '../../../src/onvif/types.js';

const profile = (
  token: string,
  encoding: string | null,
  width: number,
  height: number,
  uri: string | null = `rtsp://cam/${token}`,
): MediaProfile => ({
  token,
  name: token,
  encoding,
  width,
  height,
  fps: 25,
  bitrateKbps: 2048,
  streamUri: uri,
  snapshotUri: null,
});

const main = profile('main', 'H264', 1920, 1080);
const sub = profile('sub', 'H264', 640, 360);
const third = profile('third', 'H265', 1280, 720);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.code : 'not a GatewayError';
  }
  return undefined;
}

describe('chooseProfiles', () => {
  it('records and shares the largest H.264 profile by default: one pull per camera', () => {
    const c = chooseProfiles([sub, third, main]);
    expect([c.record.token, c.shared.token]).toEqual(['main', 'main']);
  });

  it('shares the sub stream when the integrator chooses it', () => {
    const c = chooseProfiles([sub, third, main], { shared: 'sub' });
    expect([c.record.token, c.shared.token]).toEqual(['main', 'sub']);
  });

  it('uses one profile for both when there is only one H.264 profile', () => {
    const c = chooseProfiles([third, main]);
    expect([c.record.token, c.shared.token]).toEqual(['main', 'main']);
  });

  it("follows the integrator's choice", () => {
    const c = chooseProfiles([main, sub], { record: 'sub', shared: 'main' });
    expect([c.record.token, c.shared.token]).toEqual(['sub', 'main']);
  });

  it.each([
    ['no profiles', [], {}, 'ONVIF_NO_PROFILE'],
    ['no stream URIs', [profile('p', 'H264', 1, 1, null)], {}, 'ONVIF_NO_PROFILE'],
    ['no video encoder', [profile('p', null, 0, 0)], {}, 'ONVIF_NO_PROFILE'],
    ['no H.264', [third, profile('j', 'JPEG', 640, 480)], {}, 'ONVIF_NO_H264_PROFILE'],
    ['a chosen H.265 profile', [main, third], { shared: 'third' }, 'ONVIF_NO_H264_PROFILE'],
    ['an unknown token', [main], { record: 'nope' }, 'VALIDATION_FAILED'],
  ] as const)('refuses %s', (_what, profiles, wanted, code) => {
    expect(codeOf(() => chooseProfiles(profiles as readonly MediaProfile[], wanted))).toBe(code);
  });
});

describe('sharedSubStream', () => {
  const camera = { rtspUrl: 'rtsp://cam/main' };
  const device = (shared: string, url: string) => ({ recordProfileToken: 'main', sharedProfileToken: shared, sharedStreamUrl: url });

  it('is the chosen sub stream when it differs from the recorded profile and stream', () => {
    expect(sharedSubStream(camera, device('sub', 'rtsp://cam/sub'))).toBe('rtsp://cam/sub');
  });

  it.each([
    ['a camera registered without ONVIF', undefined],
    ['the recorded profile shared', device('main', 'rtsp://cam/main')],
    ['another profile serving the same URL', device('sub', 'rtsp://cam/main')],
  ] as const)('is null (shared derives from raw) for %s', (_what, d) => {
    expect(sharedSubStream(camera, d)).toBeNull();
  });
});
