import { AAC_ARGS, h264EncoderArgs, rtspInputArgs, supervisedArgs, type H264EncoderSettings } from './ingestArgs.js';

/** How the shared tier of a camera with privacy masks is encoded (config `privacy.sharedEncoder`). */
export interface SharedEncoderSettings extends H264EncoderSettings {
  /** Keyframe interval; at most 2 s so a new viewer or a restarted push waits little. */
  gopSeconds: number;
  /** Frames taller than this are scaled down; undefined keeps the camera's resolution. */
  maxHeight?: number | undefined;
}

export interface MaskingPlan {
  /** Internal play URL of the camera's raw tier, or the camera's sub stream (RTSP, credentials inserted). */
  sourceUrl: string;
  /** Set when the source is the camera's sub stream: read over RTSP like the ingest, its audio made AAC. */
  rtsp?: { transport: 'tcp' | 'udp'; socketTimeoutSeconds: number; transcodeAudio: boolean };
  /** Mask image files, in the order of the filter graph's inputs [1:v], [2:v]… */
  imageFiles: string[];
  /** Filter graph: video [0:v], images [1:v]…, output [masked]. */
  filterComplex: string;
  fps: number;
  frameHeight: number;
  hasAudio: boolean;
  /** RTMP publish URL of the camera's shared tier. */
  targetUrl: string;
  encoder: SharedEncoderSettings;
  /** A desensitized camera's live mask stream on pipe:3 (see liveMask.ts); its filter graph reads it as the last input. */
  liveMask?: LiveMaskArgs;
}

export interface LiveMaskArgs {
  width: number;
  height: number;
  /** Masks per second. */
  rate: number;
  /** The run's origin as Unix time in seconds: the video's arrival times count from it, as the masks' moments do. */
  originSeconds: number;
}

/**
 * The source stamped with its arrival time (wall clock) counted from the run's origin, and
 * `-copyts` so that neither input is shifted to start at zero on its own: the masks'
 * moments and the frames' arrival times are on one clock. A deep read queue keeps the
 * stamps honest while frames wait for their masks.
 */
function liveSourceArgs(live: LiveMaskArgs): string[] {
  return ['-use_wallclock_as_timestamps', '1', '-itsoffset', (-live.originSeconds).toFixed(6), '-thread_queue_size', '4096'];
}

function liveMaskInputArgs(live: LiveMaskArgs): string[] {
  return [
    '-f',
    'rawvideo',
    '-pix_fmt',
    'gray',
    '-video_size',
    `${live.width}x${live.height}`,
    '-framerate',
    String(live.rate),
    '-thread_queue_size',
    '64',
    '-i',
    'pipe:3',
  ];
}

/** See src/platform/pushArgs.ts: the local tier's streams are interleaved from the first packet. */
const LOCAL_ANALYZE_MICROSECONDS = 500_000;

/**
 * The masking transcode: reads the raw tier (or the sub stream), burns the masks in, encodes
 * H.264 and publishes the shared tier. Audio carries no picture, so it is copied when it is
 * already AAC (always so on the raw tier).
 */
export function buildMaskingArgs(plan: MaskingPlan): string[] {
  const fps = Math.max(1, Math.round(plan.fps));
  const images = plan.imageFiles.flatMap((file) => ['-loop', '1', '-framerate', String(fps), '-i', file]);
  // libx264 in yuv420p needs even dimensions (cameras may send e.g. 641x361), and the
  // shared tier may be capped in height: one final scale does both.
  const height = Math.min(plan.frameHeight, plan.encoder.maxHeight ?? plan.frameHeight);
  const graph = `${plan.filterComplex};[masked]scale=-2:${Math.max(2, height - (height % 2))}[shared]`;
  const live = plan.liveMask;
  return [
    ...supervisedArgs(),
    ...(live ? ['-copyts', ...liveSourceArgs(live)] : []),
    ...(plan.rtsp
      ? rtspInputArgs(plan.sourceUrl, plan.rtsp.transport, plan.rtsp.socketTimeoutSeconds)
      : ['-analyzeduration', String(LOCAL_ANALYZE_MICROSECONDS), '-i', plan.sourceUrl]),
    ...images,
    ...(live ? liveMaskInputArgs(live) : []),
    '-filter_complex',
    graph,
    '-map',
    '[shared]',
    ...(plan.hasAudio ? ['-map', '0:a:0', ...(plan.rtsp?.transcodeAudio ? AAC_ARGS : ['-c:a', 'copy'])] : []),
    ...h264EncoderArgs(plan.encoder, fps),
    // Arrival times are not on a frame grid: a millisecond time base keeps every frame.
    ...(live ? ['-enc_time_base', '1:1000'] : []),
    '-f',
    'flv',
    '-flvflags',
    'no_duration_filesize',
    plan.targetUrl,
  ];
}
