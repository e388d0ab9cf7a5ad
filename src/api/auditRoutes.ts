import { Router } from 'express';
import type { GatewayConfig } from '../config/index.js';
import { gatewayKeyRing, verifyAuditLog } from '../recording/index.js';
import type { Store } from '../store/index.js';
import type { AuditVerifyResult } from './contract.js';
import { permit } from './permit.js';

/** What verifying the chain needs: the config (checkpoint interval, pinned keys) and the data directory (the key file). */
export interface AuditVerifyDeps {
  config: GatewayConfig;
  dataDir: string;
  store: Store;
}

/**
 * GET /audit: the audit log, newest first; GET /audit/verify: the chain checked as
 * `psvgw audit verify` checks it. Both for whoever holds audit.read (auditor, admin).
 */
export function auditRoutes(store: Pick<Store, 'audit'>, verify?: AuditVerifyDeps): Router {
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
  if (verify !== undefined) {
    router.get('/audit/verify', permit('audit.read'), async (_req, res) => {
      const { keys } = await gatewayKeyRing(verify.config, verify.dataDir, verify.store, []);
      const report = await verifyAuditLog({
        store: verify.store,
        keys,
        nowMs: Date.now(),
        maxUnsignedMs: 2 * verify.config.recording.checkpointSeconds * 1000,
      });
      const first = report.problems[0];
      const body: AuditVerifyResult = {
        ok: report.ok,
        entries: report.entries,
        pending: report.pending,
        head: report.head,
        checkpoints: report.checkpoints,
        signedSeq: report.signedSeq,
        problems: report.problems.length,
        ...(first === undefined ? {} : { firstBadIndex: first.seq, reason: first.kind, message: first.message }),
      };
      res.json(body);
    });
  }
  return router;
}
