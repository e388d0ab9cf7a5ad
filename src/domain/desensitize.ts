/**
 * Dynamic desensitization of a camera's shared tier (faces, plates blurred wherever they
 * move). Opt-in per camera because detection costs real CPU. No I/O here.
 */
import { z } from 'zod';

export const DESENSITIZE_FAIL_MODES = ['dark', 'blur'] as const;
/** What the shared tier shows while the detector cannot vouch for the picture: black, or the whole frame blurred. */
export type DesensitizeFailMode = (typeof DESENSITIZE_FAIL_MODES)[number];

export interface DesensitizeSetting {
  faces: boolean;
  plates: boolean;
  /** Detections per second on the downscaled frames (default DESENSITIZE_DEFAULTS.detectFps). */
  detectFps?: number | undefined;
  /** Default 'dark'. */
  failMode?: DesensitizeFailMode | undefined;
}

export const DESENSITIZE_DEFAULTS = { detectFps: 5, failMode: 'dark' } as const satisfies Required<
  Pick<DesensitizeSetting, 'detectFps' | 'failMode'>
>;
export const DESENSITIZE_LIMITS = { minDetectFps: 1, maxDetectFps: 15 } as const;

const got = (input: unknown): string => (input === undefined ? 'nothing' : (JSON.stringify(input) ?? String(input)));
const flag = z.boolean({ error: (iss) => `must be true or false (got ${got(iss.input)})` });
const L = DESENSITIZE_LIMITS;

/** `{faces, plates, detectFps?, failMode?}`; at least one of faces and plates (else send null to turn it off). */
export const desensitizeSchema = z
  .strictObject(
    {
      faces: flag,
      plates: flag,
      detectFps: z
        .number({ error: (iss) => `must be a number of detections per second (got ${got(iss.input)})` })
        .min(L.minDetectFps, `must be between ${L.minDetectFps} and ${L.maxDetectFps} per second`)
        .max(L.maxDetectFps, `must be between ${L.minDetectFps} and ${L.maxDetectFps} per second`)
        .optional(),
      failMode: z
        .enum(DESENSITIZE_FAIL_MODES, { error: (iss) => `must be one of ${DESENSITIZE_FAIL_MODES.join(', ')} (got ${got(iss.input)})` })
        .optional(),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown field (allowed: faces, plates, detectFps, failMode)' : undefined) },
  )
  .refine((d) => d.faces || d.plates, {
    error: 'must hide faces, plates or both; to turn desensitization off send desensitize: null',
  });

/** The setting with its defaults filled in; null stays off. */
export function desensitizeWithDefaults(
  d: DesensitizeSetting | null,
): (Required<Omit<DesensitizeSetting, 'detectFps' | 'failMode'>> & { detectFps: number; failMode: DesensitizeFailMode }) | null {
  if (d === null) return null;
  return {
    faces: d.faces,
    plates: d.plates,
    detectFps: d.detectFps ?? DESENSITIZE_DEFAULTS.detectFps,
    failMode: d.failMode ?? DESENSITIZE_DEFAULTS.failMode,
  };
}

/** Whether `after` hides less than `before`: the strength of what a second admin must look at. */
export function desensitizeWeakens(before: DesensitizeSetting | null, after: DesensitizeSetting | null): boolean {
  const b = desensitizeWithDefaults(before);
  if (b === null) return false;
  const a = desensitizeWithDefaults(after);
  if (a === null) return true;
  // Dropping a kind uncovers it; fewer detections a second leave moving people covered by wider guesses for longer;
  // a whole-frame blur keeps shapes and colours that dark removes.
  return (b.faces && !a.faces) || (b.plates && !a.plates) || a.detectFps < b.detectFps || (b.failMode === 'dark' && a.failMode === 'blur');
}
