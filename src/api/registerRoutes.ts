/** GET /api/v1/access-register: the register of a period as JSON, CSV, printable HTML or PDF (register.read: admin, auditor). */
import { Router, type Request } from 'express';
import type { AccessRegister } from '../access/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import { checkLang, checkTimeZone, renderAccessRegister } from '../reports/index.js';
import { reportRange, send } from './healthRoutes.js';
import { permit } from './permit.js';

export interface RegisterRoutesDeps {
  accessRegister: Pick<AccessRegister, 'list'>;
  profile: JurisdictionProfile;
}

const text = (req: Request, key: string): string | undefined => {
  const v = req.query[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

export function registerRoutes(deps: RegisterRoutesDeps): Router {
  const router = Router();
  router.get('/access-register', permit('register.read'), async (req, res) => {
    const now = new Date();
    // from/to as the other reports take them: dates or ISO times with a zone, the last 30 days by default.
    const { from, to } = reportRange(req.query, now);
    const format = text(req, 'format') ?? 'json';
    const opts = { lang: checkLang(text(req, 'lang')), timeZone: checkTimeZone(text(req, 'tz')) };
    const cameraId = text(req, 'cameraId');
    const query = { from: from.toISOString(), to: to.toISOString(), ...(cameraId === undefined ? {} : { cameraId }) };
    const { items, ongoing } = await deps.accessRegister.list(query);
    const report = {
      generatedAt: now.toISOString(),
      ...query,
      cameraId: cameraId ?? null,
      profile: deps.profile.name,
      items,
      ongoing: ongoing.map(({ ongoing: _running, ...entry }) => entry),
    };
    send(res, renderAccessRegister(report, format, opts), format !== 'json');
  });
  return router;
}
