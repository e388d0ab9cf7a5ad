/**
 * /api/v1/platforms: the GB/T 28181 upper platforms and the state of each link (registered,
 * keepalive misses, sessions, last error), never a password (platforms.read: admin,
 * maintainer, auditor). An admin adds one (POST: it waits for a second admin's approval,
 * 202 with the pending change), narrows its cameras or changes its keepalive (PATCH), or
 * removes one (DELETE: unregistered at once), platforms.write.
 */
import { Router } from 'express';
import type { PendingChange, Principal } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { permit, principalOf } from './permit.js';

export interface PlatformRoutesDeps {
  list(): object[] | Promise<object[]>;
  get(id: string): object | undefined | Promise<object | undefined>;
  add?(principal: Principal, body: unknown): Promise<{ platform: object; change: PendingChange }>;
  update?(principal: Principal, id: string, body: unknown): Promise<object>;
  remove?(principal: Principal, id: string): Promise<void>;
}

const notFound = (id: string) =>
  new GatewayError('NOT_FOUND', `no platform ${id}`, {
    hint: 'List them with GET /api/v1/platforms; add one with POST /api/v1/platforms or under gb28181.platforms in the config file.',
  });

export function platformRoutes(deps: PlatformRoutesDeps | undefined): Router {
  const router = Router();
  router.get('/platforms', permit('platforms.read'), async (_req, res) => {
    res.json({ items: (await deps?.list()) ?? [] });
  });
  router.get('/platforms/:id', permit('platforms.read'), async (req, res) => {
    const found = await deps?.get(String(req.params.id));
    if (found === undefined) throw notFound(String(req.params.id));
    res.json(found);
  });
  router.post('/platforms', permit('platforms.write'), async (req, res) => {
    if (deps?.add === undefined) throw new GatewayError('FORBIDDEN', 'platforms cannot be added on this gateway');
    const { platform, change } = await deps.add(principalOf(res), req.body);
    // Accepted, not yet linked: a second admin approves the pending change first.
    res.status(202).json({ ...platform, pendingChange: change });
  });
  router.patch('/platforms/:id', permit('platforms.write'), async (req, res) => {
    if (deps?.update === undefined) throw notFound(String(req.params.id));
    res.json(await deps.update(principalOf(res), String(req.params.id), req.body));
  });
  router.delete('/platforms/:id', permit('platforms.write'), async (req, res) => {
    if (deps?.remove === undefined) throw notFound(String(req.params.id));
    await deps.remove(principalOf(res), String(req.params.id));
    res.status(204).end();
  });
  return router;
}
