import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { STREAM_STATES, type PipelineSnapshot } from '../pipeline/index.js';

/** What the metrics read at scrape time; each owner reports its own data. */
export interface MetricsSources {
  pipelines: () => PipelineSnapshot[];
  /** Cameras refused under the active profile (never started), by ID. */
  refused: () => ReadonlyMap<string, string>;
  /** External viewers per stream path `/tier/cameraId`. */
  viewers: () => ReadonlyMap<string, number>;
  /** Bits per second each published stream path receives (`/raw/cameraId` is the camera's own rate). */
  inboundBitrates: () => ReadonlyMap<string, number>;
  buildInfo: { version: string; ffmpegVersion: string; profile: string };
}

/**
 * Prometheus metrics, collected when scraped from the components that own the data.
 * Labels are stable IDs only (camera ID, tier, redacted push target): never a PID, a URL
 * with a secret, or anything that changes on restart.
 */
export function createMetricsRegistry(sources: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'psvgw_process_' });
  const registers = [registry];

  new Gauge({
    name: 'psvgw_build_info',
    help: 'Gateway version, ffmpeg version and jurisdiction profile (value is always 1).',
    labelNames: ['version', 'ffmpeg_version', 'profile'],
    registers,
    collect() {
      const b = sources.buildInfo;
      this.set({ version: b.version, ffmpeg_version: b.ffmpegVersion, profile: b.profile }, 1);
    },
  });

  perCameraGauge(registers, sources, 'psvgw_camera_up', '1 when the camera ingest is live (frames advancing), else 0.', (p) =>
    p.ingest.state === 'live' ? 1 : 0,
  );
  perCameraGauge(registers, sources, 'psvgw_camera_fps', 'Frames per second the ingest is writing.', (p) => p.ingest.fps);
  perCameraGauge(registers, sources, 'psvgw_camera_bitrate_bps', 'Bitrate the camera delivers (its raw tier), in bits per second.', (p) =>
    p.ingest.state === 'live' ? (sources.inboundBitrates().get(`/raw/${p.cameraId}`) ?? p.ingest.bitrateBps) : 0,
  );
  perCameraGauge(
    registers,
    sources,
    'psvgw_camera_last_frame_age_seconds',
    'Seconds since the ingest last wrote a new frame (-1 before the first frame).',
    (p) => (p.ingest.lastFrameAt === null ? -1 : (Date.now() - p.ingest.lastFrameAt) / 1000),
  );

  perCameraGauge(
    registers,
    sources,
    'psvgw_shared_tier_up',
    '1 when the shared tier carries live pictures (mirrored from a live ingest, or published by a live masking transcode), else 0.',
    (p) => (p.shared.up ? 1 : 0),
  );
  new Gauge({
    name: 'psvgw_masking_up',
    help: '1 when the masking transcode of a camera with privacy masks is live; 0 while it is down (its shared tier is then dark).',
    labelNames: ['camera_id'],
    registers,
    collect() {
      this.reset();
      for (const p of sources.pipelines())
        if (p.shared.mode === 'masked') this.set({ camera_id: p.cameraId }, p.shared.masking?.state === 'live' ? 1 : 0);
    },
  });

  new Gauge({
    name: 'psvgw_desensitize_up',
    help: "1 when a desensitized camera's shared tier hides faces and plates where detected; 0 while it hides the whole frame (detector dead, lagging or starting).",
    labelNames: ['camera_id'],
    registers,
    collect() {
      this.reset();
      for (const p of sources.pipelines()) if (p.shared.desensitize) this.set({ camera_id: p.cameraId }, p.shared.desensitize.up ? 1 : 0);
    },
  });

  new Gauge({
    name: 'psvgw_camera_state',
    help: 'Ingest state per camera: 1 for the current state, 0 for the others.',
    labelNames: ['camera_id', 'state'],
    registers,
    collect() {
      this.reset();
      const current = new Map<string, string>(sources.pipelines().map((p) => [p.cameraId, p.ingest.state]));
      for (const id of sources.refused().keys()) current.set(id, 'refused');
      for (const [cameraId, now] of current) {
        for (const state of STREAM_STATES) this.set({ camera_id: cameraId, state }, now === state ? 1 : 0);
      }
    },
  });

  snapshotCounter(
    registers,
    sources,
    'psvgw_camera_restarts_total',
    'Ingest restarts since the camera pipeline started.',
    (p) => p.ingest.restarts,
  );
  snapshotCounter(
    registers,
    sources,
    'psvgw_camera_stalls_total',
    'Times the ingest was found stalled (no new frames) and killed.',
    (p) => p.ingest.stalls,
  );

  new Gauge({
    name: 'psvgw_push_up',
    help: '1 when the push of the shared tier to a platform target is live.',
    labelNames: ['camera_id', 'target'],
    registers,
    collect() {
      this.reset();
      for (const p of sources.pipelines())
        for (const push of p.pushes) this.set({ camera_id: p.cameraId, target: push.target }, push.state === 'live' ? 1 : 0);
    },
  });

  new Counter({
    name: 'psvgw_push_restarts_total',
    help: 'Restarts of a platform push since the camera pipeline started.',
    labelNames: ['camera_id', 'target'],
    registers,
    collect() {
      this.reset();
      for (const p of sources.pipelines())
        for (const push of p.pushes) this.inc({ camera_id: p.cameraId, target: push.target }, push.restarts);
    },
  });

  new Gauge({
    name: 'psvgw_stream_viewers',
    help: 'Viewers currently playing a camera tier (HTTP-FLV, WS-FLV, RTMP).',
    labelNames: ['camera_id', 'tier'],
    registers,
    collect() {
      this.reset();
      for (const [path, count] of sources.viewers()) {
        const [, tier, cameraId] = path.split('/');
        if (tier && cameraId) this.set({ camera_id: cameraId, tier }, count);
      }
    },
  });

  return registry;
}

function perCameraGauge(
  registers: Registry[],
  sources: MetricsSources,
  name: string,
  help: string,
  value: (p: PipelineSnapshot) => number,
): void {
  cameraGauge(registers, name, help, () => sources.pipelines(), value);
}

/** A gauge labelled by camera ID, read at scrape time from `items`; a null value leaves the camera out. */
export function cameraGauge<T extends { cameraId: string }>(
  registers: Registry[],
  name: string,
  help: string,
  items: () => readonly T[],
  value: (item: T) => number | null | undefined,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['camera_id'],
    registers,
    collect() {
      this.reset();
      for (const item of items()) {
        const v = value(item);
        if (v !== null && v !== undefined) this.set({ camera_id: item.cameraId }, v);
      }
    },
  });
}

/** Counters whose truth lives in the supervisors; rebuilt from them at each scrape. */
function snapshotCounter(
  registers: Registry[],
  sources: MetricsSources,
  name: string,
  help: string,
  value: (p: PipelineSnapshot) => number,
): void {
  new Counter({
    name,
    help,
    labelNames: ['camera_id'],
    registers,
    collect() {
      this.reset();
      for (const p of sources.pipelines()) this.inc({ camera_id: p.cameraId }, value(p));
    },
  });
}
