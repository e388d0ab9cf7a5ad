import { Router } from 'express';
import { parseCameraInput, type CameraRegistry } from '../../cameras/index.js';
import { DiagnosticsThresholdsSection } from '../../config/index.js';
import { GatewayError } from '../../errors.js';
import type { IncidentBoard } from '../incidents.js';
import { IMAGE_CHECKS, type ImageThresholds } from './checks.js';
import type { ClockWatch } from './clock.js';
import type { CameraDiagnostics, Diagnostics } from './diagnostics.js';

export interface DiagnosticsRoutesDeps {
  registry: Pick<CameraRegistry, 'get'>;
  diagnostics: Diagnostics;
  incidents: IncidentBoard;
  clock: ClockWatch;
}

const WATCHED_KINDS: ReadonlySet<string> = new Set([...IMAGE_CHECKS, 'clock_drift']);

/** `/api/v1/cameras/:id/diagnostics…`: the image and clock checks of one camera. */
export function diagnosticsRoutes(deps: DiagnosticsRoutesDeps): Router {
  const router = Router();
  const view = (cameraId: string, state: CameraDiagnostics | null) => ({
    cameraId,
    /** null while the camera is not being sampled (disabled, not yet live, diagnostics off). */
    state,
    clock: deps.clock.readings().get(cameraId) ?? null,
    incidents: deps.incidents.active({ cameraId }).filter((i) => WATCHED_KINDS.has(i.kind)),
  });

  router.get('/:id/diagnostics', async (req, res) => {
    const camera = await deps.registry.get(req.params.id);
    res.json(view(camera.id, deps.diagnostics.state(camera.id)));
  });

  router.post('/:id/diagnostics/reference', async (req, res) => {
    const camera = await deps.registry.get(req.params.id);
    const state = await deps.diagnostics.relearn(camera.id);
    if (!state) throw notSampled(camera.id);
    res.status(202).json(view(camera.id, state));
  });

  router.put('/:id/diagnostics/thresholds', async (req, res) => {
    const camera = await deps.registry.get(req.params.id);
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new GatewayError('VALIDATION_FAILED', 'the thresholds must be a JSON object', {
        hint: `Send e.g. {"sceneMinSimilarity": 0.4}; {} restores the configured defaults.`,
      });
    const parsed = parseCameraInput(DiagnosticsThresholdsSection, body, 'diagnostics thresholds');
    // Only the limits the request names become overrides; the rest follow the config.
    const overrides = Object.fromEntries(Object.keys(body).map((k) => [k, parsed[k as keyof ImageThresholds]])) as Partial<ImageThresholds>;
    await deps.diagnostics.setThresholds(camera.id, overrides);
    res.json(view(camera.id, deps.diagnostics.state(camera.id)));
  });

  return router;
}

function notSampled(cameraId: string): GatewayError {
  return new GatewayError('STREAM_DARK', `camera ${cameraId} is not being sampled, so no reference view can be taken`, {
    hint: 'Take the reference once the camera is live (GET /api/v1/cameras/:id/status) and diagnostics are enabled.',
  });
}
