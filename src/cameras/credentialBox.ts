/**
 * Camera credentials at rest: AES-256-GCM boxes of `{"username","password"}`.
 *
 * A box reads `v1.<iv>.<tag>.<ciphertext>`, each part base64url. The version prefix lets
 * a later format (another cipher, key rotation) sit beside old boxes.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { CameraCredentials } from '../domain/index.js';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds every box to its purpose, so a ciphertext made elsewhere with the same key does not open here. */
const AAD = Buffer.from('psvgw/camera-credentials/v1', 'utf8');
const HKDF_SALT = Buffer.from('psv-gateway/hkdf/v1', 'utf8');

const KEY_HINT =
  'Run the gateway with the PSVGW_SECRET_KEY the cameras were added with, or re-enter the credentials of the affected cameras.';

function checkKey(key: Buffer): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `the credential key must be ${KEY_BYTES} bytes (got ${Buffer.isBuffer(key) ? key.length : typeof key})`,
      {
        hint: "Derive it from PSVGW_SECRET_KEY with deriveKey(secret, 'camera-credentials').",
      },
    );
  }
  return Buffer.from(key);
}

/** AES-256-GCM of `plain` bound to `aad`, as `v1.<iv>.<tag>.<ciphertext>`; the plaintext buffer is wiped. */
function sealBytes(key: Buffer, aad: Buffer, plain: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  plain.fill(0);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, ct].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** Opens a box of sealBytes; `what` names the stored value in errors ("stored camera credentials"). */
function openBytes(key: Buffer, aad: Buffer, box: string, what: string, hint: string): Buffer {
  const parts = typeof box === 'string' ? box.split('.') : [];
  if (parts.length !== 4 || parts[0] !== VERSION) {
    const version = parts.length > 0 && parts[0] ? `"${parts[0].slice(0, 8)}"` : 'none';
    throw new GatewayError(
      'CONFIG_INVALID',
      `${what} are not a ${VERSION} box (expected ${VERSION}.<iv>.<tag>.<ciphertext>, version ${version})`,
      {
        hint: `The stored value is damaged or from an unknown version. ${hint}`,
      },
    );
  }
  const [, ivText, tagText, ctText] = parts as [string, string, string, string];
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  const ct = Buffer.from(ctText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new GatewayError('CONFIG_INVALID', `${what} are damaged (wrong IV or tag length)`, { hint });
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch (err) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `cannot decrypt ${what}: they were sealed with a different key or have been altered (was PSVGW_SECRET_KEY changed?)`,
      { hint, cause: err },
    );
  }
}

export class CredentialBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = checkKey(key);
  }

  seal(creds: CameraCredentials): string {
    if (typeof creds?.username !== 'string' || typeof creds.password !== 'string') {
      throw new GatewayError('VALIDATION_FAILED', 'credentials must have a string username and password');
    }
    return sealBytes(this.#key, AAD, Buffer.from(JSON.stringify({ username: creds.username, password: creds.password }), 'utf8'));
  }

  open(box: string): CameraCredentials {
    const plain = openBytes(this.#key, AAD, box, 'stored camera credentials', KEY_HINT);
    try {
      const value: unknown = JSON.parse(plain.toString('utf8'));
      if (isCredentials(value)) return { username: value.username, password: value.password };
    } catch {
      // falls through to the error below
    } finally {
      plain.fill(0);
    }
    throw new GatewayError('CONFIG_INVALID', 'stored camera credentials decrypt to something other than a username and password', {
      hint: 'Re-enter the camera credentials.',
    });
  }
}

/**
 * Other personal data at rest (an applicant's identity document number): text in the same
 * AES-256-GCM boxes, bound to its purpose so a box of one kind never opens as another.
 */
export class TextBox {
  readonly #key: Buffer;
  readonly #aad: Buffer;

  constructor(
    key: Buffer,
    private readonly what: string,
  ) {
    this.#key = checkKey(key);
    this.#aad = Buffer.from(`psvgw/${what}/v1`, 'utf8');
  }

  seal(text: string): string {
    return sealBytes(this.#key, this.#aad, Buffer.from(text, 'utf8'));
  }

  open(box: string): string {
    const plain = openBytes(
      this.#key,
      this.#aad,
      box,
      `stored ${this.what}`,
      'Run the gateway with the PSVGW_SECRET_KEY they were stored with.',
    );
    try {
      return plain.toString('utf8');
    } finally {
      plain.fill(0);
    }
  }
}

/**
 * One secret, many keys: HKDF-SHA256 of `secret` with `purpose` as the info string, so
 * credentials, playback tokens and the like never share key material.
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new GatewayError('SECRET_KEY_MISSING', 'no secret key to derive keys from', {
      hint: 'Set PSVGW_SECRET_KEY to a long random string (e.g. the output of `openssl rand -base64 32`).',
    });
  }
  if (typeof purpose !== 'string' || purpose.length === 0) {
    throw new TypeError('deriveKey needs a non-empty purpose');
  }
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, Buffer.from(purpose, 'utf8'), KEY_BYTES));
}

/** Purposes the gateway derives keys for. */
export const KEY_PURPOSES = Object.freeze({
  cameraCredentials: 'camera-credentials',
  playbackToken: 'playback-token-hmac',
  sessionSigningKeys: 'session-signing-keys',
  personalData: 'personal-data',
});

function isCredentials(value: unknown): value is CameraCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.username === 'string' && typeof v.password === 'string';
}
