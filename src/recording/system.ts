import { join, resolve } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { GatewayConfig, JurisdictionProfile } from '../config/index.js';
import { SafeEmitter } from '../events.js';
import { readNtpState, type IncidentBoard } from '../health/index.js';
import { closeOnce } from '../lifecycle.js';
import { startOrClose } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { RecordingOutput } from '../pipeline/index.js';
import type { Store } from '../store/index.js';
import { DiskMonitor } from './disk.js';
import { EvidenceHolds } from './holds.js';
import { PeriodicTask } from './periodic.js';
import { ChainLedger, type ChainGuard } from './ledger.js';
import { ClockGuard } from './clockGuard.js';
import { Recorder, SEGMENT_STEPS, type IngestChange, type SegmentStep } from './recorder.js';
import type { RetentionPolicy, RetentionRule } from './retention.js';
import { registerNodeKey } from './nodeKeys.js';
import { ChainSigner } from './signing.js';
import { signAuditHead } from './auditCheckpoints.js';
import { RetentionSweeper } from './sweeper.js';
import { HolderSweep } from './holderSweep.js';
import { WitnessDir } from './witness.js';

export interface RecordingSystemOptions {
  config: GatewayConfig['recording'];
  dataDir: string;
  profile: JurisdictionProfile;
  store: Store;
  incidents: IncidentBoard;
  ffprobePath: string;
  logger: Logger;
  /** Production mode: a configured signing key file must already exist. */
  production?: boolean;
  /** Cluster mode: the lease check of every chain write (none: every camera is this gateway's). */
  guard?: ChainGuard;
  /**
   * The node's name: its key is registered to it at start (refused if the name has another
   * key in service) and every entry and checkpoint names both. None: nothing is registered or named.
   */
  node?: string;
  /** Several nodes share the store (PostgreSQL): a key registered to another node is refused. */
  clustered?: boolean;
}

export interface RecordingEvents extends Record<string, unknown[]> {
  /** A camera's ingest must restart: recording starts or stops with its next run (e.g. the disk filled or has room again). */
  restartIngest: [cameraId: string];
}

/** Settings key of the signing key's public half, written when the key is made. */
export const PUBLIC_KEY_SETTING = 'recording_public_key';
/** Retention when neither the profile nor the config sets one. */
const FALLBACK_RETENTION_DAYS = 30;

/** The recordings directory a config names. */
export function recordingsDir(config: GatewayConfig): string {
  return resolve(config.recording.dir ?? join(config.dataDir, 'recordings'));
}

/** Retention as configured on top of the profile (the config rules refuse anything below its minimum). */
export function retentionPolicy(config: GatewayConfig['recording'], profile: JurisdictionProfile): RetentionPolicy {
  const article = profile.retentionDays.value === null ? null : profile.retentionDays.source;
  const base: RetentionRule =
    config.retentionDays !== undefined
      ? { days: config.retentionDays, profile: profile.name, rule: 'config', article }
      : profile.retentionDays.value !== null
        ? { days: profile.retentionDays.value, profile: profile.name, rule: 'profile', article }
        : { days: FALLBACK_RETENTION_DAYS, profile: profile.name, rule: 'fallback', article };
  return {
    rule: (cameraId) => {
      const days = config.perCamera.find((p) => p.cameraId === cameraId)?.retentionDays;
      return days === undefined ? { ...base } : { ...base, days, rule: 'perCamera' };
    },
    holdRetentionDays: profile.importantRetentionDays.value,
  };
}

/**
 * Recording as one component: recorder, chain ledger with its signing key, retention
 * sweeper, disk monitor and evidence holds, built from the config and started together.
 */
export class RecordingSystem {
  readonly dir: string;
  readonly recorder: Recorder;
  readonly ledger: ChainLedger;
  readonly sweeper: RetentionSweeper;
  readonly disk: DiskMonitor;
  readonly holds: EvidenceHolds;
  readonly policy: RetentionPolicy;
  readonly clockGuard: ClockGuard;
  readonly #checkpoints: PeriodicTask;
  readonly #events: SafeEmitter<RecordingEvents>;
  readonly #close: () => Promise<void>;

