import ffmpeg from 'fluent-ffmpeg';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { FfmpegProcess } from './ffmpegProcess.js';

export interface FfmpegCapabilities {
  version: string;
  /** Video encoders ffmpeg lists, e.g. libx264, h264_nvenc, h264_vaapi. */
  videoEncoders: string[];
  hasLibx264: boolean;
}

const INSTALL_HINT =
  'Install it with `apt-get install -y ffmpeg` (Debian/Ubuntu), or set ffmpeg.ffmpegPath / PSVGW_FFMPEG to its location.';

/**
 * Version and encoders of the ffmpeg the gateway will drive, read once at start-up.
 * Encoder discovery goes through fluent-ffmpeg's parser of `ffmpeg -encoders`. fluent-ffmpeg
 * spawns with the gateway's own environment, from which `psvgw start` has dropped the
 * config's PSVGW_* variables, secrets included (dropGatewayVariables); the listing reads no camera input.
 */
export async function readFfmpegCapabilities(ffmpegPath: string, logger: Logger): Promise<FfmpegCapabilities> {
  const probe = new FfmpegProcess({ binary: ffmpegPath, args: ['-hide_banner', '-version'], logger, stdout: 'capture' });
  const exit = await probe.start();
  const version = exit.stdout.match(/ffmpeg version (\S+)/)?.[1];
  if (exit.code !== 0 || !version) {
    throw new GatewayError(
      'FFMPEG_MISSING',
      `ffmpeg was not found or does not run at "${ffmpegPath}" (${exit.stderrTail.slice(-1).join('') || `status ${String(exit.code)}`}).`,
      {
        hint: INSTALL_HINT,
      },
    );
  }
  const encoders = await new Promise<Record<string, { type: string }>>((resolve, reject) => {
    const cmd = ffmpeg();
    cmd.setFfmpegPath(ffmpegPath);
    cmd.availableEncoders((err, list) => (err ? reject(err) : resolve(list as Record<string, { type: string }>)));
  }).catch((err: unknown) => {
    throw new GatewayError('FFMPEG_MISSING', `ffmpeg at "${ffmpegPath}" did not list its encoders: ${String(err)}`, { hint: INSTALL_HINT });
  });
  const videoEncoders = Object.entries(encoders)
    .filter(([, e]) => e.type === 'video')
    .map(([name]) => name)
    .sort();
  return { version, videoEncoders, hasLibx264: videoEncoders.includes('libx264') };
}

/** Hardware H.264 encoders that take the software frames of a filter graph as they are. */
const HARDWARE_H264 = ['h264_nvenc', 'h264_qsv', 'h264_amf', 'h264_videotoolbox'];

/**
 * The H.264 encoder to use for `auto`: the first hardware encoder ffmpeg lists that really
 * encodes a few frames here (a listed encoder often lacks its device or driver), else libx264.
 */
export async function chooseH264Encoder(ffmpegPath: string, listed: readonly string[], logger: Logger): Promise<string> {
  for (const encoder of HARDWARE_H264.filter((e) => listed.includes(e))) {
    const trial = new FfmpegProcess({
      binary: ffmpegPath,
      args: [
        '-hide_banner',
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x240:rate=25',
        '-frames:v',
        '5',
        '-pix_fmt',
        'yuv420p',
        '-c:v',
        encoder,
        '-f',
        'null',
        '-',
      ],
      logger,
      stdout: 'capture',
    });
    const timer = setTimeout(() => void trial.stop(500), 10_000);
    const exit = await trial.start();
    clearTimeout(timer);
    if (exit.code === 0) return encoder;
    logger.debug({ encoder, detail: exit.stderrTail.slice(-1)[0] }, 'hardware encoder listed but not usable');
  }
  return 'libx264';
}
