/**
 * /api/v1/nodes: the nodes of the cluster and the cameras each holds (system.read); an
 * admin cordons a node (no new cameras), drains it (its cameras move one by one) or
 * uncordons it (nodes.write). A single gateway (SQLite) lists itself with every camera.
 */
import { Router } from 'express';
import { GatewayError } from '../errors.js';
import { permit } from './permit.js';

export type NodeAction = 'cordon' | 'drain' | 'uncordon';

export interface NodeRoutesDeps {
  list(): Promise<object[]>;
  /** False when there is no such node; absent: not in cluster mode. */
  set?(name: string, action: NodeAction): Promise<boolean>;
  /** Which node runs a camera now (cluster mode); absent: every camera runs here. */
  placeOf?(cameraId: string): Promise<CameraPlace>;
}

/** Where a camera runs, as the leases have it (src/cluster's CameraPlace). */
export type CameraPlace =
  { node: string; here: boolean; mediaUrl: string | null } | { node: null; lastNode: string | null; lastNodeAlive: boolean };

const ACTIONS: readonly NodeAction[] = ['cordon', 'drain', 'uncordon'];

export function nodeRoutes(deps: NodeRoutesDeps | undefined): Router {
  const router = Router();
  router.get('/nodes', permit('system.read'), async (_req, res) => {
    res.json({ items: (await deps?.list()) ?? [] });
  });
  router.post('/nodes/:name/:action', permit('nodes.write'), async (req, res) => {
    const name = String(req.params.name);
    const action = String(req.params.action) as NodeAction;
    if (!ACTIONS.includes(action)) {
      throw new GatewayError('VALIDATION_FAILED', `unknown node action "${action}"`, {
        hint: `Use one of ${ACTIONS.join(', ')}: POST /api/v1/nodes/NAME/drain`,
      });
    }
    if (deps?.set === undefined) {
      throw new GatewayError('VALIDATION_FAILED', 'this gateway is not in cluster mode: there is no node to cordon or drain', {
        hint: 'Cluster mode needs store.driver postgres shared by the nodes.',
      });
    }
    if (!(await deps.set(name, action))) {
      throw new GatewayError('NOT_FOUND', `no node ${name}`, { hint: 'List the nodes with GET /api/v1/nodes (psvgw node list).' });
    }
    const node = ((await deps.list()) as Array<{ name: string }>).find((n) => n.name === name);
    res.json(node ?? { name });
  });
  return router;
}
