import { isDemoSource } from '../domain/index.js';
import { DEMO_FPS, DEMO_GOP_SECONDS, demoInputArgs } from './demoSource.js';
import { liveNeedsAudioTranscode, liveNeedsVideoTranscode, type StreamInfo } from './streamInfo.js';

/** How an H.265 camera's live tier is re-encoded, since FLV (ffmpeg 5.1) cannot carry H.265. */
export type LiveTranscodeSettings = H264EncoderSettings;

export interface IngestPlan {
  /** Camera URL with credentials; goes into argv only, never into a log. */
  inputUrl: string;
  rtspTransport: 'tcp' | 'udp';
  socketTimeoutSeconds: number;
  info: StreamInfo;
  /** Where the camera's live tiers go as FLV: RTMP publish URLs, or `pipe:3` (a live feed, see tiers.ts). */
  liveTargets: string[];
  /**
   * Put into the live outputs' options (as `dump_separator`, which only affects ffmpeg's
   * console dump) where no URL carries the gateway's instance marker (a pipe has no query).
   */
  liveMarker?: string;
  liveTranscode: LiveTranscodeSettings;
  /** Segment output of the recorder; null: not recording this run. */
  recording?: RecordingOutput | null;
  /** drawtext's font for a demo source's clock (see demoSource.ts); null or absent: no clock. */
  demoFont?: string | null;
  /**
   * Where the camera's original video goes, copied as MPEG-TS (a loopback UDP URL, see
   * originalVideoTaps.ts), when the live tiers re-encode it; null or absent: nowhere.
   */
  originalVideoUrl?: string | null;
}

/** Where the ingest writes recorded segments (see recording/recorder.ts). */
export interface RecordingOutput {
  /** File pattern with a `%06d` counter, e.g. `<dir>/<id>/.incoming/<run>-%06d.ts`. */
  pattern: string;
  /** CSV list (`file,start,end` per finished segment) that ffmpeg appends to. */
  listFile: string;
  segmentSeconds: number;
}

/** Seconds between `-progress` reports: the resolution of stall detection. */
export const PROGRESS_PERIOD_SECONDS = 0.25;

export function progressArgs(): string[] {
  return ['-progress', 'pipe:1', '-nostats', '-stats_period', String(PROGRESS_PERIOD_SECONDS)];
}

/** The start of every supervised ffmpeg's argv: quiet, no stdin, warnings only, `-progress` on stdout. */
export function supervisedArgs(): string[] {
  return ['-hide_banner', '-nostdin', '-loglevel', 'warning', ...progressArgs()];
}

export function rtspInputArgs(url: string, transport: 'tcp' | 'udp', socketTimeoutSeconds: number): string[] {
  return [
    ...(url.startsWith('rtsp') ? ['-rtsp_transport', transport, '-timeout', String(socketTimeoutSeconds * 1_000_000)] : []),
    '-analyzeduration',
    '2000000',
    '-i',
    url,
  ];
}

/**
 * The one pull of a camera: read RTSP once, fan out to the live tiers through ffmpeg's
 * tee muxer. Copy whenever the codecs fit FLV; otherwise transcode only what must be.
 */
export function buildIngestArgs(plan: IngestPlan): string[] {
  if (plan.liveTargets.length === 0) throw new Error('an ingest needs at least one live target');
  const recording = plan.recording ?? null;
  const demo = isDemoSource(plan.inputUrl);
  const original = !demo && liveNeedsVideoTranscode(plan.info) ? (plan.originalVideoUrl ?? null) : null;
  // The recording (and the original-video output) keep the camera's original video: when the live tier re-encodes
  // it, the original is mapped a second time, copied, and each tee slave selects its own streams. A demo source is
  // encoded here, once: there is no original to keep apart.
  const separate = !demo && (recording !== null || original !== null) && liveNeedsVideoTranscode(plan.info);
  const audio = plan.info.audio ? ',a' : '';
  const live = teeSpec(plan.liveTargets, separate ? `v:0${audio}` : null, plan.liveMarker);
  const record = recording === null ? [] : [segmentSlave(recording, separate ? `v:1${audio}` : null)];
  // Video only, and a failing output never takes the live tiers down.
  const tap = original === null ? [] : [`[select=\\'v:1\\':f=mpegts:onfail=ignore]${teeEscape(original)}`];
  return [
    ...supervisedArgs(),
    ...(demo ? demoInputArgs(plan.demoFont ?? null) : rtspInputArgs(plan.inputUrl, plan.rtspTransport, plan.socketTimeoutSeconds)),
    // Copied streams keep the demuxer's time base (RTSP: 1/90000). In the default, the codec's (1/25), an
    // RTSP stream's first packet, which has no timestamp, puts every later packet one tick behind at the tee
    // muxer (video 40 ms late) with two warnings per packet on stderr for ffmpeg to write and the gateway to read.
    '-copytb',
    '1',
    '-map',
    '0:v:0',
    ...(plan.info.audio ? ['-map', '0:a:0'] : []),
    // A demo source is raw pictures: the ingest is its encoder, on the live transcode's settings.
    ...(demo
      ? h264EncoderArgs({ ...plan.liveTranscode, gopSeconds: DEMO_GOP_SECONDS }, DEMO_FPS)
      : videoCodecArgs(plan.info, plan.liveTranscode)),
    ...audioCodecArgs(plan.info),
    ...(separate ? ['-map', '0:v:0', '-c:v:1', 'copy'] : []),
    '-f',
    'tee',
    [live, ...record, ...tap].join('|'),
  ];
}

