import type { ErrorRequestHandler } from 'express';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Logger } from '../log.js';

/** Turns any error into a JSON body `{error:{code,message,hint}}` with the right status. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    void _next;
    const known = isGatewayError(err) ? err : fromHttpError(err);
    if (known) {
      res.status(known.httpStatus).json({ error: known.toJSON() });
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'request failed');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Internal error; the gateway log has the details.' } });
  };
}

/** body-parser's errors (bad JSON, too large) are the client's fault: say so plainly. */
function fromHttpError(err: unknown): GatewayError | null {
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed') {
    return new GatewayError('VALIDATION_FAILED', `The request body is not valid JSON: ${e.message ?? ''}`, {
      hint: 'Send a JSON object with Content-Type: application/json.',
    });
  }
  if (e?.type === 'entity.too.large') {
    return new GatewayError('VALIDATION_FAILED', 'The request body is too large.');
  }
  return null;
}
