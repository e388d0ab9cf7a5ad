/** What a camera's stream carries, as far as routing it through the gateway is concerned. */
export interface StreamInfo {
  video: { codec: string; width: number; height: number; fps: number | null; profile: string | null };
  audio: { codec: string; sampleRate: number | null; channels: number | null } | null;
  /** Container/format name ffprobe reported (e.g. 'rtsp'). */
  format: string | null;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  profile?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { format_name?: string };
}

/** Parses `ffprobe -of json -show_streams -show_format` output. Pure; null when there is no video. */
export function parseFfprobeJson(json: string): StreamInfo | null {
  const data = JSON.parse(json) as FfprobeOutput;
  const streams = data.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && s.codec_name);
  if (!video?.codec_name) return null;
  const audio = streams.find((s) => s.codec_type === 'audio' && s.codec_name);
  return {
    video: {
      codec: video.codec_name,
      width: video.width ?? 0,
      height: video.height ?? 0,
      fps: parseRate(video.avg_frame_rate) ?? parseRate(video.r_frame_rate),
      profile: video.profile ?? null,
    },
    audio: audio?.codec_name
      ? {
          codec: audio.codec_name,
          sampleRate: audio.sample_rate ? Number(audio.sample_rate) : null,
          channels: audio.channels ?? null,
        }
      : null,
    format: data.format?.format_name ?? null,
  };
}

/** '25/1' → 25; '0/0' → null. Cameras report odd rates like '90000/1' in r_frame_rate; cap at 240. */
export function parseRate(raw: string | undefined): number | null {
  const match = raw?.match(/^(\d+)\/(\d+)$/);
  if (!match) return null;
  const num = Number(match[1]);
  const den = Number(match[2]);
  if (den === 0 || num === 0) return null;
  const fps = num / den;
  return fps > 240 ? null : Math.round(fps * 1000) / 1000;
}

/** FLV (the live tiers) carries H.264 and AAC; anything else is transcoded for live. */
export function liveNeedsVideoTranscode(info: StreamInfo): boolean {
  return info.video.codec !== 'h264';
}

export function liveNeedsAudioTranscode(info: StreamInfo): boolean {
  return info.audio !== null && info.audio.codec !== 'aac';
}
