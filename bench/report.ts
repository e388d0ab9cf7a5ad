import type { AlertResults } from './alertPhase.js';
import type { GatewayResults, PairedWindow } from './gatewayPhase.js';
import type { MaskedResults } from './maskedPhase.js';
import type { BenchOptions } from './options.js';
import type { TreeUsage } from './procstat.js';
import type { RecordingResults } from './recordingPhase.js';
import type { RelayResults } from './relayPhase.js';
import { percentile, ratio, round, summarize, verdict, type Summary } from './stats.js';
import type { LatencyResult } from './viewers.js';

export interface RunResults {
  options: BenchOptions;
  bareOne?: TreeUsage;
  bareMany?: TreeUsage;
  bareLarge?: TreeUsage;
  bareTranscode?: TreeUsage;
  bareRecoveryMs: number[];
  gateway: GatewayResults | null;
  relay: RelayResults | null;
  masked: MaskedResults | null;
  alerts?: AlertResults | null;
  recording: RecordingResults | null;
  errors: string[];
}

type Usage = TreeUsage | undefined;
const cpu = (u: Usage) => u?.cpuPct ?? null;
const part = (u: Usage, name: string, field: 'cpuPctBy' | 'rssMiBBy' | 'ussMiBBy') => (u ? (u[field][name] ?? 0) : null);
const minus = (a: number | null, b: number | null) => (a === null || b === null ? null : round(a - b, 2));
const per = (a: number | null, n: number) => (a === null ? null : round(a / n, 2));
const plus = (a: number | null, b: number | null) => (a === null || b === null ? null : round(a + b, 1));
const worst = (values: Array<number | null | undefined>) => {
  const v = values.filter((x): x is number => typeof x === 'number');
  return v.length === 0 ? null : Math.max(...v);
};

/** Copy-mode CPU of `n` cameras through the gateway, raw and net of its idle CPU, next to bare ffmpeg. */
function copyCpu(n: number, gw: Usage, idle: Usage, bare: Usage) {
  const net = minus(cpu(gw), cpu(idle));
  return {
    cameras: n,
    gateway: {
      rawCpuPct: cpu(gw),
      netCpuPct: net,
      nodeNetCpuPct: minus(part(gw, 'main', 'cpuPctBy'), part(idle, 'main', 'cpuPctBy')),
      ffmpegCpuPct: part(gw, 'ffmpeg', 'cpuPctBy'),
    },
    bareFfmpegCpuPct: cpu(bare),
    ratioNet: ratio(net, cpu(bare)),
    ratioRaw: ratio(cpu(gw), cpu(bare)),
    ratioFfmpegOnly: ratio(part(gw, 'ffmpeg', 'cpuPctBy'), cpu(bare)),
    verdict: verdict(ratio(net, cpu(bare)), 1.2),
  };
}

/**
 * The large case measured side by side with bare ffmpeg (gatewayPhase's pairedWindows): each window's
 * net ratio, and their median, on which the case is judged (its sequential ratio stays in `ratioNet`).
 */
export function sideBySide(windows: readonly PairedWindow[] | undefined, idle: Usage) {
  if (windows === undefined || windows.length === 0) return null;
  const each = windows.map((w) => {
    const net = minus(cpu(w.gateway), cpu(idle));
    return {
      gatewayNetCpuPct: net,
      nodeNetCpuPct: minus(part(w.gateway, 'main', 'cpuPctBy'), part(idle, 'main', 'cpuPctBy')),
      gatewayFfmpegCpuPct: part(w.gateway, 'ffmpeg', 'cpuPctBy'),
      bareFfmpegCpuPct: cpu(w.bare),
      ratioNet: ratio(net, cpu(w.bare)),
    };
  });
  const ratios = each.map((w) => w.ratioNet).filter((r): r is number => r !== null);
  const median = ratios.length === 0 ? null : round(percentile(ratios, 50), 2);
  return { windows: each, ratioNetMedian: median, verdict: verdict(median, 1.2) };
}

