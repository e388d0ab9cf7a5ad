import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Checkpoint } from '../domain/index.js';

/** Where the gateway's Ed25519 key lives under the data directory. */
export function signingKeyPath(dataDir: string): string {
  return join(dataDir, 'keys', 'recording-ed25519.pem');
}

/** What a checkpoint signature covers: camera, chain position, head hash and time. */
export function checkpointMessage(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(`psvgw-checkpoint-v1\n${c.cameraId}\n${c.seq}\n${c.headHash}\n${c.signedAt}`);
}

/** The gateway's Ed25519 key: signs checkpoints of the chain heads so a truncated chain is caught. */
export class ChainSigner {
  private constructor(
    private readonly privateKey: KeyObject | null,
    readonly publicKey: KeyObject,
  ) {}

  /** Loads the key, creating it (mode 0600) on first use. */
  static loadOrCreate(dataDir: string): ChainSigner {
    const path = signingKeyPath(dataDir);
    if (!existsSync(path)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    }
    return ChainSigner.load(dataDir);
  }

  /** Loads an existing key; its absence is an error (a verifier must not make a new one). */
  static load(dataDir: string): ChainSigner {
    const path = signingKeyPath(dataDir);
    let pem: string;
    try {
      pem = readFileSync(path, 'utf8');
    } catch (err) {
      throw new GatewayError('CONFIG_INVALID', `cannot read the recording signing key ${path}`, {
        hint: 'Point --config or PSVGW_DATA_DIR at the data directory of the gateway that made the recordings.',
        cause: err,
      });
    }
    const privateKey = createPrivateKey(pem);
    return new ChainSigner(privateKey, createPublicKey(privateKey));
  }

  /** PEM of the public key, kept in the store so that a swapped key file is noticed. */
  publicPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  sign(c: Omit<Checkpoint, 'signature'>): Checkpoint {
    if (!this.privateKey) throw new Error('this key can only verify');
    return { ...c, signature: sign(null, checkpointMessage(c), this.privateKey).toString('base64') };
  }

  verify(c: Checkpoint): boolean {
    try {
      return verify(null, checkpointMessage(c), this.publicKey, Buffer.from(c.signature, 'base64'));
    } catch {
      return false;
    }
  }
}
