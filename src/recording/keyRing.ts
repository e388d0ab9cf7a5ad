import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { GatewayConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import { signingKeyPath } from './signing.js';
import { PUBLIC_KEY_SETTING } from './system.js';
import { buildKeyRing, type KeyRing } from './trust.js';

/** The keys whose checkpoint signatures count: the data directory's (store, key file), the nodes' registered keys, rotations, pins. */
export async function gatewayKeyRing(
  config: GatewayConfig,
  dataDir: string,
  store: Store,
  pins: readonly string[],
): Promise<{ keys: KeyRing; expectedPublicPem: string | undefined; fileKey: string | undefined }> {
  const expectedPublicPem = await store.settings.get(PUBLIC_KEY_SETTING);
  const fileKey = keyFilePublicPem(signingKeyPath(dataDir, config.recording.signingKeyFile));
  const keys = buildKeyRing({
    dataDirPems: [expectedPublicPem, fileKey].filter((p) => p !== undefined),
    rotations: await store.recordings.keyRotations(),
    pins: [...config.recording.trustedKeys, ...pins],
    registered: await store.recordings.signingKeys(),
  });
  return { keys, expectedPublicPem, fileKey };
}

/** The public half of the key file, when this machine can read it (it may be kept elsewhere). */
function keyFilePublicPem(path: string): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
}