/** Memory one more copy-mode camera costs: the main process's growth per camera plus one ingest process. */
function perCameraMemory(n: number, many: Usage, idle: Usage, ingestName: string | null) {
  const mainRss = per(minus(part(many, 'main', 'rssMiBBy'), part(idle, 'main', 'rssMiBBy')), n);
  const mainUss = per(minus(part(many, 'main', 'ussMiBBy'), part(idle, 'main', 'ussMiBBy')), n);
  const childRss = ingestName ? per(part(many, ingestName, 'rssMiBBy'), n) : 0;
  const childUss = ingestName ? per(part(many, ingestName, 'ussMiBBy'), n) : 0;
  return {
    mainProcessRssGrowthMiB: mainRss,
    ingestProcessRssMiB: childRss,
    rssMiB: plus(mainRss, childRss),
    ussMiB: plus(mainUss, childUss),
  };
}

function latencyFigure(l: LatencyResult | undefined) {
  if (!l) return null;
  return { cameraBitrateKbps: l.cameraBitrateKbps, wire: l.wire, decoded: l.decoded ?? null };
}

/** How many decoded frames the md5 matcher compared (matched of those considered), per protocol, for the verdict line. */
function decodedCompared(l: ReturnType<typeof latencyFigure>): string {
  const d = l?.decoded;
  if (!d) return '';
  return ` (decoded frames matched: HTTP-FLV ${d.httpFlv.n}/${d.httpFlv.considered}, WS-FLV ${d.wsFlv.n}/${d.wsFlv.considered})`;
}

const worstLatencyP95 = (l: LatencyResult | undefined) =>
  worst([l?.wire.httpFlv.p95, l?.wire.wsFlv.p95, l?.decoded?.httpFlv.p95, l?.decoded?.wsFlv.p95]);

