import { GatewayError } from '../errors.js';
import { redactUrl, type Logger } from '../log.js';
import { classifyFfmpegOutput, type FailureCause } from './failure.js';
import { FfmpegProcess } from './ffmpegProcess.js';
import { parseFfprobeJson, type StreamInfo } from './streamInfo.js';

export interface ProbeOptions {
  ffprobePath: string;
  rtspTransport: 'tcp' | 'udp';
  /** Whole-probe deadline; the child is killed when it passes. */
  timeoutMs: number;
  /** Socket I/O timeout handed to ffprobe's RTSP reader. */
  socketTimeoutSeconds: number;
  logger: Logger;
  /** Aborting kills the probe (the gateway is stopping). */
  signal?: AbortSignal;
}

/**
 * Reads a camera's stream description with ffprobe and turns every failure into a
 * GatewayError that says what is wrong (wrong password, host down, wrong path, not a
 * video stream) and how to fix it. `url` carries credentials; they never reach a log.
 */
export async function probeStream(url: string, opts: ProbeOptions): Promise<StreamInfo> {
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...(url.startsWith('rtsp') ? ['-rtsp_transport', opts.rtspTransport, '-timeout', String(opts.socketTimeoutSeconds * 1_000_000)] : []),
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    '-i',
    url,
  ];
  const proc = new FfmpegProcess({ binary: opts.ffprobePath, args, logger: opts.logger, stdout: 'capture' });
  const exitPromise = proc.start();
  const timer = setTimeout(() => void proc.stop(), opts.timeoutMs);
  const onAbort = () => void proc.stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await exitPromise;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  const where = redactUrl(url);
  if (exit.requested) {
    throw probeError('unreachable', where, [`no answer within ${Math.round(opts.timeoutMs / 1000)} s`]);
  }
  if (exit.code !== 0) {
    throw probeError(classifyFfmpegOutput(exit.stderrTail) ?? 'stream_unplayable', where, exit.stderrTail);
  }
  const info = safeParse(exit.stdout);
  if (!info) throw probeError('stream_unplayable', where, ['no video stream found']);
  return info;
}

function safeParse(stdout: string): StreamInfo | null {
  try {
    return parseFfprobeJson(stdout);
  } catch {
    return null;
  }
}

export function probeError(cause: FailureCause, where: string, stderrTail: string[]): GatewayError {
  const detail = stderrTail.slice(-3).join(' | ');
  switch (cause) {
    case 'auth_failed':
      return new GatewayError('CAMERA_AUTH_FAILED', `The camera at ${where} refused the credentials (${detail}).`, {
        hint: 'Check the username and password (pass them as "username"/"password" or in the URL as rtsp://user:pass@host/...); some cameras lock an account after repeated failures.',
      });
    case 'unreachable':
      return new GatewayError('CAMERA_UNREACHABLE', `The camera at ${where} cannot be reached (${detail}).`, {
        hint: 'Check the host and port (RTSP is usually 554), that the camera is powered and on the network, and that no firewall blocks the gateway.',
      });
    case 'not_found':
      return new GatewayError('CAMERA_STREAM_UNPLAYABLE', `The camera at ${where} has no stream at that path (${detail}).`, {
        hint: "Check the stream path in the camera's manual or its ONVIF stream URI, e.g. /Streaming/Channels/101.",
      });
    default:
      return new GatewayError('CAMERA_STREAM_UNPLAYABLE', `The stream at ${where} could not be read as video (${detail}).`, {
        hint: "Make sure the URL points to the camera's RTSP video stream; try `psvgw probe URL` to see what it returns.",
      });
  }
}
