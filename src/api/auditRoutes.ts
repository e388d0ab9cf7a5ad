import { Router } from 'express';
import type { Store } from '../store/index.js';
import { permit } from './permit.js';

/** GET /audit: the audit log, newest first, for whoever holds audit.read (auditor, admin). */
export function auditRoutes(store: Pick<Store, 'audit'>): Router {
  const router = Router();
  router.get('/audit', permit('audit.read'), async (req, res) => {
    const text = (name: string) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);
    const limit = Number(text('limit') ?? 200);
    const cameraId = text('cameraId');
    const action = text('action');
    const items = await store.audit.list({
      limit: Number.isSafeInteger(limit) && limit > 0 ? Math.min(limit, 10_000) : 200,
      ...(cameraId === undefined ? {} : { cameraId }),
      ...(action === undefined ? {} : { action }),
    });
    res.json({ items });
  });
  return router;
}
