import type { RequestHandler } from 'express';
import type { Logins } from '../access/index.js';
import { GatewayError } from '../errors.js';

/**
 * Every /api/v1 call (but login and refresh) carries `Authorization: Bearer <credential>`:
 * a session token from login, or an API key (PSVGW_ADMIN_TOKEN is the bootstrap admin's).
 * Sets `res.locals.principal` (a Principal) and `res.locals.actor` (its username, for the
 * audit log); what the principal may do is decided elsewhere.
 */
export function authenticate(logins: Logins): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      next(
        new GatewayError('UNAUTHORIZED', 'This call needs a bearer token.', {
          hint: 'Send "Authorization: Bearer <token>": a session token from POST /api/v1/auth/login, or an API key.',
        }),
      );
      return;
    }
    logins.authenticate(match[1]).then(
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
