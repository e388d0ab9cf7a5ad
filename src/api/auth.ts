import type { RequestHandler } from 'express';
import { GatewayError } from '../errors.js';
import type { AdminTokenVerifier } from '../access/index.js';
import type { Principal } from '../domain/index.js';

/** Every /api/v1 call carries `Authorization: Bearer <token>`. */
export function requireBearer(verifier: AdminTokenVerifier): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      next(
        new GatewayError('UNAUTHORIZED', 'This call needs a bearer token.', {
          hint: 'Send "Authorization: Bearer <token>" (the admin token is PSVGW_ADMIN_TOKEN or the one printed at first start).',
        }),
      );
      return;
    }
    if (!verifier.verify(match[1])) {
      next(new GatewayError('UNAUTHORIZED', 'The bearer token is not valid.'));
      return;
    }
    res.locals.actor = 'admin'; // one administrator until users and roles exist
    res.locals.principal = { kind: 'apiKey', userId: 'admin', username: 'admin', roles: ['admin'] } satisfies Principal;
    next();
  };
}
