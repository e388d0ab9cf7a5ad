import { Gauge, type Registry } from 'prom-client';
import { cameraGauge } from '../metrics.js';
import { IMAGE_CHECKS } from './checks.js';
import type { ClockReading, NtpState } from './clock.js';
import type { CameraDiagnostics } from './diagnostics.js';

export interface DiagnosticsMetricsSources {
  diagnostics: () => CameraDiagnostics[];
  clockReadings: () => ReadonlyMap<string, ClockReading>;
  ntpState: () => NtpState;
}

/** Image and clock metrics, read at scrape time; labels are camera IDs and check names. */
export function registerDiagnosticsMetrics(registry: Registry, sources: DiagnosticsMetricsSources): void {
  const registers = [registry];
  new Gauge({
    name: 'psvgw_image_condition',
    help: 'Image check per camera: 1 while the condition (image_black, image_frozen, image_blurred, image_covered, scene_changed, image_too_dark) holds, else 0.',
    labelNames: ['camera_id', 'check'],
    registers,
    collect() {
      this.reset();
      for (const d of sources.diagnostics())
        for (const check of IMAGE_CHECKS) this.set({ camera_id: d.cameraId, check }, d.checks[check] ? 1 : 0);
    },
  });
  const figure = (name: string, help: string, pick: (d: CameraDiagnostics) => number | null | undefined) =>
    cameraGauge(registers, name, help, sources.diagnostics, pick);
  figure('psvgw_image_mean_luma', 'Mean luma (0-255) of the last sample.', (d) => d.figures?.mean);
  figure(
    'psvgw_image_sharpness_ratio',
    "Sharpness of the last sample relative to the camera's baseline (1 = as sharp as learned).",
    (d) => d.figures?.sharpnessRatio,
  );
  figure('psvgw_image_scene_similarity', 'Similarity of the view to the reference (1 = same view).', (d) => d.figures?.similarity);
  figure('psvgw_image_motion', 'Share of pixels that changed since the previous sample.', (d) => d.figures?.motion);
  new Gauge({
    name: 'psvgw_camera_clock_drift_seconds',
    help: 'Camera clock minus gateway clock at the last reading, in seconds.',
    labelNames: ['camera_id'],
    registers,
    collect() {
      this.reset();
      for (const [cameraId, r] of sources.clockReadings()) this.set({ camera_id: cameraId }, r.driftSeconds);
    },
  });
  new Gauge({
    name: 'psvgw_ntp_synchronized',
    help: "The gateway's own clock: 1 synchronised by NTP, 0 not, -1 unknown (no timedatectl or chronyc answer).",
    registers,
    collect() {
      const s = sources.ntpState();
      this.set(s === 'synchronized' ? 1 : s === 'unsynchronized' ? 0 : -1);
    },
  });
}
