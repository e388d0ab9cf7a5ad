import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { AdminTokenVerifier, resolveSecretKey, setUpAdminToken } from './access/index.js';
import { createApiApp } from './api/index.js';
import {
  CameraRegistry,
  CredentialBox,
  deriveKey,
  KEY_PURPOSES,
  withCredentials,
  type CameraCredentials,
  type CameraRecord,
} from './cameras/index.js';
import { isSiteType } from './domain/index.js';
import { describeConfig, getProfile, type GatewayConfig } from './config/index.js';
import { createMetricsRegistry, IncidentBoard, registerAlertMetrics, startAlerting } from './health/index.js';
import { startDiagnostics } from './health/diagnostics/index.js';
import type { Logger } from './log.js';
import { assertPortFree, MediaServer } from './media/index.js';
import {
  grabJpeg,
  PipelineManager,
  probeStream,
  RecentProbes,
  readFfmpegCapabilities,
  chooseH264Encoder,
  reapOrphans,
  instanceMarker,
  type FfmpegCapabilities,
  type PipelineSettings,
} from './pipeline/index.js';
import { sharedSubStream } from './onvif/profileChoice.js';
import { platformUpstream } from './platform/index.js';
import { startOnvif } from './onvif/wiring.js';
import { checkSite } from './privacy/index.js';
import { RecordingSystem, recordingsDir } from './recording/index.js';
import { openStore, type Store } from './store/index.js';
import { VERSION } from './version.js';

export interface Gateway {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  readonly apiUrl: string;
  /** The admin token when it was generated at this start (shown once), else null. */
  readonly generatedAdminToken: string | null;
  close(): Promise<void>;
}

