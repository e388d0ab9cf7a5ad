import { createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyRotation, RegisteredKey } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { type ChainSigner, keyFingerprint, publicKeyBase64, publicKeyFromBase64, verifySignature } from './signing.js';

/** What the old key signs when it hands over to a new one. */
export function rotationMessage(r: Omit<KeyRotation, 'signature'>): Buffer {
  return Buffer.from(`psvgw-key-rotation-v1\n${r.oldPublicKey}\n${r.newPublicKey}\n${r.at}`);
}

/** The statement, signed by `old`, that `next` signs from `at` on. */
export function rotationStatement(old: ChainSigner, next: KeyObject, at: string): KeyRotation {
  const body = { oldPublicKey: publicKeyBase64(old.publicKey), newPublicKey: publicKeyBase64(next), at };
  return { ...body, signature: old.signBytes(rotationMessage(body)) };
}

export interface KeyRing {
  /** Every public key met (data directory, rotations), by fingerprint. */
  keys: Map<string, KeyObject>;
  /** The keys whose signatures count. */
  trusted: Set<string>;
  /** Whether `trusted` grew from pinned fingerprints rather than from the data directory. */
  pinned: boolean;
  /** Fingerprints of the key(s) the data directory itself names (store, key file). */
  dataDirKeys: string[];
  /** Rotation statements whose signature is not the old key's. */
  badRotations: KeyRotation[];
  /** The nodes' registered keys by fingerprint: an entry or checkpoint naming a node is accepted from its key only. */
  registered: Map<string, RegisteredKey>;
}

/**
 * The keys verification trusts. With pins: the pinned keys and every key a trusted key
 * handed over to by a valid rotation statement. Without pins: the data directory's key,
 * the nodes' registered keys and the keys linked to them by valid rotations either way
 * (then nothing is proven against someone who can rewrite the data directory; verify says so).
 */
export function buildKeyRing(opts: {
  dataDirPems: readonly string[];
  rotations: readonly KeyRotation[];
  pins: readonly string[];
  registered?: readonly RegisteredKey[];
}): KeyRing {
  const keys = new Map<string, KeyObject>();
  const add = (k: KeyObject) => {
    const fp = keyFingerprint(k);
    keys.set(fp, k);
    return fp;
  };
  const dataDirKeys = [...new Set(opts.dataDirPems.map((pem) => add(createPublicKey(pem))))];
  const registered = new Map<string, RegisteredKey>();
  for (const r of opts.registered ?? []) {
    // A row whose key does not hash to its fingerprint registers nothing: what names it is reported unregistered.
    let key: KeyObject;
    try {
      key = createPublicKey(r.publicKeyPem);
    } catch {
      continue;
    }
    if (add(key) === r.fingerprint) registered.set(r.fingerprint, r);
  }
  const links: Array<[string, string]> = [];
  const badRotations: KeyRotation[] = [];
  for (const r of opts.rotations) {
    let oldKey: KeyObject;
    let newKey: KeyObject;
    try {
      oldKey = publicKeyFromBase64(r.oldPublicKey);
      newKey = publicKeyFromBase64(r.newPublicKey);
    } catch {
      badRotations.push(r);
      continue;
    }
    const { signature, ...body } = r;
    if (!verifySignature(rotationMessage(body), oldKey, signature)) {
      badRotations.push(r);
      continue;
    }
    links.push([add(oldKey), add(newKey)]);
  }
  const pinned = opts.pins.length > 0;
  const trusted = new Set(pinned ? opts.pins : [...dataDirKeys, ...registered.keys()]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [from, to] of links) {
      for (const [a, b] of pinned
        ? [[from, to]]
        : [
            [from, to],
            [to, from],
          ]) {
        if (a !== undefined && b !== undefined && trusted.has(a) && !trusted.has(b)) {
          trusted.add(b);
          grew = true;
        }
      }
    }
  }
  return { keys, trusted, pinned, dataDirKeys, badRotations, registered };
}

/** A pinned fingerprint must look like one (`SHA256:` and 43 base64 characters). */
export function parseFingerprint(value: string, where: string): string {
  const v = value.trim();
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(v)) {
    throw new GatewayError('CONFIG_INVALID', `${where}: ${JSON.stringify(value)} is not a key fingerprint`, {
      hint: 'A fingerprint is SHA256: and 43 base64 characters, as `psvgw verify` prints it (or the openssl command in the README).',
    });
  }
  return v;
}
