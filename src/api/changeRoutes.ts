import { Router } from 'express';
import type { PendingChanges } from '../changes/index.js';
import { PENDING_CHANGE_STATES, type PendingChangeState } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { permit, principalOf } from './permit.js';

/**
 * /api/v1/pending-changes: changes that weaken protection, waiting for a second admin.
 * The route names the action; the service asks the policy again with the change itself (four eyes).
 */
export function changeRoutes(changes: PendingChanges): Router {
  const router = Router();

  router.get('/', permit('changes.read'), async (req, res) => {
    const state = req.query.state;
    if (state !== undefined && !(PENDING_CHANGE_STATES as readonly unknown[]).includes(state)) {
      throw new GatewayError('VALIDATION_FAILED', `Query parameter "state" must be one of ${PENDING_CHANGE_STATES.join(', ')}.`);
    }
    res.json({ items: await changes.list({ state: state as PendingChangeState | undefined }) });
  });

  router.get('/:id', permit('changes.read'), async (req, res) => {
    res.json(await changes.get(String(req.params.id)));
  });

  router.post('/:id/approve', permit('changes.approve'), async (req, res) => {
    res.json(await changes.approve(principalOf(res), String(req.params.id), req.body));
  });

  router.post('/:id/reject', permit('changes.reject'), async (req, res) => {
    res.json(await changes.reject(principalOf(res), String(req.params.id), req.body));
  });

  router.post('/:id/withdraw', permit('changes.withdraw'), async (req, res) => {
    res.json(await changes.withdraw(principalOf(res), String(req.params.id), req.body));
  });

  return router;
}
