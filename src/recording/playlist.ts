import type { ChainEntry } from '../domain/index.js';

/**
 * An HLS VOD playlist of recorded segments. Segments of one ingest run share a timeline;
 * a hole between two segments (a new run) is marked as a discontinuity so players reset
 * their clocks there. Seeking works because the whole list is known (ENDLIST).
 */
export function hlsPlaylist(segments: readonly ChainEntry[], segmentUrl: (s: ChainEntry) => string, toleranceMs = 1500): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil((s.endMs - s.startMs) / 1000)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  let prev: ChainEntry | undefined;
  for (const s of segments) {
    if (prev && (prev.partial || Math.abs(s.startMs - prev.endMs) > toleranceMs)) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${((s.endMs - s.startMs) / 1000).toFixed(3)},`, segmentUrl(s));
    prev = s;
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}