export function buildFigures(r: RunResults) {
  const o = r.options;
  const g = r.gateway;
  const rl = r.relay;
  const n = o.cameras;
  const gwOne = copyCpu(1, g?.one, g?.idle, r.bareOne);
  const gwMany = copyCpu(n, g?.many, g?.idle, r.bareMany);
  const gwMemory = perCameraMemory(n, g?.many, g?.idle, 'ffmpeg');
  const large = o.largeCameras;
  const largePaired = sideBySide(g?.largePaired, g?.idle);
  const gwLarge =
    large > 0
      ? {
          ...copyCpu(large, g?.large, g?.idle, r.bareLarge),
          sideBySide: largePaired,
          ...(largePaired ? { verdict: largePaired.verdict } : {}),
        }
      : null;
  const gwLargeMemory = large > 0 ? perCameraMemory(large, g?.large, g?.idle, 'ffmpeg') : null;
  const relayMemory = perCameraMemory(n, rl?.many, rl?.idle, null);
  const relayNet = (u: Usage) => minus(cpu(u), cpu(rl?.idle));
  const latencyP95 = worstLatencyP95(g?.latency);
  const ttffP95 = worst([g?.firstFrame?.httpFlv.p95, g?.firstFrame?.wsFlv.p95]);
  const ttffFailures = (g?.firstFrame?.httpFlv.failures ?? 0) + (g?.firstFrame?.wsFlv.failures ?? 0);
  const darkKill = summarize(g?.recovery.darkAfterKillMs ?? []);
  const darkFreeze = summarize(g?.recovery.darkAfterFreezeMs ?? []);
  const upAfterRestart = summarize(g?.recovery.upAfterRestartMs ?? []);
  const floor = summarize(r.bareRecoveryMs);
  const h265Net = minus(cpu(g?.h265), cpu(g?.idle));
  const h264Net = gwOne.gateway.netCpuPct;

  return {
    detectionDelay: alertFigures(r.alerts),
    copyModeCpu: {
      target: 'gateway CPU per copy-mode camera ≤ 1.2× bare ffmpeg (net of the gateway idle CPU)',
      unit: '% of one core, user+sys from /proc/<pid>/stat over the window, whole process tree',
      gatewayIdleCpuPct: cpu(g?.idle),
      oneCamera: gwOne,
      manyCameras: gwMany,
      largeCameras: gwLarge,
      /** read(2)-like calls/s of the gateway process itself (/proc/<pid>/io syscr), many-camera window, no viewer. */
      gatewayReadCallsPerSecond: { manyCameras: g?.manyReadsPerSecond ?? null, largeCameras: g?.largeReadsPerSecond ?? null },
    },
    copyModeMemory: {
      target: '≤ 30 MB per copy-mode camera',
      perCamera: gwMemory,
      gatewayNodeRssMiB: {
        idle: part(g?.idle, 'main', 'rssMiBBy'),
        oneCamera: part(g?.one, 'main', 'rssMiBBy'),
        manyCameras: part(g?.many, 'main', 'rssMiBBy'),
      },
      bareFfmpegPerCamera: { rssMiB: per(r.bareMany?.rssMiB ?? null, n), ussMiB: per(r.bareMany?.ussMiB ?? null, n) },
      verdictRss: verdict(gwMemory.rssMiB, 30),
      verdictUss: verdict(gwMemory.ussMiB, 30),
      /** The large case (issue 15's goal: USS ≤ 15 MiB per camera at 1, 4 and 16 cameras). */
      perCameraLarge: gwLargeMemory,
      verdictUss15: { manyCameras: verdict(gwMemory.ussMiB, 15), largeCameras: gwLargeMemory ? verdict(gwLargeMemory.ussMiB, 15) : null },
    },
    ingestAlternatives: {
      cameras: n,
      ffmpegIngest: {
        netCpuPct: { oneCamera: gwOne.gateway.netCpuPct, manyCameras: gwMany.gateway.netCpuPct },
        idleCpuPct: cpu(g?.idle),
        memoryPerCamera: gwMemory,
        processTreeRssMiB: { idle: g?.idle?.rssMiB ?? null, oneCamera: g?.one?.rssMiB ?? null, manyCameras: g?.many?.rssMiB ?? null },
        latencyWireP50Ms: g?.latency?.wire.httpFlv.p50 ?? null,
        timeToFirstFrameP50Ms: g?.firstFrame?.httpFlv.p50 ?? null,
        backAfterRestartMs: summarize(g?.recovery.upAfterRestartMs ?? []),
        viewerBackAfterRestartMs: summarize(g?.recovery.viewerAfterRestartMs ?? []),
        detectsFrozenCamera: (g?.recovery.darkAfterFreezeMs.length ?? 0) > 0,
        afterOneRtpSequenceGap: g?.gapTolerance ?? null,
      },
      nmsRelay: {
        netCpuPct: { oneCamera: relayNet(rl?.one), manyCameras: relayNet(rl?.many) },
        idleCpuPct: cpu(rl?.idle),
        memoryPerCamera: relayMemory,
        processTreeRssMiB: { idle: rl?.idle?.rssMiB ?? null, oneCamera: rl?.one?.rssMiB ?? null, manyCameras: rl?.many?.rssMiB ?? null },
        latencyWireP50Ms: rl?.latency?.wire.httpFlv.p50 ?? null,
        timeToFirstFrameP50Ms: rl?.firstFrame?.httpFlv.p50 ?? null,
        backAfterRestartMs: summarize(rl?.recovery.flowAfterRestartMs ?? []),
        viewerBackAfterRestartMs: summarize(rl?.recovery.viewerAfterRestartMs ?? []),
        detectsFrozenCamera: false,
        afterOneRtpSequenceGap: rl?.gapTolerance ?? null,
        latency: latencyFigure(rl?.latency),
        firstFrame: rl?.firstFrame ?? null,
        addToFlowingMs: summarize(rl?.addToFlowingMs ?? []),
        failures: rl?.recovery.failures ?? [],
      },
      relayToFfmpegCpuRatio: {
        oneCamera: ratio(relayNet(rl?.one), gwOne.gateway.netCpuPct),
        manyCameras: ratio(relayNet(rl?.many), gwMany.gateway.netCpuPct),
      },
      relayToBareFfmpegCpuRatio: {
        oneCamera: ratio(relayNet(rl?.one), cpu(r.bareOne)),
        manyCameras: ratio(relayNet(rl?.many), cpu(r.bareMany)),
      },
    },
    liveLatency: {
      target: 'added latency of HTTP-FLV / WS-FLV over reading the camera directly ≤ 300 ms (p95)',
      gateway: latencyFigure(g?.latency),
      verdict: verdict(latencyP95, 300),
    },
    timeToFirstFrame: {
      target: 'request sent → sequence header + keyframe received ≤ 500 ms (p95)',
      gateway: g?.firstFrame ?? null,
      verdict: ttffFailures > 0 ? 'fail' : verdict(ttffP95, 500),
    },
    recovery: {
      target: 'camera dark → psvgw_camera_up 0 ≤ 3 s; camera back → psvgw_camera_up 1 ≤ 5 s',
      darkAfterKillMs: { ...darkKill, verdict: verdict(darkKill.max, 3000) },
      darkAfterFreezeMs: { ...darkFreeze, verdict: verdict(darkFreeze.max, 3000) },
      upAfterRestartMs: { ...upAfterRestart, verdict: verdict(upAfterRestart.max, 5000) },
      viewerAfterRestartMs: summarize(g?.recovery.viewerAfterRestartMs ?? []),
      upAfterThawMs: summarize(g?.recovery.upAfterThawMs ?? []),
      baselineBareFfmpegFirstFrameAfterRestartMs: floor,
      ratioToBaselineP50: ratio(upAfterRestart.p50, floor.p50),
      failures: g?.recovery.failures ?? [],
    },
    h265Camera: {
      target: 'cost stated (transcoded live tiers); design target for transcoded cameras ≤ 1.1× bare ffmpeg with the same encoder',
      gatewayNetCpuPct: h265Net,
      gatewayFfmpegCpuPct: part(g?.h265, 'ffmpeg', 'cpuPctBy'),
      sameSizeH264CopyNetCpuPct: h264Net,
      extraCpuPct: minus(h265Net, h264Net),
      ratioToH264Copy: ratio(h265Net, h264Net),
      bareFfmpegTranscodeCpuPct: cpu(r.bareTranscode),
      ratioToBareTranscode: ratio(h265Net, cpu(r.bareTranscode)),
      rssMiB: { gatewayNode: part(g?.h265, 'main', 'rssMiBBy'), ffmpeg: part(g?.h265, 'ffmpeg', 'rssMiBBy') },
      addToUpMs: round(g?.h265?.addToUpMs ?? null, 0),
      verdict: verdict(ratio(h265Net, cpu(r.bareTranscode)), 1.1),
    },
    maskedCamera: maskedFigure(r.masked),
    recording: recordingFigure(r.recording, g?.many, n),
  };
}

