import type { CameraOptions } from './camera.js';

/** The parts of a run; `--only` picks some. */
export const PHASES = [
  'live',
  'relay',
  'recording',
  'masked',
  'alerts',
  'diagnostics',
  'durability',
  'export',
  'policy',
  'gb28181',
  'console',
  'store',
  'desensitize',
  'scale',
  'soak',
  'cluster',
  'clusterFailover',
] as const;
export type Phase = (typeof PHASES)[number];
/** Phases that run only when named with --only: they take many minutes (cluster also needs PostgreSQL). */
export const ON_REQUEST_PHASES: readonly Phase[] = ['scale', 'soak', 'cluster', 'clusterFailover'];

/** What one run measures and for how long. */
export interface BenchOptions {
  quick: boolean;
  /** Phases to run (all by default). */
  phases: ReadonlySet<Phase>;
  /** Cameras of the multi-camera case. */
  cameras: number;
  /**
   * Copy-mode streams of the large case (0: none): pulled round-robin from the `cameras`
   * test cameras, whose RTSP media is shared (one encoder per test camera, whatever the pulls).
   */
  largeCameras: number;
  /** Windows of the large case measured side by side with bare ffmpeg (the verdict's figure: their median). */
  pairedWindows: number;
  camera: CameraOptions;
  /** Length of each CPU/memory window, and the settling time before it. */
  cpuWindowSeconds: number;
  warmupSeconds: number;
  /** How long frames are matched for the latency figure; the first seconds of each viewer are left out. */
  latencySeconds: number;
  latencyWarmupMs: number;
  firstFrameRequests: number;
  /** Kill → restart trials per ingest; frozen-camera trials of the gateway. */
  recoveryTrials: number;
  freezeTrials: number;
  /** Camera dark → webhook alert trials. */
  alertTrials: number;
  /** How long a killed camera stays off before it is started again. */
  cameraOffMs: number;
  /** Initial reconnect delay given to the node-media-server relay (the gateway's default backoff.initialMs). */
  relayReconnectMs: number;
  /** The camera of the privacy-mask figure (720p25, as the masking question is asked). */
  maskedCamera: CameraOptions;
  /** Cameras-per-core sweep: K bare masking transcodes of a looped file pinned to one core. */
  sweep: {
    fileSeconds: number;
    warmupSeconds: number;
    windowSeconds: number;
    /** Lowest output rate / real time that counts as keeping up. */
    threshold: number;
    maxK: number;
    /** The sweep stops before a step that would end past this. */
    budgetSeconds: number;
  };
  /** The scale phase: fleet cameras through one gateway (steps down when they do not fit). */
  scale: { cameras: number; windowSeconds: number };
  /** The soak phase: fleet cameras through one gateway for `minutes`, sampled every `sampleSeconds`. */
  soak: { cameras: number; minutes: number; sampleSeconds: number };
}

