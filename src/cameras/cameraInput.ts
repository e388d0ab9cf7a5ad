/**
 * What a client may send to create or change a camera: one zod schema per operation,
 * unknown keys refused, each problem reported against its field. No I/O here.
 */
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { desensitizeSchema, maskListSchema, sharedEncoderOverrideSchema } from '../domain/index.js';
import { validateGbId } from './gbId.js';

const PUSH_SCHEMES = new Set(['rtmp:', 'rtmps:', 'rtsp:']);
const MAX_PUSH_TARGETS = 16;

const typeError = (expected: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${expected}`);

const requiredText = (max: number) =>
  z
    .string({ error: typeError('text') })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

/** Optional text: an empty string counts as "not set" (null). */
const optionalText = (max: number) =>
  z
    .string({ error: typeError('text or null') })
    .trim()
    .max(max, `must be at most ${max} characters`)
    .transform((s) => (s === '' ? null : s))
    .nullable()
    .optional();

const isoDate = z
  .string({ error: typeError('a date (YYYY-MM-DD) or null') })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD')
  .refine(isCalendarDate, 'is not a real calendar date')
  .nullable()
  .optional();

const coordinate = (min: number, max: number) =>
  z
    .number({ error: typeError('a number or null') })
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`)
    .nullable()
    .optional();

const flag = z.boolean({ error: typeError('true or false') });

const pushTargets = z
  .array(
    z
      .string({ error: typeError('a URL') })
      .trim()
      .refine(isPushUrl, 'must be an rtmp://, rtmps:// or rtsp:// URL with a host'),
    { error: typeError('a list of URLs') },
  )
  .max(MAX_PUSH_TARGETS, `must list at most ${MAX_PUSH_TARGETS} URLs`)
  .superRefine((urls, ctx) => {
    urls.forEach((url, i) => {
      const first = urls.indexOf(url);
      if (first !== i) ctx.addIssue({ code: 'custom', path: [i], message: `repeats entry ${first}` });
    });
  });

const gbId = z
  .string({ error: typeError('a 20-digit GB/T 28181 ID') })
  .trim()
  .superRefine((id, ctx) => {
    const problem = validateGbId(id);
    if (problem !== null)
      ctx.addIssue({
        code: 'custom',
        message: `is not a valid camera ID: ${problem.replace(/^GB\/T 28181 ID \d+: /, '')}`,
      });
  });

const credential = (what: string) => z.string({ error: typeError(what) }).max(256, 'must be at most 256 characters');

export const cameraCreateSchema = z
  .strictObject({
    id: gbId.optional(),
    name: requiredText(200),
    rtspUrl: z
      .string({ error: typeError('an rtsp:// URL') })
      .trim()
      .min(1, 'must not be empty'),
    siteType: requiredText(100),
    username: credential('text').optional(),
    password: credential('text').optional(),
    address: optionalText(500),
    lat: coordinate(-90, 90),
    lon: coordinate(-180, 180),
    ownerUnit: optionalText(200),
    governmentFunded: flag.default(false),
    signageInstalled: flag.default(false),
    commissionedAt: isoDate,
    removedAt: isoDate,
    enabled: flag.default(true),
    pushTargets: pushTargets.default([]),
    masks: maskListSchema.default([]),
    sharedEncoder: sharedEncoderOverrideSchema.default({}),
    desensitize: desensitizeSchema.nullable().default(null),
  })
  .superRefine((v, ctx) => {
    const problem = datesInOrder(v.commissionedAt ?? null, v.removedAt ?? null);
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['removedAt'], message: problem });
  });

/** A change: every field optional; null clears an optional field, username/password null clears the credentials. */
export const cameraPatchSchema = z.strictObject({
  id: z.string({ error: typeError('text') }).optional(),
  name: requiredText(200).optional(),
  rtspUrl: z
    .string({ error: typeError('an rtsp:// URL') })
    .trim()
    .min(1, 'must not be empty')
    .optional(),
  siteType: requiredText(100).optional(),
  username: credential('text or null').nullable().optional(),
  password: credential('text or null').nullable().optional(),
  address: optionalText(500),
  lat: coordinate(-90, 90),
  lon: coordinate(-180, 180),
  ownerUnit: optionalText(200),
  governmentFunded: flag.optional(),
  signageInstalled: flag.optional(),
  commissionedAt: isoDate,
  removedAt: isoDate,
  enabled: flag.optional(),
  pushTargets: pushTargets.optional(),
  masks: maskListSchema.optional(),
  /** Replaces the whole override; {} returns to the gateway defaults. */
  sharedEncoder: sharedEncoderOverrideSchema.optional(),
  /** Faces/plates blurred on the shared tier; null turns it off (a weakening: four eyes). */
  desensitize: desensitizeSchema.nullable().optional(),
});

export type CameraCreateInput = z.infer<typeof cameraCreateSchema>;
export type CameraPatchInput = z.infer<typeof cameraPatchSchema>;

/** Parses `input` or throws VALIDATION_FAILED whose message lists every field problem. */
export function parseCameraInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(describeIssue);
  throw validationFailed(`invalid ${what}: ${problems.join('; ')}`, problems);
}

export function validationFailed(message: string, problems: string[] = [message]): GatewayError {
  return new GatewayError('VALIDATION_FAILED', message, {
    hint: 'Correct the fields named above and send the request again.',
    details: { problems },
  });
}

/** Null when the dates are in order (or either is missing), else the problem. */
export function datesInOrder(commissionedAt: string | null, removedAt: string | null): string | null {
  if (commissionedAt === null || removedAt === null) return null;
  return removedAt < commissionedAt ? `must not be before commissionedAt (${commissionedAt})` : null;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    const where = issue.path.length > 0 ? ` in ${formatPath(issue.path)}` : '';
    return `unknown field${issue.keys.length === 1 ? '' : 's'} ${keys}${where}`;
  }
  if (issue.path.length === 0) {
    return issue.code === 'invalid_type' ? 'expected an object of camera fields' : issue.message;
  }
  return `${formatPath(issue.path)} ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc === '' ? String(key) : `${acc}.${String(key)}`),
    '',
  );
}

function isCalendarDate(s: string): boolean {
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function isPushUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return PUSH_SCHEMES.has(url.protocol) && url.hostname !== '';
  } catch {
    return false;
  }
}
