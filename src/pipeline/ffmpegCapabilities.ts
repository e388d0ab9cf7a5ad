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
 * `ffmpeg -encoders` is run through FfmpegProcess, not fluent-ffmpeg, whose spawn would
 * hand ffmpeg the gateway's whole environment (secrets included).
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
  const listing = await new FfmpegProcess({ binary: ffmpegPath, args: ['-hide_banner', '-encoders'], logger, stdout: 'capture' }).start();
  if (listing.code !== 0) {
    const why = listing.stderrTail.slice(-1).join('') || `status ${String(listing.code)}`;
    throw new GatewayError('FFMPEG_MISSING', `ffmpeg at "${ffmpegPath}" did not list its encoders: ${why}`, { hint: INSTALL_HINT });
  }
  const videoEncoders = parseVideoEncoders(listing.stdout);
  return { version, videoEncoders, hasLibx264: videoEncoders.includes('libx264') };
}

/**
 * Names of the video encoders in `ffmpeg -encoders` output: after the legend's `------`
 * line, each line is flags (first one V for video), name, description.
 */
export function parseVideoEncoders(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith('------'));
  if (start < 0) return [];
  return lines
    .slice(start + 1)
    .map((l) => /^\s*V\S{5}\s+(\S+)/.exec(l)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
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
