import type { Logger } from '../../log.js';
import type { StreamSnapshot } from '../../pipeline/index.js';
import type { IncidentBoard } from '../incidents.js';
import { AnalysisWorker } from './analysisWorker.js';
import type { AnalyzerSettings, SampleFigures, SampleResult } from './analyzer.js';
import { IMAGE_CHECKS, type Baseline, type ImageCheck, type ImageThresholds } from './checks.js';
import { FrameSampler, type SamplerDeps, type SampleSize } from './sampler.js';

export interface DiagnosticsSettings extends SampleSize {
  learnSeconds: number;
  fireAfterSeconds: number;
  frozenAfterSeconds: number;
  clearAfterSeconds: number;
  thresholds: ImageThresholds;
}

/** Where baselines and per-camera thresholds are kept (the store's settings). */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface DiagnosticsDeps {
  settings: DiagnosticsSettings;
  supervision: SamplerDeps['supervision'];
  /** Internal play URL of a camera's raw tier. */
  rawTierUrl: (cameraId: string) => string;
  incidents: IncidentBoard;
  store: KeyValueStore;
  logger: Logger;
}

/** One camera's diagnostic state, as the API and the metrics show it. */
export interface CameraDiagnostics {
  cameraId: string;
  sampler: Pick<StreamSnapshot, 'state' | 'restarts' | 'lastError'>;
  /** Healthy seconds still needed to learn the baseline and reference view (0: learned). */
  learningSecondsLeft: number;
  baselineSharpness: number | null;
  /** When the last sample was analysed (ISO), or null before the first. */
  sampledAt: string | null;
  figures: SampleFigures | null;
  /** The debounced state of every check. */
  checks: Record<ImageCheck, boolean>;
  thresholds: ImageThresholds;
}

const MESSAGES: Record<ImageCheck, string> = {
  image_black: 'the image is black or blank',
  image_frozen: 'the image is frozen: frames arrive but the picture does not change',
  image_blurred: "the image is blurred: far less detail than the camera's baseline (focus lost?)",
  image_covered: 'the lens seems covered: dark, flat picture without detail',
  scene_changed: 'the scene changed: the view no longer matches the reference (camera turned or moved?)',
  image_too_dark: 'the image is too dark',
};

const noChecks = (): Record<ImageCheck, boolean> => Object.fromEntries(IMAGE_CHECKS.map((c) => [c, false])) as Record<ImageCheck, boolean>;
const baselineKey = (id: string) => `diagnostics.baseline.${id}`;
const thresholdsKey = (id: string) => `diagnostics.thresholds.${id}`;

interface CameraEntry {
  sampler: FrameSampler;
  overrides: Partial<ImageThresholds>;
  baseline: Baseline | null;
  last: SampleResult | null;
  sampledAt: string | null;
}

/**
 * Video-quality diagnostics of every live camera: a low-rate sampler on its raw tier, the
 * analysis in a worker thread, conditions turned into incidents (fire and resolve) and
 * kept for the API and metrics. Baselines and per-camera thresholds live in the store.
 */
export class Diagnostics {
  readonly #worker: AnalysisWorker;
  readonly #cameras = new Map<string, CameraEntry>();
  readonly #pending = new Map<string, Promise<CameraEntry>>();
  #closed = false;

  constructor(private readonly deps: DiagnosticsDeps) {
    this.#worker = new AnalysisWorker((id, result) => this.#onResult(id, result), deps.logger);
  }

  start(): void {
    this.#worker.start();
  }

