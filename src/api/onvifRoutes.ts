import { Router } from 'express';
import { z } from 'zod';
import { redactedView } from '../cameras/index.js';
import { GatewayError } from '../errors.js';
import { permit } from './permit.js';
import type { OnvifDiscovery, OnvifOnboarding, DiscoveryRequest } from '../onvif/index.js';
import type { OnvifDeviceRepository } from '../store/index.js';

export interface OnvifRoutesDeps {
  discovery: OnvifDiscovery;
  onboarding: OnvifOnboarding;
  devices: OnvifDeviceRepository;
}

const discoveryBody = z.strictObject({
  timeoutSeconds: z.number().min(0.5).max(60).optional(),
  interface: z.string().trim().min(1).max(64).optional(),
  probeAddresses: z.array(z.string().trim().min(1).max(300)).max(256).optional(),
  username: z.string().max(128).optional(),
  password: z.string().max(256).optional(),
});

/**
 * ONVIF: `GET|POST /discovery` (POST when credentials for reading unregistered devices
 * go along: never in a query string), `POST /onboard`, `POST /onvif/probe`, `GET /onvif/devices[/:cameraId]`.
 */
export function onvifRoutes(deps: OnvifRoutesDeps): Router {
  const router = Router();
  const actor = (res: { locals: Record<string, unknown> }) => String(res.locals.actor ?? 'unknown');

  router.get('/discovery', permit('onvif.read'), async (req, res) => {
    const q = req.query;
    const probe = q.probe === undefined ? [] : (Array.isArray(q.probe) ? q.probe : [q.probe]).map(String).flatMap((s) => s.split(','));
    res.json(
      await deps.discovery.discover(
        discoveryRequest({
          ...(q.timeout === undefined ? {} : { timeoutSeconds: Number(q.timeout) }),
          ...(q.interface === undefined ? {} : { interface: String(q.interface) }),
          ...(probe.length === 0 ? {} : { probeAddresses: probe }),
        }),
      ),
    );
  });

  router.post('/discovery', permit('onvif.onboard'), async (req, res) => {
    res.json(await deps.discovery.discover(discoveryRequest(req.body ?? {})));
  });

  router.post('/onboard', permit('onvif.onboard'), async (req, res) => {
    const result = await deps.onboarding.onboard(req.body, actor(res));
    if (result.outcome === 'onboarded') {
      res
        .status(201)
        .location(`/api/v1/cameras/${result.cameraId}`)
        .json({ ...result, camera: redactedView(result.camera) });
    } else {
      res.json(result);
    }
  });

  // What onboarding would read, so the integrator can choose the recorded and the shared profile.
  router.post('/onvif/probe', permit('onvif.onboard'), async (req, res) => {
    res.json(await deps.onboarding.inspect(req.body));
  });

  router.get('/onvif/devices', permit('onvif.read'), async (_req, res) => {
    res.json({ items: await deps.devices.list() });
  });

  router.get('/onvif/devices/:cameraId', permit('onvif.read'), async (req, res) => {
    const record = await deps.devices.get(req.params.cameraId);
    if (record === undefined) {
      throw new GatewayError('NOT_FOUND', `camera ${req.params.cameraId} was not onboarded through ONVIF`, {
        hint: 'GET /api/v1/onvif/devices lists the cameras that were.',
      });
    }
    res.json(record);
  });

  return router;
}

function discoveryRequest(input: unknown): DiscoveryRequest {
  const parsed = discoveryBody.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`);
    throw new GatewayError('VALIDATION_FAILED', `invalid discovery request: ${problems.join('; ')}`, {
      hint: 'timeout is 0.5 to 60 seconds; probe addresses are HOST[:PORT].',
      details: { problems },
    });
  }
  const b = parsed.data;
  return {
    ...(b.timeoutSeconds === undefined ? {} : { timeoutMs: Math.round(b.timeoutSeconds * 1000) }),
    ...(b.interface === undefined ? {} : { interface: b.interface }),
    ...(b.probeAddresses === undefined ? {} : { probeAddresses: b.probeAddresses }),
    credentials: b.username === undefined ? null : { username: b.username, password: b.password ?? '' },
  };
}
