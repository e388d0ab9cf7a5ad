import { Router } from 'express';
import type { PublicRequestService } from '../access/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import { buildPublicRequestReport, checkLang, checkTimeZone, renderPublicRequestReport } from '../reports/index.js';
import { reportRange, send, text } from './healthRoutes.js';
import { permit, principalOf } from './permit.js';

/**
 * /api/v1/public-requests: intake on an applicant's behalf, police decision, result, and
 * the report of them. The route names the action; the service asks the policy again with
 * the request itself (the decider is not the filer).
 */
export function publicRequestRoutes(requests: PublicRequestService, profile: JurisdictionProfile): Router {
  const router = Router();

  router.post('/', permit('publicRequests.create'), async (req, res) => {
    const request = await requests.file(principalOf(res), req.body);
    res.status(201).location(`/api/v1/public-requests/${request.id}`).json(request);
  });

  router.get('/', permit('publicRequests.read'), async (req, res) => {
    const range = req.query.from === undefined && req.query.to === undefined ? {} : reportRange(req.query, new Date());
    res.json({ items: await requests.list(principalOf(res), range) });
  });

  // Before /:id, which would take "report" for an id.
  router.get('/report', permit('publicRequests.read'), async (req, res) => {
    const now = new Date();
    const { from, to } = reportRange(req.query, now);
    const format = text(req, 'format') ?? 'json';
    const opts = { lang: checkLang(text(req, 'lang')), timeZone: checkTimeZone(text(req, 'tz')) };
    const items = await requests.list(principalOf(res), { from, to });
    const report = buildPublicRequestReport({ from, to, now, profile: profile.name, requests: items });
    send(res, renderPublicRequestReport(report, format, opts), format !== 'json');
  });

  router.get('/:id', permit('publicRequests.read'), async (req, res) => {
    res.json(await requests.get(principalOf(res), String(req.params.id)));
  });

  router.post('/:id/decide', permit('publicRequests.decide'), async (req, res) => {
    res.json(await requests.decide(principalOf(res), String(req.params.id), req.body));
  });

  router.post('/:id/result', permit('publicRequests.result'), async (req, res) => {
    res.json(await requests.recordResult(principalOf(res), String(req.params.id), req.body));
  });

  return router;
}