/**
 * MPEG-TS segments: a file cut short by a crash or a full disk still plays up to its last packet. `onfail=ignore`
 * keeps the live tiers running when the disk fills. Timestamps are kept, not reset, so the
 * segments of one run form one timeline.
 */
function segmentSlave(out: RecordingOutput, select: string | null): string {
  for (const path of [out.pattern, out.listFile])
    if (/[:|[\]\\']/.test(path)) throw new Error(`recording path ${path} contains a character the tee muxer cannot take (: | [ ] \\ ')`);
  const options = [
    ...(select ? [`select=\\'${select}\\'`] : []),
    'f=segment',
    `segment_time=${out.segmentSeconds}`,
    'segment_format=mpegts',
    // Each packet reaches the file at once: a killed ffmpeg leaves everything up to its last frame.
    'segment_format_options=flush_packets=1',
    `segment_list=${out.listFile}`,
    'segment_list_type=csv',
    'onfail=ignore',
  ];
  return `[${options.join(':')}]${out.pattern}`;
}

function videoCodecArgs(info: StreamInfo, settings: LiveTranscodeSettings): string[] {
  if (!liveNeedsVideoTranscode(info)) return ['-c:v', 'copy'];
  return h264EncoderArgs(settings, info.video.fps ?? 25);
}

/** Encoder settings of every H.264 the gateway makes (live transcode, masked shared tier). */
export interface H264EncoderSettings {
  encoder: string;
  preset: string;
  maxBitrateKbps: number;
  gopSeconds: number;
}

/**
 * H.264 for live delivery: fixed GOP (a new viewer waits at most one GOP), no B-frames
 * (lower latency, FLV-friendly), capped bitrate. Presets apply to libx264 only: hardware
 * encoders name theirs differently.
 */
export function h264EncoderArgs(settings: H264EncoderSettings, fps: number): string[] {
  const gop = String(Math.max(1, Math.round(fps * settings.gopSeconds)));
  const rate = settings.maxBitrateKbps;
  return [
    '-c:v',
    settings.encoder,
    ...(settings.encoder === 'libx264' ? ['-preset', settings.preset, '-tune', 'zerolatency'] : []),
    '-pix_fmt',
    'yuv420p',
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-bf',
    '0',
    '-maxrate',
    `${rate}k`,
    '-bufsize',
    `${rate * 2}k`,
  ];
}

/** G.711 and other camera audio is re-encoded to AAC: browsers' FLV players play only AAC. */
export const AAC_ARGS: readonly string[] = ['-c:a', 'aac', '-b:a', '48k'];

function audioCodecArgs(info: StreamInfo): string[] {
  if (!info.audio) return [];
  return liveNeedsAudioTranscode(info) ? [...AAC_ARGS] : ['-c:a', 'copy'];
}

/** Escapes tee's special characters in a slave URL. */
function teeEscape(url: string): string {
  return url.replace(/[\\|[\]]/g, (c) => `\\${c}`);
}

export function teeSpec(targets: string[], select: string | null = null, marker?: string): string {
  // onfail=ignore: one tier's publish failing must not take the other tiers down with it.
  const pick = select ? `select=\\'${select}\\':` : '';
  // A cluster node's marker carries its name (`psvgw=<id>.<node>`): dots and hyphens are safe in a tee option.
  if (marker !== undefined && !/^[\w=.-]+$/.test(marker)) throw new Error(`instance marker ${marker} is not word characters, =, . and -`);
  const mark = marker === undefined ? '' : `:dump_separator=${marker}`;
  // flush_packets=1: each packet is written as it is muxed, which a live reader needs. It is ffmpeg's default for a
  // pipe; stated here so that the same argv with a file target (the benchmark's /dev/null baseline) does the same
  // write per packet instead of collecting 256 KiB first.
  return targets.map((t) => `[${pick}f=flv:flvflags=no_duration_filesize:flush_packets=1:onfail=ignore${mark}]${teeEscape(t)}`).join('|');
}
