import { join, resolve } from 'node:path';
import {
  AccessRegister,
  ActiveRequests,
  adminTokenDigest,
  ensurePrivateDir,
  ensurePrivateFile,
  LoginLockout,
  Logins,
  resolveSecretKey,
  SessionTokens,
  setUpAdminToken,
  UserAccounts,
} from './access/index.js';
import { gatewayApi, Readiness, SegmentRelay, startApiServer } from './api/index.js';
import { allCameras, CameraRegistry, CredentialBox, deriveKey, KEY_PURPOSES, TextBox, withCredentials } from './cameras/index.js';
import { cameraCost, ClusterNode, LinkFencedError, LinkLeases, nodeNameOf } from './cluster/index.js';
import { type CameraCredentials, isSiteType } from './domain/index.js';
import { describeConfig, getProfile, type GatewayConfig } from './config/index.js';
import { startDesensitizer } from './desensitize/index.js';
import { IncidentBoard, startAlerting, watchDesensitize } from './health/index.js';
import { startDiagnostics } from './health/diagnostics/index.js';
import { CloseStack, closeOnce } from './lifecycle.js';
import type { Logger } from './log.js';
import { assertPortFree, startMediaServer } from './media/index.js';
import { OnvifPtz, startOnvif } from './onvif/index.js';
import {
  cameraProbes,
  detectFfmpeg,
  instanceIdOf,
  instanceMarker,
  OriginalVideoTaps,
  PipelineManager,
  pipelineSettings,
  reapOrphans,
} from './pipeline/index.js';
import { checkSite } from './privacy/index.js';
import { ManagedPlatforms, platformUpstream, recordedFootage, startGb28181 } from './platform/index.js';
import { cameraSources, startReconciler } from './reconciler/index.js';
import { checkpointHash, recordingsDir, startRecording } from './recording/index.js';
import { openStore } from './store/index.js';
import { ExportService } from './exports/index.js';
import { FourEyes, guardConfig, PendingChanges, registerConfigAppliers } from './changes/index.js';
import { VERSION } from './version.js';

export interface Gateway {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  readonly apiUrl: string;
  /** The admin token when it was generated at this start (shown once), else null. */
  readonly generatedAdminToken: string | null;
  /** Readiness ends at once, then the components close in reverse order of their start; idempotent. */
  close(): Promise<void>;
}

