import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { CameraRegistry } from '../../cameras/index.js';
import type { GatewayConfig } from '../../config/index.js';
import { closeOnce } from '../../lifecycle.js';
import type { Logger } from '../../log.js';
import type { IncidentBoard } from '../incidents.js';
import { ClockWatch, NtpWatch } from './clock.js';
import { Diagnostics, type DiagnosticsDeps, type KeyValueStore } from './diagnostics.js';
import { registerDiagnosticsMetrics } from './metrics.js';
import { diagnosticsRoutes } from './routes.js';

export interface DiagnosticsParts {
  diagnostics: Diagnostics;
  clock: ClockWatch;
  ntp: NtpWatch;
  /** Routes under /api/v1/cameras. */
  routes: Router;
  /** Adds the image and clock metrics to the gateway's registry. */
  registerMetrics(registry: Registry): void;
  /** Feed of the pipelines' state changes: each (re)start of the raw tier is sampled. */
  onStreamState(change: { cameraId: string; stream: string; to: string }): void;
  /** The camera no longer runs here: sampling stops, what was learnt is kept. */
  stopCamera(cameraId: string): Promise<void>;
  /** The camera is gone: sampling stops, its baseline, thresholds and clock readings are forgotten. */
  forgetCamera(cameraId: string): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Builds the image diagnostics, the camera clock watch and the NTP watch, started and with their metrics. */
export function startDiagnostics(opts: {
  config: GatewayConfig;
  supervision: DiagnosticsDeps['supervision'];
  /** The samplers read the raw tier from the media server. */
  media: { internalPlayUrl(tier: 'raw', cameraId: string): string };
  incidents: IncidentBoard;
  /** Baselines and thresholds are kept in the settings. */
  store: { settings: KeyValueStore };
  registry: Pick<CameraRegistry, 'get'>;
  logger: Logger;
}): DiagnosticsParts {
  const c = opts.config.diagnostics;
  const diagnostics = new Diagnostics({
    settings: {
      fps: c.sampleFps,
      width: c.width,
      height: c.height,
      learnSeconds: c.learnSeconds,
      fireAfterSeconds: c.fireAfterSeconds,
      frozenAfterSeconds: c.frozenAfterSeconds,
      clearAfterSeconds: c.clearAfterSeconds,
      thresholds: c.thresholds,
    },
    supervision: opts.supervision,
    rawTierUrl: (cameraId) => opts.media.internalPlayUrl('raw', cameraId),
    incidents: opts.incidents,
    store: opts.store.settings,
    logger: opts.logger.child({ component: 'diagnostics' }),
  });
  if (c.enabled) diagnostics.start();
  const clock = new ClockWatch(opts.incidents, c.maxClockDriftSeconds);
  const ntp = new NtpWatch(opts.incidents, c.ntpCheckSeconds * 1000, opts.logger);
  ntp.start();
  return {
    diagnostics,
    clock,
    ntp,
    routes: diagnosticsRoutes({ registry: opts.registry, diagnostics, incidents: opts.incidents, clock }),
    registerMetrics: (registry) =>
      registerDiagnosticsMetrics(registry, {
        diagnostics: () => diagnostics.states(),
        clockReadings: () => clock.readings(),
        ntpState: () => ntp.state,
      }),
    onStreamState: (change) => {
      if (c.enabled && change.stream === 'ingest' && change.to === 'live')
        void diagnostics
          .ingestLive(change.cameraId)
          .catch((err: unknown) => opts.logger.error({ err, cameraId: change.cameraId }, 'could not start sampling a camera'));
    },
    stopCamera: (cameraId) => diagnostics.removeCamera(cameraId),
    forgetCamera: (cameraId) => {
      clock.forget(cameraId);
      return diagnostics.removeCamera(cameraId, true);
    },
    close: closeOnce(async () => {
      await ntp.close();
      await diagnostics.close();
    }),
  };
}
