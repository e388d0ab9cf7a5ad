/**
 * The registry of the nodes' signing keys (table `signing_keys`, migration 27): each node
 * signs with a key of its own, registered under its name at start. Verify accepts the
 * signature of an entry or checkpoint that names a node only from the key registered to it.
 */
import type { RegisteredKey } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { ChainSigner } from './signing.js';

export type KeyRegistration =
  /** The key is new: a row is added for the node. */
  | { action: 'register' }
  /** The key is already the node's. */
  | { action: 'known' }
  /** One node (SQLite) whose name changed: its key moves to the new name. */
  | { action: 'rename'; from: string }
  | { action: 'refuse'; error: GatewayError };

/**
 * Pure: what a node starting with `fingerprint` does against the registry. A key is one
 * node's, and a node has one key in service: a node whose name is registered with another,
 * unretired key is refused (a swapped or lost key file) until an admin retires the old key
 * (`psvgw keys retire`) or `psvgw keys rotate` replaced it. `singleNode` (SQLite: no other
 * node can share the store) lets a renamed host keep its key.
 */
export function keyRegistration(
  registry: readonly RegisteredKey[],
  node: string,
  fingerprint: string,
  opts: { singleNode: boolean },
): KeyRegistration {
  const mine = registry.find((k) => k.fingerprint === fingerprint);
  if (mine !== undefined && mine.retiredAt !== null) {
    return refuse(
      `the signing key ${fingerprint} of node ${node} was retired at ${mine.retiredAt}; a retired key signs nothing more`,
      'Give the node a new key: remove its key file (keys/recording-ed25519.pem in its data directory; a new one is made at start) or point PSVGW_SIGNING_KEY_FILE at a new key.',
    );
  }
  if (mine !== undefined && mine.node !== node && !opts.singleNode) {
    return refuse(
      `the signing key ${fingerprint} is registered to node ${mine.node}, not to ${node}: each node signs with a key of its own`,
      'Unset PSVGW_SIGNING_KEY_FILE on this node (it then makes its own key in its data directory) or point it at a key no other node uses.',
    );
  }
  const other = registry.find((k) => k.node === node && k.retiredAt === null && k.fingerprint !== fingerprint);
  if (other !== undefined) {
    return refuse(
      `node ${node} is registered with the signing key ${other.fingerprint}, but its key is ${fingerprint}: a node's key does not change by itself (a swapped or lost key file?)`,
      `If the key was replaced on purpose, retire the old one with \`psvgw keys retire ${other.fingerprint}\` (an admin, the node stopped) and start the node again; \`psvgw keys rotate\` replaces a key and registers the new one in one step.`,
    );
  }
  if (mine === undefined) return { action: 'register' };
  return mine.node === node ? { action: 'known' } : { action: 'rename', from: mine.node };
}

function refuse(message: string, hint: string): KeyRegistration {
  return { action: 'refuse', error: new GatewayError('CONFIG_INVALID', message, { hint }) };
}

/** Registers the node's key at start, in one transaction; throws the refusal of `keyRegistration`. */
export async function registerNodeKey(
  store: Store,
  node: string,
  signer: ChainSigner,
  opts: { singleNode: boolean; at: string },
): Promise<KeyRegistration['action']> {
  return store.transaction(async (tx) => {
    const decision = keyRegistration(await tx.recordings.signingKeys(), node, signer.fingerprint, opts);
    if (decision.action === 'refuse') throw decision.error;
    if (decision.action === 'register') await tx.recordings.registerKey(registeredKey(node, signer, opts.at));
    if (decision.action === 'rename') await tx.recordings.renameKeyNode(signer.fingerprint, node);
    return decision.action;
  });
}

export function registeredKey(node: string, signer: ChainSigner, at: string): RegisteredKey {
  return { fingerprint: signer.fingerprint, node, publicKeyPem: signer.publicPem(), createdAt: at, retiredAt: null };
}
