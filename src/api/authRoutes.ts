import express, { Router, type Request } from 'express';
import type { Logins, UserAccounts } from '../access/index.js';
import { userView } from '../access/index.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { permit, principalOf } from './permit.js';
import { REFRESH_COOKIE, clearSessionCookies, cookieGrantBody, cookieValue, csrfAllows, setSessionCookies } from './sessionCookies.js';

export interface AuthRoutesDeps {
  logins: Logins;
  accounts: UserAccounts;
}

/** The caller's address as the socket sees it (the API trusts no proxy header). */
export function sourceAddress(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** A login asking `"session": "cookie"` (the console) gets its tokens in HttpOnly cookies, not in the body. */
function wantsCookie(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { session?: unknown }).session === 'cookie';
}

/** Login and refresh: the two calls made without a bearer token. */
export function publicAuthRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();
  router.use(express.json({ limit: '16kb' }));
  router.post('/login', async (req, res) => {
    try {
      const grant = await deps.logins.login(req.body, sourceAddress(req));
      if (!wantsCookie(req.body)) {
        res.json(grant);
        return;
      }
      setSessionCookies(req, res, grant);
      res.json(cookieGrantBody(grant));
    } catch (err) {
      // A locked login says when it may be tried again.
      const wait = isGatewayError(err) ? (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds : undefined;
      if (wait !== undefined) res.setHeader('Retry-After', String(wait));
      throw err;
    }
  });
  router.post('/refresh', async (req, res) => {
    const fromCookie = cookieValue(req, REFRESH_COOKIE);
    const bodyToken = (req.body as { refreshToken?: unknown } | undefined)?.refreshToken;
    if (bodyToken !== undefined || fromCookie === undefined) {
      res.json(await deps.logins.refresh(req.body, sourceAddress(req)));
      return;
    }
    if (!csrfAllows(req)) throw new GatewayError('FORBIDDEN', 'A refresh by cookie needs the X-CSRF-Token header.');
    const grant = await deps.logins.refresh({ refreshToken: fromCookie }, sourceAddress(req));
    setSessionCookies(req, res, grant);
    res.json(cookieGrantBody(grant));
  });
  return router;
}

/** Logout and "who am I", for an authenticated caller. */
export function sessionRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();
  router.post('/logout', permit('session.own'), async (req, res) => {
    await deps.logins.logout(res.locals.sessionId as string | undefined, principalOf(res), sourceAddress(req));
    clearSessionCookies(req, res);
    res.status(204).end();
  });
  router.get('/me', permit('session.own'), async (_req, res) => {
    const principal = principalOf(res);
    const user = await deps.accounts.get(principal.username);
    res.json({
      ...userView(user),
      kind: principal.kind,
      roles: principal.roles,
      ...(principal.apiKeyId ? { apiKeyId: principal.apiKeyId } : {}),
    });
  });
  return router;
}