/** The masking transcode of one camera: its net CPU through the gateway, bare ffmpeg, and cameras per core. */
/** What recording adds per camera (gateway with recording minus the same cameras without) vs bare segmenting ffmpeg; verify's hashing rate. */
function recordingFigure(rec: RecordingResults | null, withoutRecording: Usage, n: number) {
  const perCamera = per(minus(cpu(rec?.gateway), cpu(withoutRecording)), n);
  const bare = per(cpu(rec?.bareSegment), n);
  const v = rec?.verify;
  const rate = (seconds: number | undefined) => (v && seconds ? round(v.megabytes / seconds, 1) : null);
  return {
    cameras: n,
    gatewayCpuPct: { withRecording: cpu(rec?.gateway), withoutRecording: cpu(withoutRecording) },
    recordingCpuPctPerCamera: perCamera,
    bareSegmentCpuPctPerCamera: bare,
    recordingFfmpegCpuPct: part(rec?.gateway, 'ffmpeg', 'cpuPctBy'),
    verify: v
      ? {
          files: v.files,
          megabytes: round(v.megabytes, 1),
          verifyMBps: rate(v.verifySeconds),
          verifyWithWitnessMBps: rate(v.verifyWitnessSeconds),
          witnessedCheckpoints: v.witnessed,
          sha256sumMBps: rate(v.sha256sumSeconds),
          ratioToSha256sum: ratio(rate(v.verifySeconds), rate(v.sha256sumSeconds)),
          witnessRatioToSha256sum: ratio(rate(v.verifyWitnessSeconds), rate(v.sha256sumSeconds)),
        }
      : null,
  };
}