  private constructor(
    private readonly opts: RecordingSystemOptions & { dir: string },
    /** The gateway's Ed25519 key; exports sign their manifests with it too. */
    readonly signer: ChainSigner,
  ) {
    const { config, store, logger } = opts;
    this.dir = opts.dir;
    const log = logger.child({ component: 'recording' });
    this.#events = new SafeEmitter<RecordingEvents>(log);
    this.policy = retentionPolicy(config, opts.profile);
    this.ledger = new ChainLedger(store, signer, log);
    if (opts.node !== undefined) this.ledger.writeAs(opts.node);
    if (opts.guard !== undefined) this.ledger.guardWith(opts.guard);
    if (config.witnessDir !== undefined) this.ledger.addWitness(new WitnessDir(resolve(config.witnessDir)));
    this.recorder = new Recorder({
      dir: this.dir,
      segmentSeconds: config.segmentSeconds,
      ffprobePath: opts.ffprobePath,
      store,
      ledger: this.ledger,
      logger: log,
      incidents: opts.incidents,
      restartIngest: (cameraId) => this.#events.emit('restartIngest', cameraId),
      retention: (cameraId) => this.policy.rule(cameraId),
      ...testPause(),
    });
    this.clockGuard = new ClockGuard({
      toleranceMs: config.clockJumpToleranceSeconds * 1000,
      logger: log,
      incidents: opts.incidents,
      ntpState: async () => (await readNtpState()).state,
    });
    this.sweeper = new RetentionSweeper({
      store,
      ledger: this.ledger,
      dir: this.dir,
      policy: this.policy,
      logger: log,
      clockGuard: this.clockGuard,
      ...(opts.node === undefined ? {} : { holder: new HolderSweep({ store, dir: this.dir, node: opts.node, logger: log }) }),
    });
    this.disk = new DiskMonitor({
      dir: this.dir,
      minFreeBytes: config.minFreeMB * 1024 * 1024,
      minRetentionDays: opts.profile.retentionDays.value,
      incidents: opts.incidents,
      logger: log,
      storedBytes: () => this.ledger.storedBytes(),
      bytesPerSecond: () => [...this.recorder.bytesPerSecond().values()].reduce((a, b) => a + b, 0),
      onFull: (full) => this.recorder.setDiskFull(full),
    });
    this.holds = new EvidenceHolds(store);
    // The audit chain's head is signed on the same beat, with the same key.
    this.#checkpoints = new PeriodicTask(() => this.#checkpointAll(signer), log, 'chain checkpoint failed');
    this.#close = closeOnce(async () => {
      await this.#checkpoints.close();
      await this.sweeper.close();
      await this.disk.close();
      await this.recorder.close();
      await this.ledger.idle();
      await this.#checkpointAll(signer).catch((err: unknown) => this.opts.logger.error({ err }, 'chain checkpoint failed'));
      this.#events.removeAllListeners();
    });
  }

  async #checkpointAll(signer: ChainSigner): Promise<void> {
    await this.ledger.checkpointAll();
    await signAuditHead(this.opts.store, signer, new Date().toISOString());
  }

  /** Asks for a camera's ingest to restart; the returned function stops listening. */
  onRestartIngest(listener: (cameraId: string) => void): () => void {
    return this.#events.on('restartIngest', listener);
  }

  static async create(opts: RecordingSystemOptions & { dir: string }): Promise<RecordingSystem> {
    const signer = ChainSigner.loadOrCreate({
      dataDir: opts.dataDir,
      keyFile: opts.config.signingKeyFile,
      production: opts.production === true,
    });
    opts.logger.info(
      { fingerprint: signer.fingerprint, created: signer.created },
      `recording signing key ${signer.fingerprint}: pin it with recording.trustedKeys or psvgw verify --trust`,
    );
    // The installation key: the first key the store saw; entries and checkpoints naming no node are verified with it.
    const known = await opts.store.settings.get(PUBLIC_KEY_SETTING);
    if (known === undefined) await opts.store.settings.set(PUBLIC_KEY_SETTING, signer.publicPem());
    else if (known !== signer.publicPem() && opts.clustered !== true)
      opts.logger.error('recording signing key differs from the one recorded in the store: psvgw verify will report it');
    if (opts.node !== undefined) {
      const action = await registerNodeKey(opts.store, opts.node, signer, {
        singleNode: opts.clustered !== true,
        at: new Date().toISOString(),
      });
      opts.logger.info(
        { node: opts.node, fingerprint: signer.fingerprint, registration: action },
        `signing key of node ${opts.node}: ${action}`,
      );
    }
    return new RecordingSystem(opts, signer);
  }

  async start(): Promise<void> {
    const c = this.opts.config;
    // Summed before the recorder and the sweeper append, so the ledger's count stays exact.
    await this.ledger.storedBytes();
    await this.recorder.start();
    this.disk.start(c.diskCheckSeconds * 1000);
    this.sweeper.start(c.sweepSeconds * 1000);
    this.#checkpoints.start(c.checkpointSeconds * 1000);
  }

  /** The ingest's hook: where this run's segments go (null when recording is off or the disk is full). */
  prepareRun(cameraId: string): RecordingOutput | null {
    return this.opts.config.enabled ? this.recorder.prepareRun(cameraId) : null;
  }

  /** Resolves once the camera's segments recorded so far are indexed (before its lease is given up). */
  settled(cameraId: string): Promise<void> {
    return this.recorder.flush(cameraId);
  }

  onIngestChange(change: IngestChange): void {
    this.recorder.onIngestChange(change);
  }

  /** Gauges read at scrape time. */
  registerMetrics(registry: Registry): void {
    const registers = [registry];
    const disk = () => this.disk.status();
    new Gauge({
      name: 'psvgw_recording_forecast_retention_days',
      help: 'Days of footage the recordings disk holds at the measured bitrate (-1 before a rate is measured).',
      registers,
      collect() {
        this.set(disk()?.forecastDays ?? -1);
      },
    });
    new Gauge({
      name: 'psvgw_recording_disk_free_bytes',
      help: 'Free bytes on the file system of the recordings.',
      registers,
      collect() {
        this.set(disk()?.freeBytes ?? -1);
      },
    });
    new Gauge({
      name: 'psvgw_recording_disk_full',
      help: '1 while the recordings disk is full and nothing new is recorded, else 0.',
      registers,
      collect() {
        this.set(disk()?.full ? 1 : 0);
      },
    });
    const guard = this.clockGuard;
    new Gauge({
      name: 'psvgw_retention_paused',
      help: '1 while the retention sweeper deletes nothing because the clock is not trusted (clock_jump, NTP unsynchronised), else 0.',
      registers,
      collect() {
        this.set(guard.paused ? 1 : 0);
      },
    });
    const rates = () => this.recorder.bytesPerSecond();
    new Gauge({
      name: 'psvgw_recording_bytes_per_second',
      help: 'Measured recording rate of a camera (its last segment), in bytes per second.',
      labelNames: ['camera_id'],
      registers,
      collect() {
        this.reset();
        for (const [cameraId, bps] of rates()) this.set({ camera_id: cameraId }, bps);
      },
    });
  }

  /** After the pipelines: indexes the last partial segments, then signs the final heads. Idempotent. */
  close(): Promise<void> {
    return this.#close();
  }
}