/**
 * The composition root: the one place that builds the gateway's components and wires
 * them together. Start order follows dependencies; close runs in reverse and is idempotent.
 */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<Gateway> {
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    while (closers.length > 0)
      await closers
        .pop()?.()
        .catch((err: unknown) => logger.error({ err }, 'error while stopping'));
  };
  try {
    return await assemble(config, logger, closers, closeAll);
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function assemble(
  config: GatewayConfig,
  logger: Logger,
  closers: Array<() => Promise<void>>,
  closeAll: () => Promise<void>,
): Promise<Gateway> {
  const dataDir = resolve(config.dataDir);
  const profile = getProfile(config.profile);
  logger.info({ version: VERSION, config: describeConfig(config) }, 'starting psv-gateway');

  const ffmpeg: FfmpegCapabilities = await readFfmpegCapabilities(config.ffmpeg.ffmpegPath, logger);
  const wanted = config.privacy.sharedEncoder.encoder;
  const sharedEncoder = wanted === 'auto' ? await chooseH264Encoder(config.ffmpeg.ffmpegPath, ffmpeg.videoEncoders, logger) : wanted;
  logger.info({ encoder: sharedEncoder, configured: wanted }, 'encoder of masked shared tiers');
  logger.info(
    {
      ffmpegVersion: ffmpeg.version,
      videoEncoders: ffmpeg.videoEncoders.length,
      libx264: ffmpeg.hasLibx264,
      hardwareEncodersBuiltIn: ffmpeg.videoEncoders.filter((e) => /nvenc|vaapi|qsv|v4l2m2m/.test(e)),
    },
    'ffmpeg found',
  );

  await assertPortFree(config.http.host, config.http.port, 'API', 'http.port / PSVGW_HTTP_PORT');
  const secret = resolveSecretKey({ fromEnv: config.secrets.secretKey, mode: config.mode, dataDir, logger });
  const store: Store = await openStore({
    driver: config.store.driver,
    sqlitePath: config.store.sqlitePath ?? join(dataDir, 'psvgw.db'),
    postgresUrl: config.store.postgresUrl,
  });
  closers.push(() => store.close());
  await store.migrate();

  const instanceId = await instanceIdOf(store);
  reapOrphans(instanceId, logger);
  const adminToken = await setUpAdminToken(store.settings, config.secrets.adminToken, config.mode);
  const auth = new AdminTokenVerifier(store.settings);
  await auth.load();

  const media = new MediaServer({
    bindHost: config.media.host,
    rtmpPort: config.media.rtmpPort,
    httpPort: config.media.httpPort,
    dataDir,
    tokenKey: deriveKey(secret, KEY_PURPOSES.playbackToken),
    instanceMarker: instanceMarker(instanceId),
    logger,
  });
  await media.start();
  closers.push(() => media.close());

  const probeOptions = {
    ffprobePath: config.ffmpeg.ffprobePath,
    rtspTransport: config.ingest.rtspTransport,
    timeoutMs: config.ingest.probeTimeoutSeconds * 1000,
    socketTimeoutSeconds: config.ingest.socketTimeoutSeconds,
    logger,
  };
  const incidents = new IncidentBoard(logger);
  const recording = await RecordingSystem.create({
    config: config.recording,
    dataDir,
    dir: recordingsDir({ ...config, dataDir }),
    profile,
    store,
    incidents,
    ffprobePath: config.ffmpeg.ffprobePath,
    logger,
    restartIngest: (cameraId) => pipelines.restartIngest(cameraId),
  });
  // Closed after the pipelines (closers run in reverse): their last partial segments get indexed.
  closers.push(() => recording.close());

  const recentProbes = new RecentProbes();
  const pipelines = new PipelineManager({
    settings: { ...pipelineSettings(config, dataDir, sharedEncoder), recording, upstream: platformUpstream },
    media,
    probe: async (url, signal) => recentProbes.take(url) ?? probeStream(url, { ...probeOptions, signal }),
    logger,
  });
  closers.push(() => pipelines.close());
  await recording.start();

  const alerting = await startAlerting({ config, store, incidents, logger });
  closers.push(() => alerting.close());
  pipelines.on('state', alerting.onStreamState);
  const logFailure = (err: unknown) => logger.error({ err }, 'could not apply a camera change to its pipeline');
  pipelines.on('state', (change) => {
    if (change.stream === 'ingest') recording.onIngestChange(change);
    // A failed masking transcode or sub-stream relay leaves the shared tier dark (fail closed): an incident until it is live again.
    if (change.stream !== 'masking' && change.stream !== 'shared') return;
    const what = change.stream === 'masking' ? 'masking' : 'the sub stream';
    if (change.to === 'backoff')
      incidents.fire({
        cameraId: change.cameraId,
        kind: 'shared_tier_dark',
        severity: 'critical',
        message: `${what} failed (${change.cause ?? 'unknown cause'}): the shared tier is dark until it recovers`,
      });
    else if (change.to === 'live') incidents.resolve(change.cameraId, 'shared_tier_dark');
  });

  const quality = startDiagnostics({
    config: config.diagnostics,
    supervision: pipelineSettings(config, dataDir, sharedEncoder),
    rawTierUrl: (cameraId) => media.internalPlayUrl('raw', cameraId),
    incidents,
    store: store.settings,
    registry: { get: (id) => registry.get(id) },
    logger,
  });
  closers.push(() => quality.close());
  pipelines.on('state', (change) => {
    // Each (re)start of the raw tier is sampled for the image checks.
    if (config.diagnostics.enabled && change.stream === 'ingest' && change.to === 'live')
      void quality.diagnostics.ingestLive(change.cameraId).catch(logFailure);
  });

  const box = new CredentialBox(deriveKey(secret, KEY_PURPOSES.cameraCredentials));
  // The play check before a camera is stored; the ingest then reuses its result.
  const playCheck = async (url: string, creds: CameraCredentials | null) => {
    const source = withCredentials(url, creds);
    recentProbes.remember(source, await probeStream(source, probeOptions));
  };
  const registry = new CameraRegistry({
    store,
    box,
    siteGuard: (siteType) => checkSite(profile, siteType),
    isSiteType,
    idParts: config.gateway,
    probe: playCheck,
    logger,
  });
  closers.push(() => Promise.resolve(registry.close()));
  // The camera went live at registration; once its profile choice is stored, a chosen sub stream takes over the shared tier.
  const onOnboarded = (cameraId: string) =>
    void store.cameras
      .get(cameraId)
      .then((camera) => (camera ? runCamera(camera) : undefined))
      .catch(logFailure);
  const onvif = startOnvif(config, { store, registry, incidents, playCheck, clock: quality.clock, logger, onOnboarded });
  closers.push(() => onvif.discovery.close());
  closers.push(() => onvif.clockCheck.close());

  const runCamera = async (camera: CameraRecord) => {
    if (!camera.enabled || camera.removedAt !== null) {
      await quality.diagnostics.removeCamera(camera.id);
      return pipelines.remove(camera.id);
    }
    // The profile may have changed since the camera was registered: check the site again.
    const verdict = checkSite(profile, camera.siteType);
    if (verdict.forbidden) {
      logger.error(
        { cameraId: camera.id, siteType: camera.siteType, citations: verdict.citations },
        'camera refused: forbidden site under the active profile',
      );
      return pipelines.refuse(camera.id, verdict.message ?? 'forbidden site type');
    }
    const pushTargets = [...new Set([...config.platform.pushTargets, ...camera.pushTargets])];
    const credentials = registry.credentialsOf(camera);
    const subStream = sharedSubStream(camera, await store.onvif.get(camera.id));
    return pipelines.apply({
      id: camera.id,
      sourceUrl: withCredentials(camera.rtspUrl, credentials),
      pushTargets,
      shared: { masks: camera.masks, version: camera.masksVersion, encoder: camera.sharedEncoder },
      ...(subStream === null ? {} : { sharedSourceUrl: withCredentials(subStream, credentials) }),
    });
  };
  registry.on('created', (camera) => void runCamera(camera).catch(logFailure));
  registry.on('updated', (camera) => {
    // A camera taken out of service is not down: its incidents end with it.
    if (!camera.enabled || camera.removedAt !== null) incidents.resolveCamera(camera.id);
    void runCamera(camera).catch(logFailure);
  });
  registry.on('removed', (camera) => {
    quality.clock.forget(camera.id);
    void quality.diagnostics.removeCamera(camera.id, true).catch(logFailure);
    incidents.resolveCamera(camera.id);
    void pipelines.remove(camera.id).catch(logFailure);
  });
  const cameras = await allCameras(store);
  for (const camera of cameras) await runCamera(camera);
  // An outage left open by the last run ends when its camera is gone or out of service.
  const inService = new Set(cameras.filter((c) => c.enabled && c.removedAt === null).map((c) => c.id));
  for (const i of incidents.active()) if (i.cameraId !== null && !inService.has(i.cameraId)) incidents.resolveCamera(i.cameraId);

  const metrics = createMetricsRegistry({
    pipelines: () => pipelines.snapshots(),
    refused: () => pipelines.refusedCameras(),
    viewers: () => media.viewerCounts(),
    inboundBitrates: () => media.inboundBitrates(),
    buildInfo: { version: VERSION, ffmpegVersion: ffmpeg.version, profile: config.profile },
  });
  registerAlertMetrics(metrics, { incidents: () => incidents.active(), pendingAlerts: () => store.alertOutbox.pendingCount() });
  quality.registerMetrics(metrics);
  recording.registerMetrics(metrics);
  let ready = false;
  const app = createApiApp({
    registry,
    pipelines,
    media,
    metrics,
    auth,
    logger,
    playTokenTtlSeconds: config.media.playTokenTtlSeconds,
    publicHost: config.media.publicHost,
    grabSnapshot: (tier, cameraId) =>
      grabJpeg({
        ffmpegPath: config.ffmpeg.ffmpegPath,
        url: media.internalPlayUrl(tier, cameraId),
        what: `${tier} tier of camera ${cameraId}`,
        logger,
      }),
    onvif: { ...onvif, devices: store.onvif },
    store,
    incidents,
    profile,
    allCameras: () => allCameras(store),
    ledgerSettled: () => alerting.ledger.flush(),
    cameraExtensions: [quality.routes],
    isReady: () => ready,
    recordings: {
      registry,
      store,
      recording,
      tokenKey: deriveKey(secret, KEY_PURPOSES.playbackToken),
      playTokenTtlSeconds: config.media.playTokenTtlSeconds,
    },
    systemInfo: () => ({
      version: VERSION,
      profile: config.profile,
      mode: config.mode,
      ffmpeg: { version: ffmpeg.version, hasLibx264: ffmpeg.hasLibx264 },
    }),
  });
  const server = await listen(createServer(app), config.http.host, config.http.port);
  closers.push(() => closeServer(server));
  ready = true;
  const apiUrl = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${config.http.port}`;
  logger.info(
    { api: apiUrl, rtmpPort: config.media.rtmpPort, flvPort: config.media.httpPort, profile: config.profile },
    'psv-gateway ready',
  );
  let closing: Promise<void> | null = null;
  return {
    apiUrl,
    generatedAdminToken: adminToken.generated,
    close: () => (closing ??= closeAll()),
  };
}

function pipelineSettings(config: GatewayConfig, dataDir: string, sharedEncoder: string): PipelineSettings {
  const ingest = config.ingest;
  return {
    ffmpegPath: config.ffmpeg.ffmpegPath,
    rtspTransport: ingest.rtspTransport,
    socketTimeoutSeconds: ingest.socketTimeoutSeconds,
    stallMs: ingest.stallSeconds * 1000,
    startTimeoutMs: Math.max(10, ingest.probeTimeoutSeconds) * 1000,
    backoff: ingest.backoff,
    maxRestartsPerMinute: ingest.maxRestartsPerMinute,
    liveTranscode: ingest.h265Live,
    sharedEncoder: { ...config.privacy.sharedEncoder, encoder: sharedEncoder },
    dataDir,
  };
}

async function instanceIdOf(store: Store): Promise<string> {
  const existing = await store.settings.get('instance_id');
  if (existing) return existing;
  const id = randomUUID().replace(/-/g, '').slice(0, 16);
  await store.settings.set('instance_id', id);
  return id;
}

async function allCameras(store: Store): Promise<CameraRecord[]> {
  const all: CameraRecord[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await store.cameras.list({ limit: 1000, offset });
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

function listen(server: Server, host: string, port: number): Promise<Server> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}
