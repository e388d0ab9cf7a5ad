import { resolve } from 'node:path';
import type { Express, Router } from 'express';
import type { Registry } from 'prom-client';
import type { AuthRoutesDeps } from './authRoutes.js';
import { AccessRequestService, PublicRequestService, type AccessRegister, type ActiveRequests, type TextSealer } from '../access/index.js';
import { allCameras, type CameraRegistry } from '../cameras/index.js';
import type { GatewayConfig, JurisdictionProfile } from '../config/index.js';
import { createMetricsRegistry, registerAlertMetrics, type IncidentBoard } from '../health/index.js';
import type { Logger } from '../log.js';
import type { MediaServer } from '../media/index.js';
import { grabJpeg, type FfmpegCapabilities, type PipelineManager } from '../pipeline/index.js';
import type { HoldingNode, RecordingSystem } from '../recording/index.js';
import type { Store } from '../store/index.js';
import type { ExportService } from '../exports/index.js';
import type { FourEyes, PendingChanges } from '../changes/index.js';
import { VERSION } from '../version.js';
import type { OnvifRoutesDeps } from './onvifRoutes.js';
import type { ReadinessState } from './readiness.js';
import type { PlatformRoutesDeps } from './platformRoutes.js';
import type { NodeRoutesDeps } from './nodeRoutes.js';
import type { RecordingNodes } from './recordingRelay.js';
import { createApiApp } from './server.js';

/** What the API is set up with. */
export interface GatewayApiSetup {
  config: GatewayConfig;
  profile: JurisdictionProfile;
  ffmpeg: FfmpegCapabilities;
  readiness: { state(): ReadinessState };
  logger: Logger;
}

/** The running components the API serves. */
export interface GatewayApiParts {
  store: Store;
  auth: AuthRoutesDeps;
  /** Approved requests in memory: refreshed on every transition; the HLS playback checks them. */
  activeRequests: ActiveRequests;
  /** Every view, copy, export and platform play of footage. */
  accessRegister: AccessRegister;
  media: MediaServer;
  registry: CameraRegistry;
  pipelines: PipelineManager;
  incidents: IncidentBoard;
  recording: RecordingSystem;
  /** Its outage ledger's pending writes are waited for by the reports. */
  alerting: { ledger: { flush(): Promise<void> }; notifier: { readonly heldCount: number } };
  diagnostics: { routes: Router; registerMetrics(registry: Registry): void };
  onvif: Omit<OnvifRoutesDeps, 'devices'>;
  playbackTokenKey: Buffer;
  /** Seals the identity document numbers of public requests at rest. */
  idDocuments: TextSealer;
  exports?: ExportService;
  /** Four eyes on changes that weaken protection. */
  changes: PendingChanges;
  fourEyes: FourEyes;
  /** GB/T 28181 upper platforms; undefined when none is configured. */
  platforms?: (PlatformRoutesDeps & { registerMetrics(registry: Registry): void }) | undefined;
  /** The cluster's nodes (GET /api/v1/nodes) and, in cluster mode, their metrics. */
  nodes?: (NodeRoutesDeps & { registerMetrics?(registry: Registry): void }) | undefined;
  /** Cluster mode: this node's name (recordings other nodes hold are served through them). */
  nodeName?: string;
}

/** The gateway's express app and its metrics, over its running components. */
export function gatewayApi(setup: GatewayApiSetup, p: GatewayApiParts): Express {
  const { config, logger } = setup;
  const { store, media, pipelines, incidents, recording } = p;
  const metrics = createMetricsRegistry({
    pipelines: () => pipelines.snapshots(),
    refused: () => pipelines.refusedCameras(),
    viewers: () => media.viewerCounts(),
    inboundBitrates: () => media.inboundBitrates(),
    buildInfo: { version: VERSION, ffmpegVersion: setup.ffmpeg.version, profile: config.profile },
  });
  registerAlertMetrics(metrics, {
    incidents: () => incidents.active(),
    pendingAlerts: () => store.alertOutbox.pendingCount(),
    deadLetters: () => store.alertOutbox.deadLetterCounts(),
    heldAlerts: () => p.alerting.notifier.heldCount,
  });
  p.diagnostics.registerMetrics(metrics);
  recording.registerMetrics(metrics);
  media.registerMetrics(metrics);
  p.platforms?.registerMetrics(metrics);
  p.nodes?.registerMetrics?.(metrics);
  return createApiApp({
    registry: p.registry,
    pipelines,
    media,
    metrics,
    auth: p.auth,
    logger,
    playTokenTtlSeconds: config.media.playTokenTtlSeconds,
    publicHost: config.media.publicHost,
    mediaHttpPort: config.media.httpPort,
    footageAudit: store.audit,
    grabSnapshot: (tier, cameraId) =>
      grabJpeg({
        ffmpegPath: config.ffmpeg.ffmpegPath,
        url: media.internalPlayUrl(tier, cameraId),
        what: `${tier} tier of camera ${cameraId}`,
        logger,
      }),
    onvif: { discovery: p.onvif.discovery, onboarding: p.onvif.onboarding, devices: store.onvif },
    store,
    incidents,
    profile: setup.profile,
    allCameras: () => allCameras(store.cameras),
    ledgerSettled: () => p.alerting.ledger.flush(),
    cameraExtensions: [p.diagnostics.routes],
    readiness: setup.readiness,
    recordings: {
      registry: p.registry,
      store,
      recording,
      tokenKey: p.playbackTokenKey,
      playTokenTtlSeconds: config.media.playTokenTtlSeconds,
      requestActive: p.activeRequests.isActive,
      register: p.accessRegister,
      fourEyes: p.fourEyes,
      exemptionActive: p.activeRequests.isExemptViewer,
      ...recordingNodes(p),
    },
    dossier: { config, dataDir: resolve(config.dataDir), store, logger },
    accessRegister: p.accessRegister,
    ...(p.exports === undefined ? {} : { exports: p.exports }),
    fourEyes: p.fourEyes,
    changes: p.changes,
    platforms: p.platforms,
    nodes: p.nodes,
    accessRequests: new AccessRequestService({ store, profile: setup.profile, onTransition: () => p.activeRequests.refresh() }),
    publicRequests: new PublicRequestService({ store, profile: setup.profile, idDocuments: p.idDocuments }),
    demo: { mode: config.mode, registry: p.registry, pipelines: p.pipelines },
    systemInfo: () => ({
      version: VERSION,
      profile: config.profile,
      mode: config.mode,
      ffmpeg: { version: setup.ffmpeg.version, hasLibx264: setup.ffmpeg.hasLibx264 },
    }),
  });
}

/** Cluster mode: this node's name and the nodes table, for the recordings other nodes hold. */
function recordingNodes(p: GatewayApiParts): { cluster?: RecordingNodes } {
  const { nodeName, nodes } = p;
  if (nodeName === undefined || nodes === undefined) return {};
  return { cluster: { self: nodeName, nodes: async () => (await nodes.list()) as HoldingNode[] } };
}
