import { Router } from 'express';
import type { CameraRegistry } from '../cameras/index.js';
import { DEMO_SOURCE_URL, type CameraView } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { PipelineManager } from '../pipeline/index.js';
import { permit } from './permit.js';

export interface DemoRoutesDeps {
  mode: 'development' | 'production';
  registry: Pick<CameraRegistry, 'create' | 'list'>;
  pipelines: Pick<PipelineManager, 'demoOutage'>;
}

/** The longest outage on demand: long enough for any alert to fire, short enough to be forgotten. */
export const MAX_DEMO_OUTAGE_SECONDS = 600;
const DEMO_NAME = '演示摄像机 Demo camera';

/**
 * A first look without a camera: POST /demo adds a demo camera (one at most; a second call
 * answers the one there is), POST /demo/outage stops its source for a while. Development
 * mode only: a production gateway's camera list and reports hold real cameras.
 */
export function demoRoutes(deps: DemoRoutesDeps): Router {
  const router = Router();
  const developmentOnly = () => {
    if (deps.mode === 'production')
      throw new GatewayError('FORBIDDEN', 'the demo camera is refused: this gateway runs in production mode', {
        hint: 'Try the demo on a gateway started in development mode (mode: development, the default), e.g. after `npm start` on a workstation.',
      });
  };
  const demoCamera = async (): Promise<CameraView | undefined> =>
    (await deps.registry.list({ limit: Number.MAX_SAFE_INTEGER })).find((c) => c.demo);

  router.post('/demo', permit('demo.write'), async (_req, res) => {
    developmentOnly();
    const existing = await demoCamera();
    if (existing !== undefined) {
      res.status(200).json(existing);
      return;
    }
    const camera = await deps.registry.create(
      { name: DEMO_NAME, siteType: 'road', rtspUrl: DEMO_SOURCE_URL },
      String(res.locals.actor ?? 'unknown'),
      { demo: true },
    );
    res.status(201).location(`/api/v1/cameras/${camera.id}`).json(camera);
  });

  router.post('/demo/outage', permit('demo.write'), async (req, res) => {
    developmentOnly();
    const seconds = (req.body as { seconds?: unknown } | undefined)?.seconds;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DEMO_OUTAGE_SECONDS)
      throw new GatewayError('VALIDATION_FAILED', `"seconds" must be a whole number from 1 to ${MAX_DEMO_OUTAGE_SECONDS}`, {
        hint: 'Send {"seconds": 10} to stop the demo source for 10 seconds.',
      });
    const camera = await demoCamera();
    if (camera === undefined || !deps.pipelines.demoOutage(camera.id, seconds))
      throw new GatewayError('CAMERA_NOT_FOUND', 'no demo camera is running', {
        hint: 'Add one first with `psvgw demo` (POST /api/v1/demo); a disabled demo camera has no source to stop.',
      });
    res.status(202).json({ cameraId: camera.id, seconds, until: new Date(Date.now() + seconds * 1000).toISOString() });
  });
  return router;
}
