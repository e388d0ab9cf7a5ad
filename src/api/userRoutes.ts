import { Router, type Request } from 'express';
import { userView } from '../access/index.js';
import type { AuthRoutesDeps } from './authRoutes.js';
import { decideFor, permit, principalOf } from './permit.js';

/** Users (users.manage) and API keys (apiKeys.manage: one's own, or anyone's with users.manage). */
export function userRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();
  const actor = (res: { locals: Record<string, unknown> }) => String(res.locals.actor);

  router.post('/users', permit('users.manage'), async (req, res) => {
    res.status(201).json(userView(await deps.accounts.create(req.body, actor(res))));
  });
  router.get('/users', permit('users.manage'), async (_req, res) => {
    res.json({ items: (await deps.accounts.list()).map(userView) });
  });
  router.get('/users/:username', permit('users.manage'), async (req, res) => {
    res.json(userView(await deps.accounts.get(String(req.params.username))));
  });
  router.patch('/users/:username', permit('users.manage'), async (req, res) => {
    res.json(userView(await deps.accounts.update(String(req.params.username), req.body, actor(res))));
  });

  const queriedUser = (req: Request) => (typeof req.query.username === 'string' ? req.query.username : undefined);

  router.post(
    '/api-keys',
    permit('apiKeys.manage', (req) => ({ keyOwner: (req.body as { username?: string } | undefined)?.username })),
    async (req, res) => {
      const { key, secret } = await deps.accounts.createApiKey(req.body, principalOf(res));
      res.status(201).json({ ...key, key: secret, note: 'The key is shown only now; store it safely.' });
    },
  );
  // Without ?username: whoever may manage users sees every key, anyone else their own.
  router.get(
    '/api-keys',
    permit('apiKeys.manage', (req) => ({ keyOwner: queriedUser(req) })),
    async (req, res) => {
      const everyone = (await decideFor(req, res, 'users.manage')).allowed;
      const username = queriedUser(req) ?? (everyone ? undefined : principalOf(res).username);
      res.json({ items: await deps.accounts.listApiKeys(username) });
    },
  );
  router.delete(
    '/api-keys/:id',
    permit('apiKeys.manage', async (req) => ({ keyOwner: await deps.accounts.apiKeyOwner(String(req.params.id)) })),
    async (req, res) => {
      await deps.accounts.revokeApiKey(String(req.params.id), actor(res));
      res.status(204).end();
    },
  );
  return router;
}