/** Builds the recording system from the config and starts it (indexing what the last run left); close it after the pipelines. */
export async function startRecording(
  deps: Omit<RecordingSystemOptions, 'config' | 'ffprobePath'> & { config: GatewayConfig },
): Promise<RecordingSystem> {
  const { config, dataDir } = deps;
  const dir = recordingsDir({ ...config, dataDir });
  return startOrClose(
    await RecordingSystem.create({
      ...deps,
      config: config.recording,
      ffprobePath: config.ffmpeg.ffprobePath,
      dir,
      production: config.mode === 'production',
    }),
  );
}

/**
 * `PSVGW_TEST_PAUSE_AT=<step>` (crash tests) makes the recorder stop at that step of its
 * first segment; honoured only when NODE_ENV is `test`, so a production gateway ignores it.
 */
function testPause(): { pauseAt?: SegmentStep } {
  const step = process.env.PSVGW_TEST_PAUSE_AT;
  if (process.env.NODE_ENV !== 'test' || step === undefined || step === '') return {};
  if (!(SEGMENT_STEPS as readonly string[]).includes(step)) {
    throw new Error(`PSVGW_TEST_PAUSE_AT must be one of ${SEGMENT_STEPS.join(', ')} (got ${step})`);
  }
  return { pauseAt: step as SegmentStep };
}
