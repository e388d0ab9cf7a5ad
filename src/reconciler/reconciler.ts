import type { CameraCredentials, CameraRecord } from '../domain/index.js';
import { withCredentials, type CameraEvents } from '../cameras/index.js';
import { startOrClose } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { CameraSource } from '../pipeline/index.js';
import type { SiteVerdict } from '../privacy/index.js';

/** The registry's change events (CameraRegistry fits). */
export interface CameraChanges {
  on<K extends keyof CameraEvents>(event: K, listener: (...args: CameraEvents[K]) => unknown): () => void;
}

/** What the reconciler asks of the pipelines (PipelineManager fits). */
export interface PipelineControl {
  apply(camera: CameraSource): Promise<void>;
  refuse(cameraId: string, reason: string): Promise<void>;
  remove(cameraId: string): Promise<void>;
}

/** The active incidents (IncidentBoard fits). */
export interface CameraIncidents {
  active(): ReadonlyArray<{ cameraId: string | null }>;
  resolveCamera(cameraId: string): unknown;
}

/** The image diagnostics and clock watch of a camera (the diagnostics' parts fit). */
export interface CameraDiagnostics {
  /** The camera no longer runs here: stop sampling it, keep what was learnt. */
  stopCamera(cameraId: string): Promise<void>;
  /** The camera is gone: stop and forget its baseline, thresholds and clock readings. */
  forgetCamera(cameraId: string): Promise<void>;
}

/** Which cameras this gateway runs; cluster mode replaces it. */
export type OwnerRule = (camera: CameraRecord) => boolean;

/** Every camera runs here. */
export const ownsEveryCamera: OwnerRule = () => true;

export interface ReconcilerDeps {
  /** Every registered camera, for the start-up sync. */
  listCameras: () => Promise<CameraRecord[]>;
  /** One camera as stored now; undefined when unknown. */
  getCamera: (cameraId: string) => Promise<CameraRecord | undefined>;
  changes: CameraChanges;
  credentialsOf: (camera: CameraRecord) => CameraCredentials | null;
  /** The sub stream chosen for the shared tier (ONVIF onboarding), null: derived from the raw tier. */
  subStreamOf: (camera: CameraRecord) => Promise<string | null>;
  /** The site check under the active profile. */
  checkSite: (siteType: string) => SiteVerdict;
  /** Platform push targets every camera has besides its own. */
  pushTargets: readonly string[];
  pipelines: PipelineControl;
  incidents: CameraIncidents;
  diagnostics: CameraDiagnostics;
  /** Default: every camera runs here. */
  owns?: OwnerRule;
  logger: Logger;
}

const inService = (camera: CameraRecord) => camera.enabled && camera.removedAt === null;

/**
 * Keeps the pipelines in line with the registered cameras: the start-up sync, then every
 * registry change. A camera out of service, or not this gateway's by the owner rule, is
 * stopped and its incidents end; a camera at a site forbidden under the active profile
 * is refused; any other runs with its credentials, pushes and chosen sub stream.
 */
export class CameraReconciler {
  readonly #deps: ReconcilerDeps;
  readonly #owns: OwnerRule;
  readonly #unsubscribe: Array<() => void> = [];
  readonly #pending = new Set<Promise<void>>();
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
    this.#owns = deps.owns ?? ownsEveryCamera;
  }

  /** Follows the registry's changes and runs the start-up sync; resolves when that sync is done. */
  async start(): Promise<void> {
    const { changes, incidents, diagnostics, pipelines } = this.#deps;
    this.#unsubscribe.push(
      changes.on('created', (camera) => this.#track(this.reconcile(camera))),
      changes.on('updated', (camera) => {
        // A camera taken out of service is not down: its incidents end with it.
        if (!inService(camera)) incidents.resolveCamera(camera.id);
        this.#track(this.reconcile(camera));
      }),
      changes.on('removed', (camera) => {
        this.#track(diagnostics.forgetCamera(camera.id));
        incidents.resolveCamera(camera.id);
        this.#track(pipelines.remove(camera.id));
      }),
    );
    const cameras = await this.#deps.listCameras();
    for (const camera of cameras) await this.reconcile(camera);
    // An outage left open by the last run ends when its camera is gone, out of service or not run here.
    const running = new Set(cameras.filter((c) => inService(c) && this.#owns(c)).map((c) => c.id));
    for (const i of incidents.active()) if (i.cameraId !== null && !running.has(i.cameraId)) incidents.resolveCamera(i.cameraId);
  }

  /** Reloads one camera and applies it (e.g. once its ONVIF profile choice is stored). */
  async refresh(cameraId: string): Promise<void> {
    const camera = await this.#deps.getCamera(cameraId);
    if (camera !== undefined) await this.reconcile(camera);
  }

  /** Brings one camera's pipeline in line with its record. */
  async reconcile(camera: CameraRecord): Promise<void> {
    if (this.#closed) return;
    const { pipelines, diagnostics, incidents } = this.#deps;
    if (!inService(camera)) {
      await diagnostics.stopCamera(camera.id);
      return pipelines.remove(camera.id);
    }
    if (!this.#owns(camera)) {
      incidents.resolveCamera(camera.id);
      await diagnostics.stopCamera(camera.id);
      return pipelines.remove(camera.id);
    }
    // The profile may have changed since the camera was registered: check the site again.
    const verdict = this.#deps.checkSite(camera.siteType);
    if (verdict.forbidden) {
      this.#deps.logger.error(
        { cameraId: camera.id, siteType: camera.siteType, citations: verdict.citations },
        'camera refused: forbidden site under the active profile',
      );
      return pipelines.refuse(camera.id, verdict.message ?? 'forbidden site type');
    }
    const pushTargets = [...new Set([...this.#deps.pushTargets, ...camera.pushTargets])];
    const credentials = this.#deps.credentialsOf(camera);
    const subStream = await this.#deps.subStreamOf(camera);
    return pipelines.apply({
      id: camera.id,
      sourceUrl: withCredentials(camera.rtspUrl, credentials),
      pushTargets,
      shared: { masks: camera.masks, version: camera.masksVersion, encoder: camera.sharedEncoder, desensitize: camera.desensitize },
      ...(subStream === null ? {} : { sharedSourceUrl: withCredentials(subStream, credentials) }),
    });
  }

  /** Stops following the registry and waits for the changes under way; idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      this.#closed = true;
      for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
      await Promise.all([...this.#pending]);
    })());
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => this.#deps.logger.error({ err }, 'could not apply a camera change to its pipeline'));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}

/** Builds the reconciler and runs the start-up sync; resolves once the first reconciliation is done. */
export async function startReconciler(deps: ReconcilerDeps): Promise<CameraReconciler> {
  return startOrClose(new CameraReconciler(deps));
}
