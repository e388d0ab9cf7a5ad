import { describe, expect, it } from 'vitest';
import { overrideKey, withEncoderOverride } from '../../../src/domain/index.js';

const DEFAULTS = { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 2000, gopSeconds: 1, maxHeight: undefined };

describe('shared-tier encoder override', () => {
  it('lays the fields a camera sets over the gateway defaults and keeps the rest', () => {
    expect(withEncoderOverride(DEFAULTS, {})).toEqual(DEFAULTS);
    expect(withEncoderOverride(DEFAULTS, { maxHeight: 480, gopSeconds: 2 })).toEqual({ ...DEFAULTS, maxHeight: 480, gopSeconds: 2 });
    expect(withEncoderOverride(DEFAULTS, { preset: 'ultrafast', maxBitrateKbps: 500, maxHeight: undefined })).toEqual({
      ...DEFAULTS,
      preset: 'ultrafast',
      maxBitrateKbps: 500,
    });
  });

  it('never lets a camera change the encoder chosen for the gateway', () => {
    const sneaky = { encoder: 'h264_nvenc', preset: 'fast' } as unknown as Parameters<typeof withEncoderOverride>[1];
    expect(withEncoderOverride(DEFAULTS, sneaky).encoder).toBe('libx264');
  });

  it('tells changed overrides apart regardless of key order', () => {
    expect(overrideKey({ gopSeconds: 2, maxHeight: 480 })).toBe(overrideKey({ maxHeight: 480, gopSeconds: 2 }));
    expect(overrideKey({ gopSeconds: 2 })).not.toBe(overrideKey({ gopSeconds: 1 }));
    expect(overrideKey({})).toBe(overrideKey({ preset: undefined }));
  });
});
