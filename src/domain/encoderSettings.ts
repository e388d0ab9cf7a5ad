import { z } from 'zod';

/**
 * Limits and per-camera overrides of the shared tier's H.264 encoder. The gateway-wide
 * defaults come from config `privacy.sharedEncoder`; a camera may override any of the
 * tunable fields (the encoder itself is chosen once for the gateway: it depends on the
 * hardware, not on the camera).
 */

/** Bounds that both the config file and a camera's override must respect. */
export const SHARED_ENCODER_LIMITS = {
  minBitrateKbps: 100,
  maxBitrateKbps: 100_000,
  /** A sharing platform or a new viewer waits at most one GOP for a picture. */
  maxGopSeconds: 2,
  minHeight: 144,
  maxHeight: 4320,
} as const;

/** x264's preset names, fastest first; hardware encoders ignore the preset. */
export const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;

const L = SHARED_ENCODER_LIMITS;

/** Field schemas shared by config `privacy.sharedEncoder` and a camera's `sharedEncoder` override. */
export const sharedEncoderFields = {
  preset: z.enum(X264_PRESETS, { error: `must be one of ${X264_PRESETS.join(', ')}` }),
  maxBitrateKbps: z
    .number({ error: 'must be a whole number of kbit/s' })
    .int('must be a whole number of kbit/s')
    .min(L.minBitrateKbps, `must be between ${L.minBitrateKbps} and ${L.maxBitrateKbps} kbit/s`)
    .max(L.maxBitrateKbps, `must be between ${L.minBitrateKbps} and ${L.maxBitrateKbps} kbit/s`),
  gopSeconds: z
    .number({ error: 'must be a number of seconds' })
    .gt(0, `must be more than 0 and at most ${L.maxGopSeconds} s`)
    .max(
      L.maxGopSeconds,
      `must be more than 0 and at most ${L.maxGopSeconds} s (platforms expect a keyframe at least every ${L.maxGopSeconds} s)`,
    ),
  maxHeight: z
    .number({ error: 'must be a whole number of pixels' })
    .int('must be a whole number of pixels')
    .min(L.minHeight, `must be between ${L.minHeight} and ${L.maxHeight} pixels`)
    .max(L.maxHeight, `must be between ${L.minHeight} and ${L.maxHeight} pixels`),
};

/** A camera's override: every field optional, unknown keys refused. */
export const sharedEncoderOverrideSchema = z.strictObject({
  preset: sharedEncoderFields.preset.optional(),
  maxBitrateKbps: sharedEncoderFields.maxBitrateKbps.optional(),
  gopSeconds: sharedEncoderFields.gopSeconds.optional(),
  maxHeight: sharedEncoderFields.maxHeight.optional(),
});

/** What a camera may change about its shared tier's encoding; absent fields follow the gateway default. */
export interface SharedEncoderOverride {
  preset?: string | undefined;
  maxBitrateKbps?: number | undefined;
  gopSeconds?: number | undefined;
  maxHeight?: number | undefined;
}

const OVERRIDE_FIELDS = ['preset', 'maxBitrateKbps', 'gopSeconds', 'maxHeight'] as const;

/** The camera's override laid over the gateway's defaults; fields the override leaves out keep the default. */
export function withEncoderOverride<T extends SharedEncoderOverride>(defaults: T, override: SharedEncoderOverride): T {
  const merged = { ...defaults };
  for (const field of OVERRIDE_FIELDS) {
    const value = override[field];
    if (value !== undefined) (merged as SharedEncoderOverride)[field] = value as never;
  }
  return merged;
}

/** Stable text of an override, for telling whether it changed. */
export function overrideKey(override: SharedEncoderOverride): string {
  return JSON.stringify(OVERRIDE_FIELDS.map((field) => override[field] ?? null));
}
