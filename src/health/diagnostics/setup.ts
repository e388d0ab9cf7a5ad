import type { Router } from 'express';
import type { Registry } from 'prom-client';
import type { CameraRegistry } from '../../cameras/index.js';
import type { GatewayConfig } from '../../config/index.js';
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
  close(): Promise<void>;
}

/** Builds the image diagnostics, the camera clock watch and the NTP watch, started and with their metrics. */
export function startDiagnostics(opts: {
  config: GatewayConfig['diagnostics'];
  supervision: DiagnosticsDeps['supervision'];
  rawTierUrl: (cameraId: string) => string;
  incidents: IncidentBoard;
  store: KeyValueStore;
  registry: Pick<CameraRegistry, 'get'>;
  logger: Logger;
}): DiagnosticsParts {
  const c = opts.config;
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
    rawTierUrl: opts.rawTierUrl,
    incidents: opts.incidents,
    store: opts.store,
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
    close: async () => {
      await ntp.close();
      await diagnostics.close();
    },
  };
}