function maskedFigure(m: MaskedResults | null) {
  const net = minus(cpu(m?.masked), cpu(m?.copy));
  const bare = cpu(m?.bare);
  const perCore = (pct: number | null) => (pct === null || pct <= 0 ? null : Math.floor(100 / pct));
  const c = m?.camera;
  return {
    target: 'masking transcode of one camera ≤ 1.1× bare ffmpeg with the same input, filter graph, mask images and encoder',
    unit: '% of one core, user+sys over the window, whole process tree; the camera process is not counted',
    camera: c ? `${c.width}x${c.height} H.264 ${c.fps} fps, pattern ${c.pattern}` : null,
    cameraBitrateKbps: m?.cameraBitrateKbps ?? null,
    masks: m?.masks ?? null,
    filterComplex: m?.filterComplex ?? null,
    encoder: m?.encoder ?? null,
    gateway: {
      copyModeCpuPct: cpu(m?.copy),
      maskedCpuPct: cpu(m?.masked),
      maskingNetCpuPct: net,
      ffmpegCpuPct: { copyMode: part(m?.copy, 'ffmpeg', 'cpuPctBy'), masked: part(m?.masked, 'ffmpeg', 'cpuPctBy') },
      nodeCpuPct: { copyMode: part(m?.copy, 'main', 'cpuPctBy'), masked: part(m?.masked, 'main', 'cpuPctBy') },
      maskingRssMiB: minus(m?.masked?.rssMiB ?? null, m?.copy?.rssMiB ?? null),
      patchToMaskingUpMs: m?.masked?.patchToMaskingUpMs ?? null,
      maskingOutputFps: m?.masked?.outputFps ?? null,
    },
    bareFfmpegCpuPct: bare,
    bareOutputFps: m?.bare?.outputFps ?? null,
    ratioToBare: ratio(net, bare),
    verdict: verdict(ratio(net, bare), 1.1),
    camerasPerCore: {
      computedFromGateway: perCore(net),
      computedFromBare: perCore(bare),
      empiricalPinnedBare: m?.sweep?.sustainedCameras ?? null,
      sweep: m?.sweep
        ? {
            core: m.sweep.core,
            input: m.sweep.input,
            windowSeconds: m.sweep.windowSeconds,
            threshold: m.sweep.threshold,
            steps: m.sweep.steps.map((s) => ({ k: s.k, minSpeed: s.minSpeed, cpuPct: s.cpuPct, sustained: s.sustained })),
            stoppedBecause: m.sweep.stoppedBecause,
          }
        : null,
    },
  };
}

