import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { CredentialBox, deriveKey, KEY_PURPOSES } from '../../../src/cameras/credentialBox.js';

const key = deriveKey('correct horse battery staple', KEY_PURPOSES.cameraCredentials);
const creds = { username: 'admin', password: 'p@ss:wörd/#?' };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.code : `not a GatewayError: ${String(err)}`;
  }
  return undefined;
}

describe('CredentialBox', () => {
  it('round-trips credentials', () => {
    const box = new CredentialBox(key);
    const sealed = box.seal(creds);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(box.open(sealed)).toEqual(creds);
  });

  it('never shows the password in the box and uses a fresh IV each time', () => {
    const box = new CredentialBox(key);
    const a = box.seal(creds);
    const b = box.seal(creds);
    expect(a).not.toBe(b);
    expect(a).not.toContain('admin');
    expect(Buffer.from(a.split('.')[3] ?? '', 'base64url').toString('latin1')).not.toContain('wörd');
  });

  it('says the key changed when opened with another key', () => {
    const sealed = new CredentialBox(key).seal(creds);
    const other = new CredentialBox(deriveKey('another secret', KEY_PURPOSES.cameraCredentials));
    expect(() => other.open(sealed)).toThrow(/PSVGW_SECRET_KEY changed/);
    expect(codeOf(() => other.open(sealed))).toBe('CONFIG_INVALID');
  });

  it.each([
    ['ciphertext', 3],
    ['tag', 2],
    ['iv', 1],
  ])('detects a tampered %s', (_what, index) => {
    const box = new CredentialBox(key);
    const parts = box.seal(creds).split('.');
    const bytes = Buffer.from(parts[index] ?? '', 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    parts[index] = bytes.toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow(/different key or have been altered/);
  });

  it.each(['', 'plain text', 'v2.a.b.c', 'v1.a.b', 'v1.AAAA.BBBB.CCCC'])('refuses a malformed box %j', (bad) => {
    expect(codeOf(() => new CredentialBox(key).open(bad))).toBe('CONFIG_INVALID');
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new CredentialBox(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it('keeps its own copy of the key', () => {
    const k = Buffer.from(key);
    const box = new CredentialBox(k);
    const sealed = box.seal(creds);
    k.fill(0);
    expect(box.open(sealed)).toEqual(creds);
  });
});

describe('deriveKey', () => {
  it('gives 32 bytes, stable for the same secret and purpose', () => {
    const a = deriveKey('s3cret', 'camera-credentials');
    expect(a).toHaveLength(32);
    expect(deriveKey('s3cret', 'camera-credentials').equals(a)).toBe(true);
  });

  it('gives separate keys per purpose and per secret', () => {
    const creds = deriveKey('s3cret', KEY_PURPOSES.cameraCredentials);
    const tokens = deriveKey('s3cret', KEY_PURPOSES.playbackToken);
    expect(creds.equals(tokens)).toBe(false);
    expect(deriveKey('s3cret2', KEY_PURPOSES.cameraCredentials).equals(creds)).toBe(false);
  });

  it('refuses an empty secret with SECRET_KEY_MISSING', () => {
    expect(codeOf(() => deriveKey('', 'camera-credentials'))).toBe('SECRET_KEY_MISSING');
    expect(() => deriveKey('x', '')).toThrow(/purpose/);
  });
});