/**
 * The composition root: starts each component with its dependencies, in dependency order,
 * and stacks it; the stack closes in reverse. Components that need each other meet through
 * events subscribed here, once both exist.
 */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<Gateway> {
  const stack = new CloseStack((err) => logger.error({ err }, 'error while stopping'));
  const readiness = new Readiness();
  const close = closeOnce(() => (readiness.stopping(), stack.close()));
  try {
    const dataDir = resolve(config.dataDir);
    let profile = getProfile(config.profile);
    logger.info({ version: VERSION, config: describeConfig(config) }, 'starting psv-gateway');
    const ffmpeg = await detectFfmpeg(config, logger);
    const settings = pipelineSettings(config, dataDir, ffmpeg.sharedEncoder);

    await assertPortFree(config.http.host, config.http.port, 'API', 'http.port / PSVGW_HTTP_PORT');
    const api = stack.push(await startApiServer({ host: config.http.host, port: config.http.port, readiness }));
    // Footage, keys and database are the gateway user's alone (0700/0600, whatever the umask).
    ensurePrivateDir(dataDir, 'data directory', logger);
    if (config.recording.enabled) ensurePrivateDir(recordingsDir(config), 'recordings directory', logger);
    const secret = resolveSecretKey({ fromEnv: config.secrets.secretKey, mode: config.mode, dataDir, logger });
    const playbackTokenKey = deriveKey(secret, KEY_PURPOSES.playbackToken);
    const sqlitePath = config.store.sqlitePath ?? join(dataDir, 'psvgw.db');
    if (config.store.driver === 'sqlite' && sqlitePath !== ':memory:') ensurePrivateFile(sqlitePath, 'database file', logger);
    const store = stack.push(
      await openStore({
        driver: config.store.driver,
        sqlitePath,
        postgresUrl: config.store.postgresUrl,
        sqliteWorker: config.store.sqliteWorker,
        onLost: (reason) => {
          logger.error({ err: reason.message }, 'the store is lost: every store call fails from now on; restart the gateway');
          readiness.lost('store');
        },
      }),
    );
    await store.migrate();
    // Four eyes: a config value that weakens protection stays at its approved value until a second admin approves.
    const changes = new PendingChanges({ store, profile, pendingDays: config.auth.pendingChangeDays });
    config = await guardConfig(config, store, changes, logger);
    profile = getProfile(config.profile);
    registerConfigAppliers(changes, store);
    readiness.met('store');
    const instanceId = await instanceIdOf(store.settings);
    // Nodes sharing a PostgreSQL store form a cluster: each camera runs on the node holding its lease.
    const nodeName = nodeNameOf(config.cluster.nodeName);
    const clustered = config.store.driver === 'postgres';
    reapOrphans(instanceId, logger, clustered ? nodeName : undefined);
    const adminToken = await setUpAdminToken(store.settings, config.secrets.adminToken, config.mode);
    // Users and logins; PSVGW_ADMIN_TOKEN (or the digest an older gateway stored) is the bootstrap admin's API key.
    const accounts = new UserAccounts({ store, mode: config.mode });
    await accounts.ensureBootstrapAdmin(await adminTokenDigest(store.settings));
    const sessionTokens = new SessionTokens(
      store.signingKeys,
      new CredentialBox(deriveKey(secret, KEY_PURPOSES.sessionSigningKeys)),
      config.auth,
    );
    await sessionTokens.load();
    // Persisted, so a restart neither lifts a lock nor resets a count.
    const lockout = await new LoginLockout(config.auth.lockout, Date.now, { repository: store.lockouts, logger }).load();
    const auth = { accounts, logins: new Logins({ store, tokens: sessionTokens, lockout, refreshSeconds: config.auth.refreshSeconds }) };
    const marker = instanceMarker(instanceId, clustered ? nodeName : undefined);
    // Approved access requests, in memory: the play hook checks a viewer's request synchronously.
    const activeRequests = stack.push(await new ActiveRequests(store, logger, Date.now, profile.viewWithoutApproval.value).start());
    // Closed after the media server (the stack runs in reverse): plays still running are registered as ending then.
    // A recorded view ends when its token fetched nothing for two segment lengths (a player fetches about one per segment).
    const registerIdleMs = Math.max(10_000, 2 * config.recording.segmentSeconds * 1000);
    // A push relay reads again within its restart backoff after a failure: until then it is the same retrieval.
    const pushLingerMs = 2 * config.ingest.backoff.maxMs + 5_000;
    const accessRegister = stack.push(new AccessRegister({ store, profile, logger, idleMs: registerIdleMs, pushLingerMs }).start());
    const media = stack.push(
      await startMediaServer(config.media, {
        dataDir,
        tokenKey: playbackTokenKey,
        instanceMarker: marker,
        requestActive: activeRequests.isActive,
        onPlay: accessRegister.livePlays,
        exemptionActive: activeRequests.isExemptViewer,
        logger,
      }),
    );
    readiness.met('media');

    const incidents = new IncidentBoard(logger);
    const inServiceCameras = async () => (await allCameras(store.cameras)).filter((c) => c.enabled && c.removedAt === null);
    // Joined before the recording starts (it indexes only owned cameras' leftovers) and closed after it (its last
    // segments are written under the leases), then the leases are given up.
    const cluster = clustered
      ? stack.push(
          new ClusterNode({
            name: nodeName,
            // Other nodes fetch the recordings this node holds here.
            apiUrl: config.cluster.apiUrl ?? api.url,
            // Viewers reach this node's media server here (other nodes hand it out for the cameras this node runs).
            mediaUrl: `http://${config.media.publicHost ?? new URL(api.url).hostname}:${config.media.httpPort}`,
            weight: config.cluster.weight,
            repo: store.cluster,
            cameras: async () => (await inServiceCameras()).map((c) => ({ id: c.id, cost: cameraCost(c) })),
            timings: {
              heartbeatMs: config.cluster.heartbeatSeconds * 1000,
              leaseMs: config.cluster.leaseSeconds * 1000,
              stopMarginMs: Math.max(config.cluster.heartbeatSeconds * 1000, (config.cluster.leaseSeconds * 1000) / 3),
              databaseOutageMaxMs: config.cluster.databaseOutageMaxSeconds * 1000,
            },
            logger,
          }),
        )
      : null;
    if (cluster !== null) {
      await cluster.join();
      logger.info({ node: nodeName, cameras: cluster.ownedCameras().length }, 'joined the cluster');
    }
    const guard =
      cluster === null
        ? {}
        : {
            guard: {
              mayWrite: (cameraId: string) => cluster.owns({ id: cameraId }),
              fence: (tx: Parameters<ClusterNode['fence']>[0], cameraId: string) => cluster.fence(tx, cameraId),
              refused: (cameraId: string) => cluster.refused(cameraId),
              retryUnreachable: <T>(cameraId: string, write: () => Promise<T>) => cluster.retryUnreachable(cameraId, write),
            },
            node: nodeName,
          };
    // Closed after the pipelines (the stack runs in reverse): their last partial segments get indexed.
    const recording = stack.push(
      await startRecording({ config, dataDir, profile, store, incidents, logger, ...guard, node: nodeName, clustered }),
    );
    const probes = cameraProbes(config, logger);
    // The original video of H.265 cameras, teed by their ingest, for GB/T 28181 sessions that send it as is.
    const originalVideo = stack.push(new OriginalVideoTaps());
    const pipelines = stack.push(
      new PipelineManager({
        settings: {
          ...settings,
          recording,
          upstream: platformUpstream,
          originalVideo,
          desensitizer: (opts) => startDesensitizer({ ...opts, tuning: { ffmpegPath: settings.ffmpegPath } }),
        },
        media,
        probe: probes.ingest,
        logger,
      }),
    );
    recording.onRestartIngest((cameraId) => pipelines.restartIngest(cameraId));
    pipelines.on('state', (change) => change.stream === 'ingest' && recording.onIngestChange(change));
    const outageGuard =
      cluster === null
        ? {}
        : {
            outageGuard: {
              mayWrite: (cameraId: string) => cluster.owns({ id: cameraId }),
              // Queued while the database is unreachable, as the segment index is (docs/cluster.md).
              write: <T>(cameraId: string, work: (outages: typeof store.outages) => Promise<T>) =>
                cluster.fencedWrite(store, cameraId, (tx) => work(tx.outages)),
            },
          };
    // Cluster mode: one node holds each platform link (a lease, renewed on the cluster heartbeat); closed after the links.
    // The link's outage rows check its lease in their transaction (its sessions' register rows do not: see onSessionEnd).
    const linkLeases = cluster === null ? null : stack.push(new LinkLeases({ node: cluster, repo: store.linkLeases, store, logger }));
    const platformOutageGuard =
      linkLeases === null
        ? {}
        : {
            platformOutageGuard: {
              write: <T>(platform: string, work: (outages: typeof store.platformOutages) => Promise<T>) =>
                linkLeases
                  .write(platform, (tx) => work(tx.platformOutages))
                  .catch((err: unknown) => {
                    if (err instanceof LinkFencedError) return undefined;
                    throw err;
                  }),
            },
          };
    const alerting = stack.push(await startAlerting({ config, store, incidents, logger, ...outageGuard, ...platformOutageGuard }));
    pipelines.on('state', alerting.onStreamState);
    pipelines.on('desensitize', watchDesensitize(incidents));
    // Each signed checkpoint also goes to the webhook receivers: a witness off this box.
    recording.ledger.addWitness({
      name: 'webhook outbox',
      record: (cp) =>
        alerting.notifier.event({
          kind: 'checkpoint',
          id: cp.cameraId,
          eventId: checkpointHash(cp).slice(0, 32),
          at: cp.signedAt,
          details: { ...cp },
        }),
    });

    const box = new CredentialBox(deriveKey(secret, KEY_PURPOSES.cameraCredentials));
    const siteGuard = (siteType: string) => checkSite(profile, siteType);
    const playCheck = (url: string, credentials: CameraCredentials | null) => probes.playCheck(withCredentials(url, credentials));
    const idParts = config.gateway;
    const registry = stack.push(new CameraRegistry({ store, box, siteGuard, isSiteType, idParts, probe: playCheck, logger }));
    const fourEyes = new FourEyes(changes, registry, recording.holds);
    // PTZ commands from upper platforms reach the cameras' ONVIF PTZ service, one session per camera.
    const ptz = stack.push(
      new OnvifPtz({
        devices: store.onvif,
        credentials: async (id) => registry.credentialsOf(await registry.getRecord(id)),
        timeoutMs: config.onvif.requestTimeoutSeconds * 1000,
        logger,
      }),
    );
    // GB/T 28181 upper platforms: the SIP port opens with the first, from the config or the API.
    const { gb28181 } = config;
    const gbService = stack.push(
      await startGb28181(gb28181, {
        cameras: () => registry.list(),
        online: (id) => !incidents.isFiring(id, 'camera_down'),
        incidents,
        // Catalog subscribers hear of cameras added, changed or removed.
        camerasChanged: (listener) => {
          const offs = (['created', 'updated', 'removed'] as const).map((e) => registry.on(e, listener));
          return () => offs.forEach((off) => off());
        },
        audit: store.audit,
        logger,
        ptz,
        ...(linkLeases === null ? {} : { holder: linkLeases, onLinkHeld: (link, isUp) => alerting.ledger.adoptPlatform(link, isUp) }),
        // Live play reads the masked shared tier through an internal token, like the push relays; in a cluster, a
        // camera another node runs is read from that node's shared tier (HTTP-FLV, a view token every node accepts).
        live: {
          sharedPlayUrl: async (id) => {
            const place = cluster === null ? null : await cluster.placeOf(id);
            if (place === null || (place.node !== null && place.here)) return media.internalPlayUrl('shared', id);
            if (place.node === null || place.mediaUrl === null) throw new Error(`camera ${id} runs on no node now`);
            const url = new URL(media.playbackUrls('shared', id, '127.0.0.1', 300).httpFlv);
            return `${place.mediaUrl}${url.pathname}${url.search}`;
          },
          sharedStream: (id) => {
            const snap = pipelines.snapshot(id);
            const video = snap?.info?.video;
            if (video === undefined) return undefined;
            // Every live tier is H.264 (FLV): an H.265 camera's is re-encoded (ingest.h265Live), masked or not.
            return { fps: video.fps ?? 25, codec: 'h264', width: video.width, height: video.height };
          },
          // An unmasked H.265 camera's picture is its own: the platform gets its H.265 as the ingest copies it (one
          // pull per camera), not the tier's re-encode. Masked or sub-stream tiers are other pictures: H.264.
          cameraStream: (id) => {
            const snap = pipelines.snapshot(id);
            const video = snap?.info?.video;
            if (video?.codec !== 'hevc' || snap?.shared.mode !== 'mirrored' || !originalVideo.has(id)) return undefined;
            const subscribe = (onData: (chunk: Buffer) => void) => originalVideo.subscribe(id, onData) ?? (() => undefined);
            return { codec: 'h265', subscribe, fps: video.fps ?? 25, width: video.width, height: video.height };
          },
        },
        // Playback and download read the recordings, masked with the camera's masks as they are now.
        footage: recordedFootage({
          entries: (cameraId, fromMs, toMs) => store.recordings.entries({ cameraId, kind: 'segment', fromMs, toMs }),
          recordingsDir: recording.dir,
          camera: async (cameraId, firstSegment) => {
            const { masks, sharedEncoder } = await registry.get(cameraId);
            // The raw tier's picture is the recording's; a camera that is not live has its segment probed.
            const video =
              pipelines.snapshot(cameraId)?.info?.video ?? (await probes.ingest(firstSegment, AbortSignal.timeout(30_000))).video;
            return { masks, encoder: sharedEncoder, width: video.width, height: video.height, fps: video.fps ?? 25 };
          },
          encoder: settings.sharedEncoder,
        }),
        // Not fenced by the link lease: the row records a retrieval that happened here, and appends only.
        onSessionEnd: (e) =>
          void accessRegister
            .record({
              method: 'platform_play',
              tier: 'shared',
              cameraIds: [e.cameraId],
              startedAt: e.startedAt,
              endedAt: e.endedAt,
              bytes: e.bytes,
              destination: e.platform,
              // Recorded footage: its range, and the kind in the protocol (gb28181-playback, gb28181-download).
              ...(e.footage === undefined ? {} : { footageFrom: e.footage.from, footageTo: e.footage.to }),
              protocol: e.kind === 'Play' ? 'gb28181' : `gb28181-${e.kind.toLowerCase()}`,
            })
            .catch((err: unknown) => logger.error({ err, cameraId: e.cameraId }, 'could not register a platform session')),
      }),
    );
    const platforms = new ManagedPlatforms({
      store,
      box: new TextBox(deriveKey(secret, KEY_PURPOSES.cameraCredentials), 'platform passwords'),
      service: gbService,
      changes,
      cameraIds: async () => (await registry.list()).map((c) => c.id),
      configNames: gb28181.platforms.map((p) => p.name),
      logger,
    });
    await platforms.start();
    // Platforms approved, changed or removed through another node reach this node's links at the next beat.
    cluster?.keepOnBeat({ beat: () => platforms.sync(), watch: () => undefined });
    const diagnostics = stack.push(startDiagnostics({ config, supervision: settings, media, incidents, store, registry, logger }));
    pipelines.on('state', diagnostics.onStreamState);

    const { pushTargets } = config.platform;
    const sources = cameraSources(store, registry, profile);
    const reconciler = stack.push(
      await startReconciler({
        ...sources,
        pushTargets,
        pipelines,
        incidents,
        diagnostics,
        logger,
        ...(cluster ? { owns: cluster.owns } : {}),
      }),
    );
    const refresh = (cameraId: string) =>
      void reconciler.refresh(cameraId).catch((err: unknown) => logger.error({ err, cameraId }, 'could not apply a lease change'));
    cluster?.run({
      // The camera's outages left open by its last owner continue here.
      acquired: (cameraId) => {
        alerting.ledger.adopt(cameraId);
        refresh(cameraId);
      },
      // At once, without the database (it may be what failed); the reconciler then ends the camera's incidents.
      lost: (cameraId) => {
        void pipelines
          .remove(cameraId)
          .catch((err: unknown) => logger.error({ err, cameraId }, 'could not stop a camera whose lease was lost'))
          .finally(() => refresh(cameraId));
      },
      // Stopped, its last segment indexed and the head signed, all under the lease: the next owner continues a signed chain.
      releasing: async (cameraId) => {
        await pipelines.remove(cameraId);
        await recording.settled(cameraId);
        await recording.ledger.checkpoint(cameraId);
      },
      released: refresh,
    });
    readiness.met('reconciled');
    // The camera went live at registration; once its profile choice is stored, a chosen sub stream takes over the shared tier.
    const onOnboarded = (cameraId: string) =>
      void reconciler.refresh(cameraId).catch((err: unknown) => logger.error({ err, cameraId }, 'could not apply an onboarding'));
    // Exports: one job at a time; each finished clip is registered like any other retrieval.
    const exports = stack.push(
      await new ExportService({
        store,
        dir: join(dataDir, 'exports'),
        recordingsDir: recording.dir,
        signer: recording.signer,
        ffmpegPath: config.ffmpeg.ffmpegPath,
        ffprobePath: config.ffmpeg.ffprobePath,
        logger,
        // Cluster mode: runs the exports asked of this node; segments other nodes hold are copied through them.
        ...(cluster === null
          ? {}
          : {
              cluster: {
                node: nodeName,
                segments: new SegmentRelay(playbackTokenKey, { self: nodeName, nodes: () => cluster.nodes() }, recording.dir),
              },
            }),
        onExported: (e) =>
          accessRegister.record({
            method: 'export',
            tier: 'raw',
            userId: e.userId,
            requestId: e.requestId,
            cameraIds: [e.cameraId],
            startedAt: e.at,
            endedAt: e.at,
            footageFrom: e.from,
            footageTo: e.to,
            bytes: e.bytes,
            protocol: 'mp4',
          }),
      }).start(),
    );
    const onvif = stack.push(startOnvif({ config, store, registry, incidents, playCheck, clock: diagnostics.clock, logger, onOnboarded }));

    const running = {
      store,
      auth,
      activeRequests,
      accessRegister,
      media,
      registry,
      pipelines,
      incidents,
      recording,
      alerting,
      diagnostics,
      onvif,
      playbackTokenKey,
      idDocuments: new TextBox(deriveKey(secret, KEY_PURPOSES.personalData), 'identity document numbers'),
      exports,
      changes,
      fourEyes,
      platforms,
      ...(cluster === null ? {} : { nodeName }),
      nodes:
        cluster === null
          ? {
              // One gateway: itself, with every camera in service.
              list: async () => [
                {
                  name: nodeName,
                  alive: true,
                  cameraIds: (await inServiceCameras()).map((c) => c.id),
                  cordoned: false,
                  draining: false,
                  lastSeen: new Date().toISOString(),
                  weight: config.cluster.weight,
                  apiUrl: api.url,
                },
              ],
            }
          : {
              list: () => cluster.nodes(),
              set: (name: string, action: 'cordon' | 'drain' | 'uncordon') => cluster.setState(name, action),
              placeOf: (cameraId: string) => cluster.placeOf(cameraId),
              registerMetrics: (registry: Parameters<ClusterNode['registerMetrics']>[0]) => cluster.registerMetrics(registry),
            },
    };
    api.serve(gatewayApi({ config, profile, ffmpeg: ffmpeg.capabilities, readiness, logger }, running));
    logger.info(
      { api: api.url, rtmpPort: config.media.rtmpPort, flvPort: config.media.httpPort, profile: config.profile },
      'psv-gateway ready',
    );
    return { apiUrl: api.url, generatedAdminToken: adminToken.generated, close };
  } catch (err) {
    await close();
    throw err;
  }
}
