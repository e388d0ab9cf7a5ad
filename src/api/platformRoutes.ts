/**
 * GET /api/v1/platforms and /:id: the GB/T 28181 upper platforms and the state of each link
 * (registered, keepalive misses, last error), never a password (platforms.read: admin,
 * maintainer, auditor). Platforms come from the config file for now; POST is not built yet.
 */
import { Router } from 'express';
import { GatewayError } from '../errors.js';
import { permit } from './permit.js';

export interface PlatformRoutesDeps {
  list(): object[];
  get(id: string): object | undefined;
}

export function platformRoutes(deps: PlatformRoutesDeps | undefined): Router {
  const router = Router();
  router.get('/platforms', permit('platforms.read'), (_req, res) => {
    res.json({ items: deps?.list() ?? [] });
  });
  router.get('/platforms/:id', permit('platforms.read'), (req, res) => {
    const found = deps?.get(String(req.params.id));
    if (found === undefined)
      throw new GatewayError('NOT_FOUND', `no platform ${String(req.params.id)}`, {
        hint: 'List them with GET /api/v1/platforms; platforms are configured under gb28181.platforms in the config file.',
      });
    res.json(found);
  });
  return router;
}
