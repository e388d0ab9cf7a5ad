import type { RequestHandler } from 'express';
import type { Logins } from '../access/index.js';
import { GatewayError } from '../errors.js';
import { SESSION_COOKIE, cookieValue, csrfAllows } from './sessionCookies.js';

/**
 * Every /api/v1 call (but login and refresh) carries `Authorization: Bearer <credential>`:
 * a session token from login, or an API key (PSVGW_ADMIN_TOKEN is the bootstrap admin's).
 * Sets `res.locals.principal` (a Principal) and `res.locals.actor` (its username, for the
 * audit log); what the principal may do is decided elsewhere. The console's session cookie
 * counts as the same session token, with a CSRF check on state-changing calls (sessionCookies.ts).
 */
export function authenticate(logins: Logins): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const cookie = header === '' ? cookieValue(req, SESSION_COOKIE) : undefined;
    if (cookie !== undefined && !csrfAllows(req)) {
      next(
        new GatewayError('FORBIDDEN', 'This call needs the CSRF token of the session cookie in the X-CSRF-Token header.', {
          hint: 'Send the value of the psvgw_csrf cookie as X-CSRF-Token, or use a bearer token.',
        }),
      );
      return;
    }
    const credential = match?.[1] ?? cookie;
    if (!credential) {
      next(
        new GatewayError('UNAUTHORIZED', 'This call needs a bearer token.', {
          hint: 'Send "Authorization: Bearer <token>": a session token from POST /api/v1/auth/login, or an API key.',
        }),
      );
      return;
    }
    logins.authenticate(credential).then(
      (found) => {
        if (found === null) {
          next(
            new GatewayError('UNAUTHORIZED', 'The bearer token is not valid (expired, revoked or not issued by this gateway).', {
              hint: 'Log in again with POST /api/v1/auth/login, or use a current API key.',
            }),
          );
          return;
        }
        res.locals.principal = found.principal;
        res.locals.actor = found.principal.username;
        if (found.sessionId !== undefined) res.locals.sessionId = found.sessionId;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}