/** Camera dark → webhook alert out and received, the delay an operator sees. */
function alertFigures(a: AlertResults | null | undefined) {
  const killed = summarize(a?.killToAlertMs ?? []);
  const back = summarize(a?.backToResolveMs ?? []);
  return {
    target: 'camera dark → webhook alert received ≤ 3 s (p95); camera back → resolve alert ≤ 5 s',
    cameraKilledToAlertMs: { ...killed, verdict: verdict(killed.p95, 3000) },
    cameraFrozenToAlertMs: summarize(a?.freezeToAlertMs ?? []),
    cameraBackToResolveMs: { ...back, verdict: verdict(back.max, 5000) },
    cameraThawedToResolveMs: summarize(a?.thawToResolveMs ?? []),
  };
}

export type Figures = ReturnType<typeof buildFigures>;

/** One line per target: the figure it is judged on, and pass/fail. */
export function verdicts(f: Figures): Record<string, string> {
  return {
    'camera dark → webhook alert p95 (≤ 3 s)': `${f.detectionDelay.cameraKilledToAlertMs.p95 ?? '-'} ms → ${f.detectionDelay.cameraKilledToAlertMs.verdict}`,
    'camera back → resolve alert (≤ 5 s)': `${f.detectionDelay.cameraBackToResolveMs.max ?? '-'} ms → ${f.detectionDelay.cameraBackToResolveMs.verdict}`,
    'copy-mode CPU, 1 camera (≤ 1.2×)': `${f.copyModeCpu.oneCamera.ratioNet ?? '-'}× → ${f.copyModeCpu.oneCamera.verdict}`,
    [`copy-mode CPU, ${f.copyModeCpu.manyCameras.cameras} cameras (≤ 1.2×)`]: `${f.copyModeCpu.manyCameras.ratioNet ?? '-'}× → ${f.copyModeCpu.manyCameras.verdict}`,
    ...(f.copyModeCpu.largeCameras
      ? {
          [`copy-mode CPU, ${f.copyModeCpu.largeCameras.cameras} cameras (≤ 1.2×${f.copyModeCpu.largeCameras.sideBySide ? ', median of side-by-side windows' : ''})`]: `${f.copyModeCpu.largeCameras.sideBySide?.ratioNetMedian ?? f.copyModeCpu.largeCameras.ratioNet ?? '-'}× → ${f.copyModeCpu.largeCameras.verdict}`,
        }
      : {}),
    'memory per copy-mode camera, RSS (≤ 30 MB)': `${f.copyModeMemory.perCamera.rssMiB ?? '-'} MiB → ${f.copyModeMemory.verdictRss}`,
    'memory per copy-mode camera, USS (≤ 30 MB)': `${f.copyModeMemory.perCamera.ussMiB ?? '-'} MiB → ${f.copyModeMemory.verdictUss}`,
    'live latency p95 (≤ 300 ms)': `${f.liveLatency.verdict}${decodedCompared(f.liveLatency.gateway)}`,
    'time to first frame p95 (≤ 500 ms)': f.timeToFirstFrame.verdict,
    'camera killed → down (≤ 3 s)': `${f.recovery.darkAfterKillMs.max ?? '-'} ms → ${f.recovery.darkAfterKillMs.verdict}`,
    'camera frozen → down (≤ 3 s)': `${f.recovery.darkAfterFreezeMs.max ?? '-'} ms → ${f.recovery.darkAfterFreezeMs.verdict}`,
    'camera back → up (≤ 5 s)': `${f.recovery.upAfterRestartMs.max ?? '-'} ms → ${f.recovery.upAfterRestartMs.verdict}`,
    'H.265 camera vs bare transcode (≤ 1.1×)': `${f.h265Camera.ratioToBareTranscode ?? '-'}× → ${f.h265Camera.verdict}`,
    'masked camera vs bare masking ffmpeg (≤ 1.1×)': `${f.maskedCamera.ratioToBare ?? '-'}× → ${f.maskedCamera.verdict}`,
    'masked cameras per core (computed / pinned sweep)': `${f.maskedCamera.camerasPerCore.computedFromGateway ?? '-'} / ${f.maskedCamera.camerasPerCore.empiricalPinnedBare ?? '-'}`,
  };
}

export type { Summary };
