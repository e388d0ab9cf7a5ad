/**
 * `npm run bench`: measures the gateway against baselines taken in the same run and
 * prints one JSON document on stdout (progress goes to stderr). See bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { VERSION } from '../src/version.js';
import { STALL_LEARN_MS } from '../src/pipeline/index.js';
import { bareRecovery, measureBareIngest, roundRobin, SINK } from './bareFfmpeg.js';
import { BenchCamera } from './camera.js';
import { stopAllChildren } from './children.js';
import { alertPhase } from './alertPhase.js';
import { requireConsoleTools } from './consoleBrowser.js';
import { consolePhase, consoleVerdicts, type ConsoleResults } from './consolePhase.js';
import { diagnosticsPhase, type DiagnosticsResults } from './diagnosticsPhase.js';
import { measureDesensitizedCameras, measureDetector, type DesensitizedCameraFigures, type DetectorFigures } from './desensitizePhase.js';
import { durabilityPhase, type DurabilityResults } from './durabilityPhase.js';
import { storePhase, type StoreLagResults } from './storePhase.js';
import { clusterFailoverPhase, type ClusterFailoverResults } from './clusterFailover.js';
import { clusterPhase, type ClusterResults } from './clusterPhase.js';
import { exportPhase, type ExportResults } from './exportPhase.js';
import { gatewayPhase } from './gatewayPhase.js';
import { gbPhase, type GbResults } from './gbPhase.js';
import { BENCH_MASKS, maskedPhase } from './maskedPhase.js';
import { parseOptions, type BenchOptions, type Phase } from './options.js';
import { policyPhase, type PolicyResults } from './policyPhase.js';
import { machineInfo } from './procstat.js';
import { attempt, elapsedSeconds, progress } from './progress.js';
import { recordingPhase } from './recordingPhase.js';
import { relayPhase } from './relayPhase.js';
import { buildFigures, verdicts, type RunResults } from './report.js';
import { scalePhase, type ScaleResults } from './scalePhase.js';
import { soakPhase, type SoakResults } from './soakPhase.js';

const GST_HINT =
  'apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav';

function checkTools(): { ffmpeg: string } {
  const ff = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
  if (ff.error || ff.status !== 0) throw new Error('ffmpeg is required on PATH. Install it with: apt-get install -y ffmpeg');
  const gst = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer'],
    { encoding: 'utf8' },
  );
  if (gst.error || gst.status !== 0)
    throw new Error(`The test cameras need /usr/bin/python3 with GStreamer's RTSP server. Install them with: ${GST_HINT}`);
  return { ffmpeg: (ff.stdout.split('\n')[0] ?? '').replace(/^ffmpeg version /, '').split(' ')[0] ?? 'unknown' };
}

function method(o: BenchOptions) {
  const c = o.camera;
  return {
    cameras: `${o.cameras} GStreamer RTSP test cameras (tests/fixtures/rtsp_camera.py), ${c.width}x${c.height} H.264 at ${c.fps} fps, 1 s GOP, videotestsrc pattern ${c.pattern} so that x264 reaches its default 2 Mbit/s as a real camera would (the moving ball compresses to ~0.14 Mbit/s), on loopback; one more as H.265 for the H.265 figure`,
    cpu: `user+sys ticks of the process tree (the gateway's node process and its ffmpeg children; the relay process; the bare ffmpegs) over ${o.cpuWindowSeconds} s windows after ${o.warmupSeconds} s of settling, in % of one core; camera processes are not counted`,
    net: 'gateway/relay CPU minus the same process idle with 0 cameras, measured in the same run',
    baselineCopy: `bare ffmpeg running the gateway's own ingest argv (src/pipeline/ingestArgs.ts: RTSP over TCP, -c copy, tee to the FLV muxer with flush_packets=1: one write per packet, as a live reader needs, which a file target would otherwise collect into 256 KiB writes; -progress) with its live output (FLV to the media server's fan-out on fd 3) replaced by ${SINK}: the same pull and muxing, no delivery and no media server; the large case (${o.largeCameras || 'off'}) pulls that many streams round-robin from the ${o.cameras} test cameras, gateway and baseline alike`,
    baselineTranscode: `the same for the H.265 camera: the gateway's own argv (libx264 transcode for the live tiers) writing to ${SINK}`,
    memory:
      'RSS counts shared library pages in every process; USS counts only private pages (what one more camera really adds); per camera = growth of the main process per camera + one ingest process',
    latencyWire:
      'frames fingerprinted by the md5 of their H.264 slice NAL units: arrival of the RTP marker packet at a direct RTSP client vs arrival of the FLV tag at an HTTP-FLV / WS-FLV viewer; no decoder or demuxer buffering on either side',
    latencyDecoded: `ffmpeg decoding the camera directly vs ffmpeg decoding the viewer's stream (frame md5s, -threads 1, same options), both time-stamped per frame as lines arrive; the first ${o.latencyWarmupMs} ms of each viewer (GOP-cache burst) are left out`,
    firstFrame:
      'a new viewer per request: from the request going out on a fresh loopback connection to a video sequence header and then a keyframe parsed with src/media/flv.ts',
    recovery: `camera SIGKILLed (power loss), kept off ${o.cameraOffMs} ms, started again on its port; times from the kill to psvgw_camera_up 0 and from the camera's READY line to psvgw_camera_up 1 (polled every 25 ms); frozen camera (${o.freezeTrials} trials): SIGSTOP with sockets open, once the ingest's run has streamed past the stall judge's learning period (${STALL_LEARN_MS / 1000} s: the frame interval is known); baseline: a bare ffmpeg reader started at READY, to its first frame`,
    rtpGap:
      'afterOneRtpSequenceGap: a second RTSP client joins the shared test camera, which then skips one RTP sequence number on the connections already open; video frames per second at a viewer over 2 s before and 3 s after',
    detectionDelay: `one ${o.camera.fps} fps 320x180 camera, a gateway with one signed webhook target (alerts.webhooks) pointing at a real HTTP receiver in the bench process (bench/webhookReceiver.ts); ${o.alertTrials} trials: camera SIGKILLed, time to the camera_down firing request arriving at the receiver; camera back after 1000 ms, from its READY line to the resolved request; one frozen-camera trial (SIGSTOP: ingest.stallSeconds, 3 s, comes first), and from its SIGCONT to the resolved request`,
    masked: `one ${o.maskedCamera.width}x${o.maskedCamera.height} ${o.maskedCamera.fps} fps camera (pattern ${o.maskedCamera.pattern}) with a blurred rectangle and a mosaicked polygon; the masking transcode's CPU = gateway tree with the masks minus the same camera in copy mode (masks PATCHed on, same ingest); baseline: bare ffmpeg running the gateway's masking argv (buildMaskingArgs with planMasks' filter graph and mask images, the default privacy.sharedEncoder) on the camera's RTSP stream with the ingest's RTSP options, writing FLV to ${SINK}; the camera process is not counted`,
    camerasPerCore: `computed: floor(100 / masking transcode % of one core); empirical: K bare masking transcodes of a looped ${o.maskedCamera.height}p${o.maskedCamera.fps} H.264 file (-re -stream_loop -1, same argv otherwise) pinned to one core with taskset, K = 1, 2, … (at most ${o.sweep.maxK}, ${o.sweep.budgetSeconds} s in all), each for ${o.sweep.windowSeconds} s; the largest K whose every process outputs ≥ ${o.sweep.threshold}× real time`,
    durability: `${o.quick ? 200 : 1000} chain appends (what the recorder writes per segment: the head read and the entry insert in one transaction) on a temp SQLite file in WAL mode with synchronous=NORMAL, then the same with FULL, after a warm-up of each; the temp directory is PSVGW_BENCH_DB_DIR or the system's; no media files`,
    diagnostics: `one ${c.width}x${c.height} ${c.fps} fps camera (pattern ${c.pattern}) through a gateway with diagnostics off, then one with the defaults (sampler ffmpeg on the raw tier: 2 fps, 160x90 grey, one decoder thread; analysis in a worker thread); net = tree CPU with minus without over ${o.cpuWindowSeconds} s windows; samplerFfmpeg = the ffmpeg processes' CPU with minus without; node = the gateway process with minus without`,
    recording: `gateway with recording on (segment output of the ingest tee, ${10} s MPEG-TS segments, each checked with ffprobe, hashed and indexed) minus the same ${o.cameras} cameras through the gateway with recording off, per camera; baseline: bare \`ffmpeg -rtsp_transport tcp -i URL -map 0:v:0 -c copy -f segment -segment_time 10 -segment_format mpegts\` per camera; verify: \`psvgw verify --json\` (a process as users run it), the same with \`--witness DIR\` (one witnessed checkpoint per 8 segments), and \`sha256sum\` over the same files (random 2 MiB segments indexed through the chain ledger), page cache warm for both`,
    export: `${o.quick ? 60 : 600} s of 1280x720 25 fps testsrc2 footage in 10 s MPEG-TS segments indexed in a temp recording chain; the gateway's export job (src/exports ExportService: segment hashes checked, ffmpeg cut + drawtext watermark + libx264 veryfast MP4 with faststart, ffprobe check, SHA-256, signed manifest) against bare ffmpeg running the same clipArgs (same segments, cut and drawtext filter); wall time and CPU seconds of the bench process and its waited-for children (user+sys incl. cutime/cstime)`,
    policy: `a real express app on loopback (keep-alive, one socket) with a GET route behind permit() and the same route without it, called alternately ${o.quick ? 2000 : 20_000} times each after a warm-up (authentication is a fixed principal in both, so only the policy differs); the footage route (permit('recorded.view')) reads the caller's 20 approved requests from a SQLite store and decides, as the recordings list does; the play check is verifyPlayToken + refusalOf on the in-memory ActiveRequests vs verifyPlayToken alone, timed in batches of 100 (${o.quick ? 20_000 : 200_000} checks); audit appends: store.audit.append (hash chain, one transaction each) on a temp SQLite file, ${o.quick ? 500 : 5000} in a row and ${o.quick ? 500 : 5000} from 8 concurrent callers`,
    gb28181: `a gateway with one ${c.width}x${c.height} ${c.fps} fps H.264 test camera; GB/T 28181 live sessions in a process of their own (bench/gbSenders.ts) read its shared tier (HTTP-FLV, as a session does) and send over loopback UDP to a receiver in the bench process; gateway: the gateway's LiveSender (ffmpeg reader copying Annex B, PS muxing and RTP in Node); baseline: ffmpeg -c copy -f mpeg (MPEG-PS) from the same URL piped to a minimal RTP sender (fixed-size payloads, the same packetizer); CPU = user+sys of the senders' process tree and the gateway's over ${o.quick ? 3 : 5} s windows minus the same with no session (so the media server serving each session counts); sessions stepped up (${o.quick ? '1, 4, 8' : '1, 2, 4 … 64'}, ${o.quick ? 30 : 120} s budget) until > 0.5 % packets lost, < 90 % of the frame rate received, the Node processes over 90 % of a core or the machine over 90 %; startToFirstPacket = sessions started one at a time with none running, from the session's start (what the ACK does: prepare and start; the SIP exchange itself is left out) to its first packet at the receiver; copies: the live path in process over 3 s of the camera's Annex B against four Buffer.concat copies of each frame, CPU time`,
    console: `a gateway with ${Math.min(o.cameras, 16)} of the cameras above (every fourth from the first started with the fixture's --scene-control), each tiled ${16 / Math.min(o.cameras, 16)} times on a saved 16-tile wall of a user with the operator role; headless Debian Chromium (/usr/bin/chromium, the console tests' flags) at 1920x1080 logged in through the login form, each tile WS-FLV through mpegts.js as the console plays it; browser CPU = user+sys ticks of every Chromium process over ${o.cpuWindowSeconds} s with the wall playing; gateway added CPU per viewer = (gateway tree with the wall playing − the same with no viewer) / 16; tiles playing = video currentTime advancing over the window; tile latency = the scene cameras switched to black and back every 1.5 s for ${o.cpuWindowSeconds} s, each of their tiles' first presented frame (requestVideoFrameCallback, 32x18 mean brightness) of the new scene minus the camera's direct ffmpeg reader's (RTSP, 32x18 grey, one thread, no buffering) first decoded frame of it; first load = a fresh browser context (empty cache) with the session's cookies opening /wall, navigation start to every tile of the saved wall in the page (and to every tile playing), 3 loads; bundle = every file of dist/web, bytes and gzip -9`,
    store: `one ${c.width}x${c.height} ${c.fps} fps camera recorded in 2 s segments through a gateway with SQLite on its worker thread, then one with store.sqliteWorker false; per gateway, psvgw_process_nodejs_eventloop_lag_p99/max_seconds (monitorEventLoopDelay at 10 ms, reset at each scrape) over ${o.quick ? 5 : 15} s alone and over ${o.quick ? 5 : 15} s with \`psvgw verify --json\` run again and again next to it (another process, its own connection)`,
    desensitize: `detection side of dynamic desensitization per camera (bench/desensitizePhase.ts measureDetector): the composed faces scene (tests' faces scene: two photographs from python3-skimage moving at 0, 50 and 200 px/s) at 640x360 and 1280x720, 25 fps, played in real time by ffmpeg -re -c copy to loopback UDP MPEG-TS (standing in for the raw tier); startDesensitizer on it: grabber ffmpeg (one thread, fps + area scale to 480 px wide grey), the OpenCV Haar worker (frontal + profile both ways), the tracker; detection at 5/s; latency = frame grabbed to result folded in; CPU = grabber ffmpeg (all ffmpeg minus the feeder) + the python3 worker over ${o.quick ? 5 : 15} s; camerasPerCore = 100 / that (the masking transcode is not included). desensitizedCamera (measureDesensitizedCameras): the same scene as numbered JPEGs played by the GStreamer RTSP test camera, one gateway, the camera in copy mode, then with the masked phase's two static masks, then with the same masks and desensitize faces at 5/s; each step's gateway tree CPU over ${o.cpuWindowSeconds} s split by argv (Node, ingest, masking, grabber ffmpeg, detector); camerasPerCore = 100 / the whole tree of the step`,
    scale: `camera fleet (tests/fixtures/rtsp_fleet.py: one GStreamer RTSP server, a pre-encoded 640x360 25 fps ~500 kbit/s H.264 loop per mount, no encoding) with ${o.scale.cameras} mounts; a gateway with recording on (default 60 s segments); cameras added through the API 8 at a time (each probed); once all are live (GET /api/v1/cameras states), one viewer per ten cameras (HTTP-FLV and WS-FLV alternately, shared tier, frames counted in the bench process), then ${o.scale.windowSeconds} s windows: event-loop lag from /metrics (prom-client's monitorEventLoopDelay, 10 ms resolution, reset at each scrape; scraped every 5 s; worst scrape's p99), GET /api/v1/cameras (admin token, default page) one call every 200 ms, gateway tree CPU and memory; the same window with psvgw verify --json run back to back; when a check fails the count steps down to 70 % (cameras removed through the API) until one fits, then at most twice halfway back up towards the smallest count that failed`,
    soak: `${o.soak.cameras} fleet cameras (copy mode, recording on) through one gateway for ${o.soak.minutes} min; the gateway tree's user+sys CPU and RSS/USS sampled every ${o.soak.sampleSeconds} s; first vs last ${o.soak.minutes >= 60 ? 10 : round1(o.soak.minutes / 6)} min; memory trend by least squares over the samples after the first stretch; 4 bare ingest ffmpegs (the gateway's argv, output to /dev/null) pull 4 of the mounts beside it the whole time and are sampled in the same windows: the verdict reads the gateway's CPU per camera relative to their CPU per process, last stretch against first, so that the machine's own load moving between the stretches does not count as growth`,
    cluster: `3 ClusterNodes in the bench process (src/cluster through its index.ts, the default 1 s heartbeat and 6 s lease), each with a PostgresStore pool of 2 connections on a fresh database of the test server (PSVGW_TEST_POSTGRES_ADMIN_URL), no media: the cameras are placement input only; ${o.quick ? '500, 1000' : '1000, 2000, 4000 … 32000'} cameras, each step: every lease claimed, 2 beats to settle, then a ${o.quick ? 5 : 10} s window: pg_stat_database xact_commit and tup_updated deltas of that database, user+sys of every postgres process on the machine, each renewal's round trip; a step is sustained when no lease is lost and every renewal answers within one heartbeat; stepping stops at the first step not sustained`,
    clusterFailover: `3 real gateways (psvgw start, default 1 s heartbeat and 6 s lease, recording and diagnostics off) on a fresh database of the test server (PSVGW_TEST_POSTGRES_ADMIN_URL), 6 fleet cameras (copy mode); ${o.quick ? 3 : 5} rounds: kill -9 of the node running the most cameras, failover = from the kill to every one of its cameras up (psvgw_camera_up 1) on the node now holding its lease (GET /api/v1/nodes and /metrics polled every 100 ms); the node is started again under its name and the cameras settle on three nodes before the next round; p50/p95 over the rounds`,
    relay: `node-media-server 4.4 in a standalone process (bench/nmsRelay.ts), relay task per camera pulling RTSP itself, reconnect interval ${o.relayReconnectMs} ms (the gateway's backoff.initialMs); recovery = READY → RTP bytes arriving at the task`,
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Bare ffmpeg baselines, then the gateway's copy, H.265, latency and recovery figures on the same cameras. */
async function livePhase(cameras: BenchCamera[], results: RunResults, o: BenchOptions): Promise<void> {
  let h265: BenchCamera | null = null;
  const first = cameras[0] as BenchCamera;
  await attempt(results.errors, 'baseline recovery', async () => {
    for (let i = 1; i <= o.recoveryTrials; i++) {
      progress(`baseline: camera restart → bare ffmpeg first frame, trial ${i}/${o.recoveryTrials}`);
      const ms = await bareRecovery(first, o.cameraOffMs);
      if (ms !== null) results.bareRecoveryMs.push(ms);
    }
  });
  await attempt(results.errors, 'baseline 1 camera', async () => {
    progress(`baseline: bare ffmpeg copy, 1 camera, ${o.cpuWindowSeconds} s`);
    results.bareOne = await measureBareIngest([first], o.warmupSeconds, o.cpuWindowSeconds);
  });
  await attempt(results.errors, `baseline ${o.cameras} cameras`, async () => {
    progress(`baseline: bare ffmpeg copy, ${o.cameras} cameras, ${o.cpuWindowSeconds} s`);
    results.bareMany = await measureBareIngest(cameras, o.warmupSeconds, o.cpuWindowSeconds);
  });
  if (o.largeCameras > 0)
    await attempt(results.errors, `baseline ${o.largeCameras} cameras`, async () => {
      progress(`baseline: bare ffmpeg copy, ${o.largeCameras} pulls of ${o.cameras} cameras, ${o.cpuWindowSeconds} s`);
      results.bareLarge = await measureBareIngest(roundRobin(cameras, o.largeCameras), o.warmupSeconds, o.cpuWindowSeconds);
    });
  const h265Camera = async () => (h265 ??= await BenchCamera.start({ ...o.camera, codec: 'h265' }));
  await attempt(results.errors, 'gateway', async () => {
    results.gateway = await gatewayPhase(cameras, h265Camera, o);
    results.errors.push(...results.gateway.errors);
  });
  await attempt(results.errors, 'baseline H.265 transcode', async () => {
    progress(`baseline: bare ffmpeg H.265 → H.264 transcode, 1 camera, ${o.cpuWindowSeconds} s`);
    results.bareTranscode = await measureBareIngest([await h265Camera()], o.warmupSeconds, o.cpuWindowSeconds);
  });
  await (h265 as BenchCamera | null)?.stop();
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), process.env);
  const tools = checkTools();
  if (o.phases.has('console')) requireConsoleTools();
  const startedAt = new Date().toISOString();
  progress(`${o.quick ? 'quick' : 'full'} run, ${o.cameras} cameras at ${o.camera.width}x${o.camera.height}`);
  const results: RunResults = { options: o, bareRecoveryMs: [], gateway: null, relay: null, masked: null, recording: null, errors: [] };
  let diagnostics: DiagnosticsResults | null = null;
  let durability: DurabilityResults | null = null;
  let exported: ExportResults | null = null;
  let policy: PolicyResults | null = null;
  let gb: GbResults | null = null;
  let consoleResults: ConsoleResults | null = null;
  let storeLag: StoreLagResults | null = null;
  let desensitize: DetectorFigures[] | null = null;
  let desensitizedCameras: DesensitizedCameraFigures[] | null = null;
  let scale: ScaleResults | null = null;
  let soak: SoakResults | null = null;
  let cluster: ClusterResults | null = null;
  let clusterFailover: ClusterFailoverResults | null = null;
  const want = (phase: Phase) => o.phases.has(phase);
  try {
    // The copy-mode cameras serve the live, relay and recording phases; the others start their own.
    const cameras =
      want('live') || want('relay') || want('recording')
        ? (progress(`starting ${o.cameras} test cameras`),
          await Promise.all(Array.from({ length: o.cameras }, () => BenchCamera.start(o.camera))))
        : [];
    if (want('live')) await livePhase(cameras, results, o);
    if (want('relay'))
      await attempt(results.errors, 'nms relay', async () => {
        results.relay = await relayPhase(cameras, o);
        results.errors.push(...results.relay.errors);
      });
    if (want('recording'))
      await attempt(results.errors, 'recording', async () => {
        results.recording = await recordingPhase(cameras, o);
        results.errors.push(...results.recording.errors);
      });
    // The copy-mode cameras are done with: the masked figure runs on its own 720p camera.
    await Promise.all(cameras.map((c) => c.stop()));
    if (want('masked'))
      await attempt(results.errors, 'masked camera', async () => {
        results.masked = await maskedPhase(o);
        results.errors.push(...results.masked.errors);
      });
    if (want('alerts'))
      await attempt(results.errors, 'detection delay', async () => {
        results.alerts = await alertPhase(o);
        results.errors.push(...results.alerts.errors);
      });
    if (want('diagnostics'))
      await attempt(results.errors, 'diagnostics', async () => {
        diagnostics = await diagnosticsPhase(o);
        results.errors.push(...diagnostics.errors);
      });
    if (want('durability'))
      await attempt(results.errors, 'sqlite durability', async () => {
        durability = await durabilityPhase(o);
      });
    if (want('export'))
      await attempt(results.errors, 'export', async () => {
        exported = await exportPhase(o);
      });
    if (want('policy'))
      await attempt(results.errors, 'access policy and audit', async () => {
        policy = await policyPhase(o);
      });
    if (want('gb28181'))
      await attempt(results.errors, 'gb28181 live sessions', async () => {
        gb = await gbPhase(o);
        results.errors.push(...gb.errors);
      });
    if (want('console'))
      await attempt(results.errors, 'console wall', async () => {
        consoleResults = await consolePhase(o);
        results.errors.push(...consoleResults.errors);
      });
    if (want('store'))
      await attempt(results.errors, 'store lag', async () => {
        storeLag = await storePhase(o);
        results.errors.push(...storeLag.errors);
      });
    if (want('desensitize'))
      await attempt(results.errors, 'desensitize detector', async () => {
        desensitize = await measureDetector({ seconds: o.quick ? 5 : 15, warmupSeconds: o.warmupSeconds });
      });
    if (want('desensitize'))
      await attempt(results.errors, 'desensitized camera', async () => {
        desensitizedCameras = await measureDesensitizedCameras({
          seconds: o.cpuWindowSeconds,
          warmupSeconds: o.warmupSeconds,
          masks: BENCH_MASKS,
          detectorCpuMsPerFrame: Object.fromEntries(
            ((desensitize as DetectorFigures[] | null) ?? []).map((d) => [`${d.width}x${d.height}`, d.detectorCpuMsPerFrame.p50]),
          ),
        });
      });
    if (want('scale'))
      await attempt(results.errors, 'scale', async () => {
        scale = await scalePhase(o);
        results.errors.push(...scale.errors);
      });
    if (want('soak'))
      await attempt(results.errors, 'soak', async () => {
        soak = await soakPhase(o);
        results.errors.push(...soak.errors);
      });
    if (want('cluster'))
      await attempt(results.errors, 'cluster leases', async () => {
        cluster = await clusterPhase(o);
        results.errors.push(...cluster.errors);
      });
    if (want('clusterFailover'))
      await attempt(results.errors, 'cluster failover', async () => {
        clusterFailover = await clusterFailoverPhase(o);
        results.errors.push(...clusterFailover.errors);
      });
  } finally {
    progress('stopping cameras');
    await stopAllChildren();
  }

  const figures = buildFigures(results);
  const nmsVersion = (createRequire(import.meta.url)('node-media-server/package.json') as { version: string }).version;
  const report = {
    benchmark: 'psv-gateway',
    mode: o.quick ? 'quick' : 'full',
    startedAt,
    durationSeconds: Math.round(elapsedSeconds()),
    versions: { gateway: VERSION, node: process.version, ffmpeg: tools.ffmpeg, nodeMediaServer: nmsVersion },
    machine: machineInfo(),
    setup: {
      phases: [...o.phases],
      cameras: o.cameras,
      largeCameras: o.largeCameras,
      camera: o.camera,
      cpuWindowSeconds: o.cpuWindowSeconds,
      warmupSeconds: o.warmupSeconds,
      latencySeconds: o.latencySeconds,
      recoveryTrials: o.recoveryTrials,
    },
    method: method(o),
    verdicts: { ...verdicts(figures), ...consoleVerdicts((consoleResults as ConsoleResults | null)?.figures) },
    figures: {
      ...figures,
      diagnosticsCpu: (diagnostics as DiagnosticsResults | null)?.figures ?? null,
      sqliteSynchronousCost: durability,
      exportWatermarked: exported,
      accessPolicyCost: policy,
      gb28181Live: gb,
      console: (consoleResults as ConsoleResults | null)?.figures ?? null,
      storeLag,
      desensitizeDetector: desensitize,
      desensitizedCamera: desensitizedCameras,
      scale,
      soak,
      clusterLeases: cluster,
      clusterFailover,
    },
    raw: {
      bareOne: results.bareOne,
      bareMany: results.bareMany,
      bareLarge: results.bareLarge,
      bareTranscode: results.bareTranscode,
      gatewayIdle: results.gateway?.idle,
      gatewayOne: results.gateway?.one,
      gatewayMany: results.gateway?.many,
      gatewayH265: results.gateway?.h265,
      relayIdle: results.relay?.idle,
      relayOne: results.relay?.one,
      relayMany: results.relay?.many,
      maskedBare: results.masked?.bare,
      maskedGatewayCopy: results.masked?.copy,
      maskedGateway: results.masked?.masked,
      maskedSweep: results.masked?.sweep,
      maskedBareArgs: results.masked?.bareArgs,
      alerts: results.alerts,
      diagnosticsOff: (diagnostics as DiagnosticsResults | null)?.off,
      diagnosticsOn: (diagnostics as DiagnosticsResults | null)?.on,
      recording: results.recording,
      console: (consoleResults as ConsoleResults | null)?.raw,
    },
    errors: results.errors,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  progress(`done in ${Math.round(elapsedSeconds())} s${results.errors.length ? `, with ${results.errors.length} error(s)` : ''}`);
  process.exitCode = results.errors.length > 0 ? 1 : 0;
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAllChildren();
  process.exit(1);
});
