import { Router, type Response } from 'express';
import type { GatewayConfig } from '../config/index.js';
import { buildDossier, DOSSIER_PARTS, dossierSource } from '../dossier/index.js';
import type { Logger } from '../log.js';
import { checkLang, checkTimeZone } from '../reports/index.js';
import type { Store } from '../store/index.js';
import { reportRange } from './healthRoutes.js';
import { permit } from './permit.js';

export interface DossierRoutesDeps {
  config: GatewayConfig;
  /** The resolved data directory (the signing key and recordings live under it). */
  dataDir: string;
  store: Store;
  logger: Logger;
}

/**
 * GET /dossier?from&to[&lang&tz]: the signed compliance dossier of the period as a tar
 * (default the last 30 days); admin and auditor (dossier.read). Built on the request, so a
 * long period takes as long as verifying its recordings; the progress goes to the log.
 */
export function dossierRoutes(deps: DossierRoutesDeps): Router {
  const router = Router();
  router.get('/dossier', permit('dossier.read'), async (req, res) => {
    const text = (name: string) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);
    const { from, to } = reportRange(req.query, new Date());
    const source = await dossierSource(deps.config, deps.dataDir, deps.store, {
      from,
      to,
      lang: checkLang(text('lang') ?? 'bilingual'),
      timeZone: checkTimeZone(text('tz')),
    });
    const bytes = await buildDossier({ ...source, parts: DOSSIER_PARTS, progress: (line) => deps.logger.info({ from, to }, line) });
    await deps.store.audit.append({
      at: new Date().toISOString(),
      actor: actorOf(res),
      action: 'dossier.create',
      cameraId: null,
      outcome: 'ok',
      details: { from: from.toISOString(), to: to.toISOString(), bytes: bytes.length, signer: source.signer.fingerprint },
    });
    const name = `dossier-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.tar`;
    res.status(200).type('application/x-tar').set('Content-Disposition', `attachment; filename="${name}"`).send(bytes);
  });
  return router;
}

function actorOf(res: Response): string {
  return String(res.locals.actor ?? 'unknown');
}
