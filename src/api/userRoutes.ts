import { Router, type Request, type RequestHandler } from 'express';
import { userView } from '../access/index.js';
import { isAdmin, principalOf, requireAdmin } from './auth.js';
import type { AuthRoutesDeps } from './authRoutes.js';

/** Users (admin only) and API keys (one's own, or anyone's for an admin). */
export function userRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();
  const actor = (res: { locals: Record<string, unknown> }) => String(res.locals.actor);

  router.post('/users', requireAdmin, async (req, res) => {
    res.status(201).json(userView(await deps.accounts.create(req.body, actor(res))));
  });
  router.get('/users', requireAdmin, async (_req, res) => {
    res.json({ items: (await deps.accounts.list()).map(userView) });
  });
  router.get('/users/:username', requireAdmin, async (req, res) => {
    res.json(userView(await deps.accounts.get(String(req.params.username))));
  });
  router.patch('/users/:username', requireAdmin, async (req, res) => {
    res.json(userView(await deps.accounts.update(String(req.params.username), req.body, actor(res))));
  });

  // A key of someone else (made, listed or revoked) is user management; one's own is not.
  const adminForOthers =
    (ownerOf: (req: Request) => Promise<string | undefined> | string | undefined): RequestHandler =>
    async (req, res, next) => {
      const owner = await ownerOf(req);
      if (owner !== undefined && owner !== principalOf(res).username) requireAdmin(req, res, next);
      else next();
    };
  const queriedUser = (req: Request) => (typeof req.query.username === 'string' ? req.query.username : undefined);

  router.post(
    '/api-keys',
    adminForOthers((req) => (req.body as { username?: string } | undefined)?.username),
    async (req, res) => {
      const { key, secret } = await deps.accounts.createApiKey(req.body, principalOf(res));
      res.status(201).json({ ...key, key: secret, note: 'The key is shown only now; store it safely.' });
    },
  );
  // Without ?username: an admin sees every key, anyone else their own.
  router.get('/api-keys', adminForOthers(queriedUser), async (req, res) => {
    const principal = principalOf(res);
    const username = queriedUser(req) ?? (isAdmin(principal) ? undefined : principal.username);
    res.json({ items: await deps.accounts.listApiKeys(username) });
  });
  router.delete(
    '/api-keys/:id',
    adminForOthers((req) => deps.accounts.apiKeyOwner(String(req.params.id))),
    async (req, res) => {
      await deps.accounts.revokeApiKey(String(req.params.id), actor(res));
      res.status(204).end();
    },
  );
  return router;
}
