import { Router } from 'express';
import type { AccessRequestService } from '../access/index.js';
import { ACCESS_REQUEST_KINDS, ACCESS_REQUEST_STATES, type AccessRequestKind, type AccessRequestState } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { permit, principalOf } from './permit.js';

/**
 * /api/v1/access-requests: file, read, approve, reject, revoke. The route names the action;
 * the service asks the policy again with the request itself (four eyes).
 */
export function accessRequestRoutes(requests: AccessRequestService): Router {
  const router = Router();

  router.post('/', permit('requests.create'), async (req, res) => {
    const request = await requests.file(principalOf(res), req.body);
    res.status(201).location(`/api/v1/access-requests/${request.id}`).json(request);
  });

  router.get('/', permit('requests.read'), async (req, res) => {
    const state = req.query.state;
    if (state !== undefined && !(ACCESS_REQUEST_STATES as readonly unknown[]).includes(state)) {
      throw new GatewayError('VALIDATION_FAILED', `Query parameter "state" must be one of ${ACCESS_REQUEST_STATES.join(', ')}.`);
    }
    const items = await requests.list(principalOf(res), { state: state as AccessRequestState | undefined });
    res.json({ items });
  });

  // Before /:id: what filing a request of ?kind= asks of the caller under the profile.
  router.get('/requirements', permit('requests.create'), (req, res) => {
    const kind = req.query.kind;
    if (!(ACCESS_REQUEST_KINDS as readonly unknown[]).includes(kind)) {
      throw new GatewayError('VALIDATION_FAILED', `Query parameter "kind" must be one of ${ACCESS_REQUEST_KINDS.join(', ')}.`);
    }
    res.json(requests.requirements(principalOf(res), kind as AccessRequestKind));
  });

  router.get('/:id', permit('requests.read'), async (req, res) => {
    res.json(await requests.get(principalOf(res), String(req.params.id)));
  });

  router.post('/:id/approve', permit('requests.approve'), async (req, res) => {
    res.json(await requests.approve(principalOf(res), String(req.params.id), req.body));
  });

  router.post('/:id/reject', permit('requests.reject'), async (req, res) => {
    res.json(await requests.reject(principalOf(res), String(req.params.id), req.body));
  });

  router.post('/:id/revoke', permit('requests.revoke'), async (req, res) => {
    res.json(await requests.revoke(principalOf(res), String(req.params.id), req.body));
  });

  return router;
}
