import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Checkpoint } from '../domain/index.js';

/** The `prevHash` of a camera's first chained (v2) checkpoint. */
export const GENESIS_CHECKPOINT = '0'.repeat(64);

/** Where the gateway's Ed25519 key lives: `keyFile` (PSVGW_SIGNING_KEY_FILE) when set, else under the data directory. */
export function signingKeyPath(dataDir: string, keyFile?: string): string {
  return keyFile ?? join(dataDir, 'keys', 'recording-ed25519.pem');
}

/**
 * `SHA256:` and the unpadded base64 of the SHA-256 of the public key's SPKI DER, as ssh
 * prints fingerprints. Reproduce with
 * `openssl pkey -in KEY.pem -pubout -outform DER | openssl dgst -sha256 -binary | base64 | tr -d =`.
 */
export function keyFingerprint(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

/** A public key from its SPKI DER in base64 (as rotation statements and witnesses carry it). */
export function publicKeyFromBase64(spki: string): KeyObject {
  return createPublicKey({ key: Buffer.from(spki, 'base64'), format: 'der', type: 'spki' });
}

export function publicKeyBase64(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * What a checkpoint signature covers. v1 (older data): camera, chain position, head hash
 * and time. v2 also the hash of the camera's previous checkpoint and the signing key's
 * fingerprint, so checkpoints form a chain of their own: one deleted from the middle breaks it.
 */
export function checkpointMessage(c: Omit<Checkpoint, 'signature'>): Buffer {
  const v1 = `${c.cameraId}\n${c.seq}\n${c.headHash}\n${c.signedAt}`;
  if (c.version === 1) return Buffer.from(`psvgw-checkpoint-v1\n${v1}`);
  return Buffer.from(`psvgw-checkpoint-v2\n${v1}\n${c.prevHash ?? ''}\n${c.keyFingerprint ?? ''}`);
}

/** The link the next checkpoint commits to: SHA-256 (hex) of the signed message. */
export function checkpointHash(c: Omit<Checkpoint, 'signature'>): string {
  return createHash('sha256').update(checkpointMessage(c)).digest('hex');
}

/** Checks an Ed25519 signature without throwing on malformed input. */
export function verifySignature(message: Buffer, publicKey: KeyObject, signature: string): boolean {
  try {
    return verify(null, message, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export interface KeyLocation {
  dataDir: string;
  /** PSVGW_SIGNING_KEY_FILE: the PEM off the data volume. */
  keyFile?: string | undefined;
  /** In production a configured key file must exist: the gateway never makes one there itself. */
  production?: boolean;
}

/** The gateway's Ed25519 key: signs checkpoints of the chain heads so a truncated or rewritten chain is caught. */
export class ChainSigner {
  readonly fingerprint: string;

  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
    /** Whether this start made the key. */
    readonly created: boolean,
  ) {
    this.fingerprint = keyFingerprint(publicKey);
  }

  /** Loads the key, creating it (mode 0600) on first use. */
  static loadOrCreate(where: string | KeyLocation): ChainSigner {
    const loc = typeof where === 'string' ? { dataDir: where } : where;
    const path = signingKeyPath(loc.dataDir, loc.keyFile);
    if (existsSync(path)) return ChainSigner.load(loc);
    if (loc.keyFile !== undefined && loc.production === true) {
      throw new GatewayError('CONFIG_INVALID', `PSVGW_SIGNING_KEY_FILE names ${path}, which does not exist`, {
        hint: 'Create the key once with `openssl genpkey -algorithm ed25519 -out KEY.pem` (readable only by the gateway user), or unset PSVGW_SIGNING_KEY_FILE.',
      });
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    return new ChainSigner(privateKey, createPublicKey(privateKey), true);
  }

  /** Loads an existing key; its absence is an error (a verifier must not make a new one). */
  static load(where: string | KeyLocation): ChainSigner {
    const loc = typeof where === 'string' ? { dataDir: where } : where;
    const path = signingKeyPath(loc.dataDir, loc.keyFile);
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      throw new GatewayError('CONFIG_INVALID', `cannot read the recording signing key ${path}`, {
        hint: 'Point --config or PSVGW_DATA_DIR at the data directory of the gateway that made the recordings (and PSVGW_SIGNING_KEY_FILE at its key, if it is kept elsewhere).',
        cause: err,
      });
    }
    const privateKey = createPrivateKey(pem);
    return new ChainSigner(privateKey, createPublicKey(privateKey), false);
  }

  /** A fresh key in memory (key rotation); `save` writes it. */
  static generate(): ChainSigner {
    const { privateKey } = generateKeyPairSync('ed25519');
    return new ChainSigner(privateKey, createPublicKey(privateKey), true);
  }

  /** Writes the private key to `path` (mode 0600), replacing what is there in one rename. */
  save(path: string): void {
    const tmp = `${path}.new`;
    writeFileSync(tmp, this.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    renameSync(tmp, path);
  }

  /** PEM of the public key, kept in the store so that a swapped key file is noticed. */
  publicPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Signs a v2 checkpoint chained to `prevHash`. */
  sign(c: Omit<Checkpoint, 'signature' | 'version' | 'keyFingerprint' | 'node'>): Checkpoint {
    const body: Omit<Checkpoint, 'signature'> = { ...c, version: 2, keyFingerprint: this.fingerprint };
    return { ...body, signature: this.signBytes(checkpointMessage(body)) };
  }

  signBytes(message: Buffer): string {
    return sign(null, message, this.privateKey).toString('base64');
  }

  verify(c: Checkpoint): boolean {
    return verifySignature(checkpointMessage(c), this.publicKey, c.signature);
  }
}
