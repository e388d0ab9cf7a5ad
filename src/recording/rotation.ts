import type { KeyRotation } from '../domain/index.js';
import type { Store } from '../store/index.js';
import { registeredKey } from './nodeKeys.js';
import { ChainSigner, signingKeyPath, type KeyLocation } from './signing.js';
import { PUBLIC_KEY_SETTING } from './system.js';
import { rotationStatement } from './trust.js';

/**
 * Replaces the signing key: the old key signs a statement naming the new one, stored with
 * the new public key in one transaction, then the new private key replaces the old file
 * (the retired key is gone, so it can sign nothing more). Verification follows the
 * statement from a pinned old key to the new one. In the registry of the nodes' keys the
 * old key is retired and the new one registered to `node`, so the node starts with it.
 * Run it while the gateway (that node) is stopped.
 */
export async function rotateSigningKey(
  store: Store,
  loc: KeyLocation & { node: string },
  at: string,
): Promise<{ old: string; next: string; rotation: KeyRotation }> {
  const old = ChainSigner.load(loc);
  const next = ChainSigner.generate();
  const rotation = rotationStatement(old, next.publicKey, at);
  await store.transaction(async (tx) => {
    await tx.recordings.addKeyRotation(rotation);
    // The installation key follows a rotation of itself; another node's rotation leaves it.
    const installation = await tx.settings.get(PUBLIC_KEY_SETTING);
    if (installation === undefined || installation === old.publicPem()) await tx.settings.set(PUBLIC_KEY_SETTING, next.publicPem());
    await tx.recordings.retireKey(old.fingerprint, at);
    await tx.recordings.registerKey(registeredKey(loc.node, next, at));
  });
  next.save(signingKeyPath(loc.dataDir, loc.keyFile));
  return { old: old.fingerprint, next: next.fingerprint, rotation };
}
