import { getProfile, type GatewayConfig } from '../config/index.js';
import { ChainSigner, gatewayKeyRing, recordingsDir } from '../recording/index.js';
import type { ReportLang } from '../reports/index.js';
import type { Store } from '../store/index.js';
import { VERSION } from '../version.js';
import type { DossierIdentity } from './manifest.js';
import type { DossierContext } from './parts.js';

export interface DossierRequest {
  from: Date;
  to: Date;
  /** Fingerprints the verifications trust besides recording.trustedKeys. */
  pins?: readonly string[];
  lang?: ReportLang;
  timeZone?: string;
}

/**
 * Everything a dossier is built from, for the CLI (store opened from the config) and the
 * API (the running gateway's store) alike. The signing key must exist: a dossier is never
 * signed with a key made for it.
 */
export async function dossierSource(
  config: GatewayConfig,
  dataDir: string,
  store: Store,
  req: DossierRequest,
): Promise<{ ctx: DossierContext; signer: ChainSigner; identity: DossierIdentity }> {
  const signer = ChainSigner.load({ dataDir, keyFile: config.recording.signingKeyFile });
  const { keys, expectedPublicPem, fileKey } = await gatewayKeyRing(config, dataDir, store, req.pins ?? []);
  const ctx: DossierContext = {
    store,
    profile: getProfile(config.profile),
    from: req.from,
    to: req.to,
    now: new Date(),
    lang: req.lang ?? 'bilingual',
    timeZone: req.timeZone ?? 'Asia/Shanghai',
    recordingsDir: recordingsDir({ ...config, dataDir }),
    keys,
    keyFilePublicPem: fileKey,
    expectedPublicPem,
    checkpointIntervalMs: config.recording.checkpointSeconds * 1000,
  };
  const identity = { name: config.gateway.name, regionCode: config.gateway.regionCode, profile: config.profile, version: VERSION };
  return { ctx, signer, identity };
}