const USAGE = `usage: npm run bench [-- --quick] [-- --cameras N] [-- --only PHASE,...]
  --quick       short windows and one trial each (CI smoke run); env PSVGW_BENCH_QUICK=1
  --only LIST   run only these phases: ${PHASES.join(', ')} (live = bare ffmpeg baselines and the
                gateway's copy, H.265, latency and recovery figures; alerts = detection delay;
                durability = SQLite synchronous=FULL vs NORMAL per indexed segment;
                export = a watermarked 10-minute 720p export against bare ffmpeg; policy = the access
                policy's cost per API call and per play check vs bypassed, audit appends per second;
                gb28181 = CPU per GB/T 28181 live session vs ffmpeg -f mpeg, start to first RTP, sessions sustained;
                console = a 16-tile wall of the web console in headless Chromium: browser CPU, gateway CPU per
                viewer, tile latency vs a direct reader, first load, bundle size; --cameras distinct cameras;
                store = event-loop lag p99 with and without psvgw verify, SQLite on its thread and on the loop;
                desensitize = face detection latency and CPU per camera at 640x360 and 1280x720;
                scale and soak run only when named: scale = N fleet cameras with recording and viewers, lag and
                API latency, also with psvgw verify running; soak = CPU and memory over --minutes;
                cluster = lease renewal load on PostgreSQL per 1,000 cameras, largest camera count sustained;
                clusterFailover = failover p50/p95 over kill -9s of one of three real gateways)
  --cameras N   cameras in the multi-camera case (default 4, 640x360 H.264 at 25 fps, ~2 Mbit/s); env PSVGW_BENCH_CAMERAS
  --large-cameras N  copy-mode cameras of the large case of the live phase (default 16, 0: none), pulled
                round-robin from the test cameras above; env PSVGW_BENCH_LARGE_CAMERAS
  --scale-cameras N  cameras of the scale phase (default 200; steps down when they do not fit)
  --soak-cameras K   cameras of the soak phase (default 20)
  --minutes M        length of the soak phase (default 60)`;

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  let quick = env.PSVGW_BENCH_QUICK === '1' || env.PSVGW_BENCH_QUICK === 'true';
  let cameras = env.PSVGW_BENCH_CAMERAS ? Number(env.PSVGW_BENCH_CAMERAS) : 4;
  let largeCameras = env.PSVGW_BENCH_LARGE_CAMERAS ? Number(env.PSVGW_BENCH_LARGE_CAMERAS) : 16;
  let phases = new Set<Phase>(PHASES.filter((p) => !ON_REQUEST_PHASES.includes(p)));
  let scaleCameras = 200;
  let soakCameras = 20;
  let minutes = 60;
  const numberArg = (a: string, i: number): [number, number] =>
    a.includes('=') ? [Number(a.slice(a.indexOf('=') + 1)), i] : [Number(argv[i + 1]), i + 1];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') quick = true;
    else if (a === '--cameras' || a.startsWith('--cameras=')) {
      cameras = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    } else if (a === '--large-cameras' || a.startsWith('--large-cameras=')) {
      largeCameras = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
    } else if (a === '--only' || a.startsWith('--only=')) {
      phases = parsePhases(a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[++i] ?? ''));
    } else if (a === '--scale-cameras' || a.startsWith('--scale-cameras=')) {
      [scaleCameras, i] = numberArg(a, i);
    } else if (a === '--soak-cameras' || a.startsWith('--soak-cameras=')) {
      [soakCameras, i] = numberArg(a, i);
    } else if (a === '--minutes' || a.startsWith('--minutes=')) {
      [minutes, i] = numberArg(a, i);
    } else if (a === '--help' || a === '-h') {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      throw new Error(`unknown argument "${a}"\n${USAGE}`);
    }
  }
  if (!Number.isInteger(cameras) || cameras < 2 || cameras > 32) throw new Error(`--cameras must be an integer from 2 to 32\n${USAGE}`);
  if (!Number.isInteger(largeCameras) || largeCameras < 0 || largeCameras > 64)
    throw new Error(`--large-cameras must be an integer from 0 to 64\n${USAGE}`);
  if (!Number.isInteger(scaleCameras) || scaleCameras < 1 || scaleCameras > 1000)
    throw new Error(`--scale-cameras must be an integer from 1 to 1000\n${USAGE}`);
  if (!Number.isInteger(soakCameras) || soakCameras < 1 || soakCameras > 1000)
    throw new Error(`--soak-cameras must be an integer from 1 to 1000\n${USAGE}`);
  if (!Number.isFinite(minutes) || minutes < 1 || minutes > 24 * 60) throw new Error(`--minutes must be a number from 1 to 1440\n${USAGE}`);
  return {
    quick,
    phases,
    cameras,
    // A large case no larger than the multi-camera case measures nothing new.
    largeCameras: largeCameras > cameras ? largeCameras : 0,
    pairedWindows: quick ? 1 : 3,
    camera: { codec: 'h264', width: 640, height: 360, fps: 25, pattern: 'snow' },
    cpuWindowSeconds: quick ? 5 : 15,
    warmupSeconds: quick ? 2 : 3,
    latencySeconds: quick ? 6 : 15,
    latencyWarmupMs: 2000,
    firstFrameRequests: quick ? 5 : 10,
    recoveryTrials: quick ? 1 : 3,
    freezeTrials: quick ? 1 : 3,
    alertTrials: quick ? 3 : 10,
    cameraOffMs: 2000,
    relayReconnectMs: 500,
    maskedCamera: { codec: 'h264', width: 1280, height: 720, fps: 25, pattern: 'snow' },
    sweep: {
      fileSeconds: 10,
      warmupSeconds: quick ? 1.5 : 2,
      windowSeconds: quick ? 4 : 8,
      threshold: 0.98,
      maxK: 8,
      budgetSeconds: quick ? 20 : 45,
    },
    scale: { cameras: scaleCameras, windowSeconds: quick ? 10 : 30 },
    soak: { cameras: soakCameras, minutes, sampleSeconds: 10 },
  };
}

function parsePhases(list: string): Set<Phase> {
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => !(PHASES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(
      `--only takes a comma-separated list of ${PHASES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}\n${USAGE}`,
    );
  return new Set(names as Phase[]);
}
