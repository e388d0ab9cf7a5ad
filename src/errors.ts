/**
 * Errors a user can cause carry a stable code, a message that says what is wrong,
 * and a hint that says how to fix it. The API maps them to HTTP statuses; the CLI
 * prints them and exits non-zero.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'PRIVACY_FORBIDDEN_SITE'
  | 'VALIDATION_FAILED'
  | 'CAMERA_NOT_FOUND'
  | 'CAMERA_EXISTS'
  | 'CAMERA_URL_INVALID'
  | 'CAMERA_AUTH_FAILED'
  | 'CAMERA_UNREACHABLE'
  | 'CAMERA_STREAM_UNPLAYABLE'
  | 'FFMPEG_MISSING'
  | 'PORT_IN_USE'
  | 'MEDIA_INTERNALS_CHANGED'
  | 'SECRET_KEY_MISSING'
  | 'ADMIN_TOKEN_MISSING'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'STREAM_DARK'
  | 'RECORDING_UNREACHABLE'
  | 'ONVIF_UNREACHABLE'
  | 'ONVIF_AUTH_FAILED'
  | 'ONVIF_NO_PROFILE'
  | 'ONVIF_NO_H264_PROFILE'
  | 'ONVIF_CLOCK_DRIFT'
  | 'RETENTION_LOCKED'
  | 'USER_EXISTS'
  | 'PLATFORM_EXISTS'
  | 'TOO_MANY_ATTEMPTS'
  | 'REQUEST_STATE';

const HTTP_STATUS: Record<ErrorCode, number> = {
  CONFIG_INVALID: 400,
  CONFIG_NOT_FOUND: 400,
  PRIVACY_FORBIDDEN_SITE: 422,
  VALIDATION_FAILED: 400,
  CAMERA_NOT_FOUND: 404,
  CAMERA_EXISTS: 409,
  CAMERA_URL_INVALID: 400,
  CAMERA_AUTH_FAILED: 422,
  CAMERA_UNREACHABLE: 422,
  CAMERA_STREAM_UNPLAYABLE: 422,
  FFMPEG_MISSING: 500,
  PORT_IN_USE: 500,
  MEDIA_INTERNALS_CHANGED: 500,
  SECRET_KEY_MISSING: 500,
  ADMIN_TOKEN_MISSING: 500,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  STREAM_DARK: 503,
  RECORDING_UNREACHABLE: 503,
  ONVIF_UNREACHABLE: 422,
  ONVIF_AUTH_FAILED: 422,
  ONVIF_NO_PROFILE: 422,
  ONVIF_NO_H264_PROFILE: 422,
  ONVIF_CLOCK_DRIFT: 422,
  RETENTION_LOCKED: 409,
  USER_EXISTS: 409,
  PLATFORM_EXISTS: 409,
  TOO_MANY_ATTEMPTS: 429,
  REQUEST_STATE: 409,
};

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string; details?: unknown } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
