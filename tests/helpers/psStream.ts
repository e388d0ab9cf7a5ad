/**
 * What an upper platform would read from a depacketized GB/T 28181 PS stream: the video as
 * ffprobe sees it, whether it starts at a key frame, and the stream types of the PSM.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffprobeStreams, streamOf } from './media.js';

export interface PsVideo {
  codec: string | undefined;
  width: number | undefined;
  height: number | undefined;
  rate: string | undefined;
  firstKeyFrame: boolean;
}

/** ffprobe's reading of a PS file's video and of its first frame. */
export async function probePsVideo(file: string): Promise<PsVideo> {
  const video = streamOf(await ffprobeStreams(file), 'video');
  const { stdout } = await promisify(execFile)('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-read_intervals', '%+#1'],
    ...['-show_entries', 'frame=key_frame', '-of', 'json', file],
  ]);
  const first = (JSON.parse(stdout) as { frames: { key_frame?: number }[] }).frames[0];
  return {
    codec: video.codec_name,
    width: video.width,
    height: video.height,
    rate: video.r_frame_rate,
    firstKeyFrame: first?.key_frame === 1,
  };
}

/** The stream types of the first program stream map (ISO/IEC 13818-1 2.5.4) in a PS byte stream; [] without one. */
export function psmStreamTypes(ps: Buffer): number[] {
  const at = ps.indexOf(Buffer.from([0, 0, 1, 0xbc]));
  if (at < 0 || at + 12 > ps.length) return [];
  const mapStart = at + 10 + ps.readUInt16BE(at + 8);
  const mapEnd = Math.min(mapStart + 2 + ps.readUInt16BE(mapStart), ps.length);
  const types: number[] = [];
  for (let i = mapStart + 2; i + 4 <= mapEnd; i += 4 + ps.readUInt16BE(i + 2)) types.push(ps[i]!);
  return types;
}
