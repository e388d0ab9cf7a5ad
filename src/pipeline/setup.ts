import type { GatewayConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { PipelineSettings } from './cameraPipeline.js';
import type { Prober } from './tiers.js';
import { chooseH264Encoder, readFfmpegCapabilities, type FfmpegCapabilities } from './ffmpegCapabilities.js';
import { findDemoFont } from './demoSource.js';
import { probeStream } from './probe.js';
import { RecentProbes } from './probeCache.js';

export interface FfmpegSetup {
  capabilities: FfmpegCapabilities;
  /** The encoder of masked shared tiers: the configured one, or the one `auto` chose. */
  sharedEncoder: string;
}

/** Reads the ffmpeg the gateway will drive, once at start-up, and chooses the shared tiers' encoder. */
export async function detectFfmpeg(config: GatewayConfig, logger: Logger): Promise<FfmpegSetup> {
  const capabilities = await readFfmpegCapabilities(config.ffmpeg.ffmpegPath, logger);
  const wanted = config.privacy.sharedEncoder.encoder;
  const sharedEncoder = wanted === 'auto' ? await chooseH264Encoder(config.ffmpeg.ffmpegPath, capabilities.videoEncoders, logger) : wanted;
  logger.info({ encoder: sharedEncoder, configured: wanted }, 'encoder of masked shared tiers');
  logger.info(
    {
      ffmpegVersion: capabilities.version,
      videoEncoders: capabilities.videoEncoders.length,
      libx264: capabilities.hasLibx264,
      hardwareEncodersBuiltIn: capabilities.videoEncoders.filter((e) => /nvenc|vaapi|qsv|v4l2m2m/.test(e)),
    },
    'ffmpeg found',
  );
  return { capabilities, sharedEncoder };
}

/** How every supervised ffmpeg runs, from the config. */
export function pipelineSettings(config: GatewayConfig, dataDir: string, sharedEncoder: string): PipelineSettings {
  const ingest = config.ingest;
  return {
    ffmpegPath: config.ffmpeg.ffmpegPath,
    rtspTransport: ingest.rtspTransport,
    socketTimeoutSeconds: ingest.socketTimeoutSeconds,
    stallMs: ingest.stallSeconds * 1000,
    startTimeoutMs: Math.max(10, ingest.probeTimeoutSeconds) * 1000,
    backoff: ingest.backoff,
    maxRestartsPerMinute: ingest.maxRestartsPerMinute,
    liveTranscode: ingest.h265Live,
    sharedEncoder: { ...config.privacy.sharedEncoder, encoder: sharedEncoder },
    dataDir,
    demoFont: findDemoFont(),
  };
}

export interface CameraProbes {
  /** The play check before a camera is stored (URL with credentials); the ingest then reuses its result. */
  playCheck(source: string): Promise<void>;
  /** The ingest's probe: a play check's fresh result, else a probe of its own. */
  ingest: Prober;
}

/** The ffprobe runs of the cameras, as configured. */
export function cameraProbes(config: GatewayConfig, logger: Logger): CameraProbes {
  const options = {
    ffprobePath: config.ffmpeg.ffprobePath,
    rtspTransport: config.ingest.rtspTransport,
    timeoutMs: config.ingest.probeTimeoutSeconds * 1000,
    socketTimeoutSeconds: config.ingest.socketTimeoutSeconds,
    logger,
  };
  const recent = new RecentProbes();
  return {
    playCheck: async (source) => recent.remember(source, await probeStream(source, options)),
    ingest: async (url, signal) => recent.take(url) ?? probeStream(url, { ...options, signal }),
  };
}
