import express, { type Express, type Router } from 'express';
import type { Registry } from 'prom-client';
import type { AccessRegister, AccessRequestService, PublicRequestService } from '../access/index.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { authenticate } from './auth.js';
import { publicAuthRoutes, sessionRoutes, type AuthRoutesDeps } from './authRoutes.js';
import { accessRequestRoutes } from './accessRequestRoutes.js';
import { auditRoutes } from './auditRoutes.js';
import { dossierRoutes, type DossierRoutesDeps } from './dossierRoutes.js';
import { changeRoutes } from './changeRoutes.js';
import { consoleRoutes } from './consoleRoutes.js';
import type { PendingChanges } from '../changes/index.js';
import { cameraRoutes, type CameraRoutesDeps } from './cameraRoutes.js';
import { errorHandler } from './errors.js';
import { exportRelayRoutes, exportRoutes } from './exportRoutes.js';
import { SegmentRelay } from './recordingRelay.js';
import type { ExportService } from '../exports/index.js';
import { onvifRoutes, type OnvifRoutesDeps } from './onvifRoutes.js';
import { healthRoutes, type HealthRoutesDeps } from './healthRoutes.js';
import { permit, usePolicy } from './permit.js';
import type { ReadinessState } from './readiness.js';
import { publicRequestRoutes } from './publicRequestRoutes.js';
import { playbackRoutes, recordingApiRoutes, type RecordingRoutesDeps } from './recordingRoutes.js';
import { userRoutes } from './userRoutes.js';
import { registerRoutes } from './registerRoutes.js';
import { platformRoutes, type PlatformRoutesDeps } from './platformRoutes.js';
import { nodeRoutes, type NodeRoutesDeps } from './nodeRoutes.js';
import { wallRoutes } from './wallRoutes.js';
import { demoRoutes, type DemoRoutesDeps } from './demoRoutes.js';

export interface ApiDeps extends CameraRoutesDeps, HealthRoutesDeps {
  /** Logins, sessions, users and API keys. */
  auth: AuthRoutesDeps;
  metrics: Registry;
  logger: Logger;
  /** Readiness: store open, media server listening, first reconciliation done, not closing. */
  readiness: { state(): ReadinessState };
  /** Further routes under /api/v1/cameras (e.g. /:id/diagnostics), owned by other modules. */
  cameraExtensions?: Router[];
  /** Facts for GET /api/v1/system. */
  systemInfo: () => Record<string, unknown>;
  /** ONVIF discovery and onboarding; absent: those routes answer 404. */
  onvif?: OnvifRoutesDeps;
  /** Recordings, holds, incidents and playback. */
  recordings: RecordingRoutesDeps;
  /** Access requests to footage; absent: those routes answer 404 and no request covers footage. */
  accessRequests?: AccessRequestService;
  /** The compliance dossier; absent: GET /dossier answers 404. */
  dossier?: DossierRoutesDeps;
  /** The access register; absent: GET /access-register answers 404 and nothing is registered. */
  accessRegister?: Pick<AccessRegister, 'list' | 'record'>;
  /** Watermarked, signed exports of recordings; absent: those routes answer 404. */
  exports?: ExportService;
  /** GB/T 28181 upper platforms and their link state; absent: none configured (an empty list). */
  platforms?: PlatformRoutesDeps | undefined;
  /** The cluster's nodes and the cameras each holds; absent: an empty list. */
  nodes?: NodeRoutesDeps | undefined;
  /** Changes that weaken protection, pending a second admin; absent: those routes answer 404. */
  changes?: PendingChanges;
  /** Public requests for footage; absent: those routes answer 404. */
  publicRequests?: PublicRequestService;
  /** The media port the console's WS-FLV tiles connect to (its CSP names it); absent: any WebSocket. */
  mediaHttpPort?: number;
  /** The demo camera (POST /demo); absent: those routes answer 404. */
  demo?: DemoRoutesDeps;
}

/**
 * The HTTP API. Only /healthz, /readyz, /metrics, login and refresh answer without a
 * token; they expose no video and no camera URLs.
 */
export function createApiApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const requests = deps.accessRequests;
  usePolicy(app, { profile: deps.profile, candidates: requests && ((principal) => requests.candidatesFor(principal)) });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const state = deps.readiness.state();
    res.status(state === 'ready' ? 200 : 503).json({ status: state });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });

  app.use('/playback', playbackRoutes(deps.recordings));
  // Cluster mode: segments and export clips other nodes hold are fetched through them (recordingRelay.ts).
  const { cluster } = deps.recordings;
  const relay = cluster === undefined ? undefined : new SegmentRelay(deps.recordings.tokenKey, cluster, deps.recordings.recording.dir);
  if (relay !== undefined && deps.exports !== undefined) app.use('/relay/exports', exportRelayRoutes({ exports: deps.exports, relay }));

  const api = express.Router();
  api.use('/auth', publicAuthRoutes(deps.auth));
  api.use(authenticate(deps.auth.logins));
  api.use(express.json({ limit: '1mb' }));
  api.use('/auth', sessionRoutes(deps.auth));
  api.use(userRoutes(deps.auth));
  api.get('/system', permit('system.read'), (_req, res) => {
    res.json(deps.systemInfo());
  });
  // The diagnostics routes live in the health module; their actions are named here.
  api.use(
    '/cameras/:id/diagnostics',
    permit((req) => (req.method === 'GET' ? 'diagnostics.read' : 'cameras.write')),
  );
  for (const routes of deps.cameraExtensions ?? []) api.use('/cameras', routes);
  api.use(recordingApiRoutes(deps.recordings));
  api.use('/cameras', cameraRoutes(deps));
  if (deps.onvif !== undefined) api.use(onvifRoutes(deps.onvif));
  api.use(healthRoutes(deps));
  if (requests !== undefined) api.use('/access-requests', accessRequestRoutes(requests));
  if (deps.publicRequests !== undefined) api.use('/public-requests', publicRequestRoutes(deps.publicRequests, deps.profile));
  api.use(auditRoutes(deps.store, deps.dossier));
  if (deps.dossier !== undefined) api.use(dossierRoutes(deps.dossier));
  if (deps.accessRegister !== undefined) api.use(registerRoutes({ accessRegister: deps.accessRegister, profile: deps.profile }));
  if (deps.exports !== undefined)
    api.use(
      '/exports',
      exportRoutes({
        exports: deps.exports,
        store: deps.recordings.store,
        profile: deps.profile,
        ...(deps.accessRegister === undefined ? {} : { register: deps.accessRegister }),
        logger: deps.logger,
        ...(relay === undefined ? {} : { relay }),
      }),
    );
  if (deps.changes !== undefined) api.use('/pending-changes', changeRoutes(deps.changes));
  api.use(platformRoutes(deps.platforms));
  api.use(nodeRoutes(deps.nodes));
  if (deps.demo !== undefined) api.use(demoRoutes(deps.demo));
  // The whole store is the recordings' (deps.store is a narrower view).
  api.use('/console/walls', wallRoutes(deps.recordings.store));
  api.use((req, _res, next) => {
    next(new GatewayError('NOT_FOUND', `No API route ${req.method} ${req.baseUrl}${req.path}.`));
  });
  app.use('/api/v1', api);
  // The web console: everything else GET, after the API so /api/v1 keeps precedence.
  app.use(consoleRoutes({ mediaPort: deps.mediaHttpPort }));
  app.use(errorHandler(deps.logger));
  return app;
}
