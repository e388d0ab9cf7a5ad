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

export class CredentialBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new GatewayError(
        'CONFIG_INVALID',
        `the credential key must be ${KEY_BYTES} bytes (got ${Buffer.isBuffer(key) ? key.length : typeof key})`,
        {
          hint: "Derive it from PSVGW_SECRET_KEY with deriveKey(secret, 'camera-credentials').",
        },
      );
    }
    this.#key = Buffer.from(key);
  }

  seal(creds: CameraCredentials): string {
    if (typeof creds?.username !== 'string' || typeof creds.password !== 'string') {
      throw new GatewayError('VALIDATION_FAILED', 'credentials must have a string username and password');
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const plain = Buffer.from(JSON.stringify({ username: creds.username, password: creds.password }), 'utf8');
    const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
    plain.fill(0);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, ct].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  open(box: string): CameraCredentials {
    const parts = typeof box === 'string' ? box.split('.') : [];
    if (parts.length !== 4 || parts[0] !== VERSION) {
      const version = parts.length > 0 && parts[0] ? `"${parts[0].slice(0, 8)}"` : 'none';
      throw new GatewayError(
        'CONFIG_INVALID',
        `stored camera credentials are not a ${VERSION} credential box (expected ${VERSION}.<iv>.<tag>.<ciphertext>, version ${version})`,
        { hint: 'The stored value is damaged or from an unknown version; re-enter the camera credentials.' },
      );
    }
    const [, ivText, tagText, ctText] = parts as [string, string, string, string];
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    const ct = Buffer.from(ctText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new GatewayError('CONFIG_INVALID', 'stored camera credentials are damaged (wrong IV or tag length)', {
        hint: 'Re-enter the camera credentials.',
      });
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(AAD);
      decipher.setAuthTag(tag);
      plain = Buffer.concat([decipher.update(ct), decipher.final()]);
    } catch (err) {
      throw new GatewayError(
        'CONFIG_INVALID',
        'cannot decrypt stored camera credentials: they were sealed with a different key or have been altered (was PSVGW_SECRET_KEY changed?)',
        { hint: KEY_HINT, cause: err },
      );
    }
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
});

function isCredentials(value: unknown): value is CameraCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.username === 'string' && typeof v.password === 'string';
}