  /** The camera's raw tier is live (again): sample it. */
  async ingestLive(cameraId: string): Promise<void> {
    if (this.#closed) return;
    const entry = this.#cameras.get(cameraId) ?? (await this.#open(cameraId));
    if (!this.#closed && this.#cameras.get(cameraId) === entry) entry.sampler.ingestLive();
  }

  /** The camera is gone or disabled: stop sampling and forget it (its incidents are resolved). */
  async removeCamera(cameraId: string, forget = false): Promise<void> {
    const entry = this.#cameras.get(cameraId) ?? (await this.#pending.get(cameraId));
    this.#cameras.delete(cameraId);
    this.#worker.remove(cameraId);
    for (const kind of IMAGE_CHECKS) this.deps.incidents.resolve(cameraId, kind);
    await entry?.sampler.close();
    if (forget) await Promise.all([this.deps.store.set(baselineKey(cameraId), ''), this.deps.store.set(thresholdsKey(cameraId), '')]);
  }

  state(cameraId: string): CameraDiagnostics | null {
    const e = this.#cameras.get(cameraId);
    if (!e) return null;
    const snap = e.sampler.snapshot();
    const learnLeft = e.baseline ? 0 : (e.last?.learningLeft ?? this.#analyzerSettings(e.overrides).learnSamples);
    return {
      cameraId,
      sampler: { state: snap.state, restarts: snap.restarts, lastError: snap.lastError },
      learningSecondsLeft: learnLeft / this.deps.settings.fps,
      baselineSharpness: e.baseline?.sharpness ?? null,
      sampledAt: e.sampledAt,
      figures: e.last?.figures ?? null,
      checks: e.last?.active ?? noChecks(),
      thresholds: this.#thresholds(e.overrides),
    };
  }

  states(): CameraDiagnostics[] {
    return [...this.#cameras.keys()].map((id) => this.state(id)).filter((s): s is CameraDiagnostics => s !== null);
  }

  /**
   * Takes a new reference view and sharpness baseline from the next healthy samples (the
   * camera was re-aimed or refocused on purpose). Blur, covered and scene-change incidents
   * resolve now and are judged again once learned.
   */
  async relearn(cameraId: string): Promise<CameraDiagnostics | null> {
    const e = this.#cameras.get(cameraId);
    if (!e) return null;
    e.baseline = null;
    e.last = null;
    await this.deps.store.set(baselineKey(cameraId), '');
    this.#worker.relearn(cameraId);
    for (const kind of ['image_blurred', 'image_covered', 'scene_changed'] as const) this.deps.incidents.resolve(cameraId, kind);
    return this.state(cameraId);
  }

  /** Replaces the camera's threshold overrides (empty: the configured defaults). */
  async setThresholds(cameraId: string, overrides: Partial<ImageThresholds>): Promise<CameraDiagnostics | null> {
    await this.deps.store.set(thresholdsKey(cameraId), Object.keys(overrides).length > 0 ? JSON.stringify(overrides) : '');
    const e = this.#cameras.get(cameraId);
    if (!e) return null;
    e.overrides = overrides;
    this.#worker.configure(cameraId, this.#analyzerSettings(overrides), e.baseline);
    return this.state(cameraId);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#pending.values()]);
    const all = [...this.#cameras.values()];
    this.#cameras.clear();
    await Promise.all(all.map((e) => e.sampler.close()));
    await this.#worker.close();
  }

  #open(cameraId: string): Promise<CameraEntry> {
    const pending = this.#pending.get(cameraId);
    if (pending) return pending;
    const opening = (async () => {
      const [baseline, overrides] = await Promise.all([
        this.#readJson<Baseline>(baselineKey(cameraId)),
        this.#readJson<Partial<ImageThresholds>>(thresholdsKey(cameraId)),
      ]);
      const entry: CameraEntry = {
        overrides: overrides ?? {},
        baseline,
        last: null,
        sampledAt: null,
        sampler: new FrameSampler({
          cameraId,
          sourceUrl: () => this.deps.rawTierUrl(cameraId),
          size: this.deps.settings,
          supervision: this.deps.supervision,
          onFrame: (pixels) => this.#worker.frame(cameraId, this.deps.settings.width, this.deps.settings.height, pixels),
          onRestart: () => this.#worker.gap(cameraId),
          logger: this.deps.logger.child({ cameraId }),
        }),
      };
      this.#worker.configure(cameraId, this.#analyzerSettings(entry.overrides), baseline);
      if (!this.#closed) this.#cameras.set(cameraId, entry);
      return entry;
    })().finally(() => this.#pending.delete(cameraId));
    this.#pending.set(cameraId, opening);
    return opening;
  }

  async #readJson<T>(key: string): Promise<T | null> {
    const text = await this.deps.store.get(key);
    if (!text) return null;
    try {
      return JSON.parse(text) as T;
    } catch {
      this.deps.logger.warn({ key }, 'unreadable diagnostics setting ignored');
      return null;
    }
  }

  #thresholds(overrides: Partial<ImageThresholds>): ImageThresholds {
    return { ...this.deps.settings.thresholds, ...overrides };
  }

  #analyzerSettings(overrides: Partial<ImageThresholds>): AnalyzerSettings {
    const s = this.deps.settings;
    const samples = (seconds: number) => Math.max(1, Math.ceil(seconds * s.fps));
    const fire = samples(s.fireAfterSeconds);
    return {
      thresholds: this.#thresholds(overrides),
      fireAfter: {
        ...(Object.fromEntries(IMAGE_CHECKS.map((c) => [c, fire])) as Record<ImageCheck, number>),
        image_frozen: samples(s.frozenAfterSeconds),
      },
      clearAfter: samples(s.clearAfterSeconds),
      learnSamples: samples(s.learnSeconds),
    };
  }

  #onResult(cameraId: string, result: SampleResult): void {
    const e = this.#cameras.get(cameraId);
    if (!e) return;
    e.last = result;
    e.sampledAt = new Date().toISOString();
    if (result.learned) {
      e.baseline = result.learned;
      this.deps.logger.info({ cameraId, sharpness: result.learned.sharpness }, 'diagnostics baseline and reference view learned');
      void this.deps.store
        .set(baselineKey(cameraId), JSON.stringify(result.learned))
        .catch((err: unknown) => this.deps.logger.error({ err, cameraId }, 'could not store the diagnostics baseline'));
    }
    for (const kind of IMAGE_CHECKS) {
      if (result.active[kind])
        this.deps.incidents.fire({ cameraId, kind, severity: 'warning', message: MESSAGES[kind], details: { ...result.figures } });
      else this.deps.incidents.resolve(cameraId, kind);
    }
  }
}
