import { SafeEmitter } from '../events.js';
import type { Logger } from '../log.js';
import {
  CameraPipeline,
  type CameraSource,
  type PipelineSettings,
  type PipelineSnapshot,
  type PipelineStateChange,
  type DesensitizeChange,
} from './cameraPipeline.js';
import type { Prober, TierEndpoints } from './tiers.js';

export interface PipelineEvents extends Record<string, unknown[]> {
  state: [change: PipelineStateChange];
  desensitize: [change: DesensitizeChange];
}

/**
 * Owns every camera's pipeline: starts, replaces on change, stops, and reports. Its state
 * events reach every listener even when one of them throws.
 */
export class PipelineManager {
  private readonly pipelines = new Map<string, CameraPipeline>();
  private readonly refused = new Map<string, string>();
  /** Changes to one camera are applied one after another, never interleaved. */
  private readonly queues = new Map<string, Promise<void>>();
  private closed = false;
  readonly #events: SafeEmitter<PipelineEvents>;

  constructor(private readonly deps: { settings: PipelineSettings; media: TierEndpoints; probe: Prober; logger: Logger }) {
    this.#events = new SafeEmitter<PipelineEvents>(deps.logger);
  }

  /** Adds a listener of every pipeline's state changes; the returned function removes it. */
  on<K extends keyof PipelineEvents>(event: K, listener: (...args: PipelineEvents[K]) => unknown): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof PipelineEvents>(event: K, listener: (...args: PipelineEvents[K]) => unknown): void {
    this.#events.off(event, listener);
  }

  /** Starts the camera, or restarts it when what it pulls or pushes changed. */
  apply(camera: CameraSource): Promise<void> {
    return this.serialize(camera.id, async () => {
      if (this.closed) return;
      const current = this.pipelines.get(camera.id);
      // A change of masks, shared-tier encoding or sub stream alone is applied in place: the ingest and the raw tier run on.
      if (current && sameSource(current.camera, camera)) return current.updateShared(camera.shared, camera.sharedSourceUrl);
      await this.stopPipeline(camera.id);
      const pipeline = new CameraPipeline(camera, this.deps);
      pipeline.on('state', (change) => this.#events.emit('state', change));
      pipeline.on('desensitize', (change) => this.#events.emit('desensitize', change));
      this.pipelines.set(camera.id, pipeline);
      pipeline.start();
    });
  }

  /** A camera that must not run (e.g. its site is forbidden under the active profile). */
  refuse(cameraId: string, reason: string): Promise<void> {
    return this.serialize(cameraId, async () => {
      await this.stopPipeline(cameraId);
      this.refused.set(cameraId, reason);
    });
  }

  remove(cameraId: string): Promise<void> {
    return this.serialize(cameraId, () => this.stopPipeline(cameraId));
  }

  private async stopPipeline(cameraId: string): Promise<void> {
    this.refused.delete(cameraId);
    const pipeline = this.pipelines.get(cameraId);
    if (!pipeline) return;
    this.pipelines.delete(cameraId);
    await pipeline.close();
    if (pipeline.camera.shared.desensitize) this.#events.emit('desensitize', { cameraId, up: null, reason: null });
  }

  private serialize(cameraId: string, task: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(cameraId) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.queues.set(cameraId, settled);
    void settled.then(() => {
      if (this.queues.get(cameraId) === settled) this.queues.delete(cameraId);
    });
    return next;
  }

  restartIngest(cameraId: string): void {
    this.pipelines.get(cameraId)?.restartIngest();
  }

  /** Stops a demo camera's source for `seconds`; false when no demo camera runs under that id. */
  demoOutage(cameraId: string, seconds: number): boolean {
    return this.pipelines.get(cameraId)?.demoOutage(seconds) ?? false;
  }

  snapshot(cameraId: string): PipelineSnapshot | undefined {
    return this.pipelines.get(cameraId)?.snapshot();
  }

  snapshots(): PipelineSnapshot[] {
    return [...this.pipelines.values()].map((p) => p.snapshot());
  }

  refusedCameras(): ReadonlyMap<string, string> {
    return this.refused;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()]);
    const all = [...this.pipelines.values()];
    this.pipelines.clear();
    await Promise.all(all.map((p) => p.close()));
  }
}

function sameSource(a: CameraSource, b: CameraSource): boolean {
  return a.sourceUrl === b.sourceUrl && a.pushTargets.join('\n') === b.pushTargets.join('\n');
}
