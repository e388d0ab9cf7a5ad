/**
 * The built-in test source of a demo camera: ffmpeg's `testsrc2` pattern with a clock drawn
 * in, encoded to H.264 by the ingest itself, so a first look needs no camera and no
 * GStreamer. Pure: argv and constants only, apart from finding a font.
 */
import { existsSync } from 'node:fs';
import type { StreamInfo } from './streamInfo.js';

export { DEMO_SOURCE_URL, isDemoSource } from '../domain/index.js';

const WIDTH = 640;
const HEIGHT = 360;
export const DEMO_FPS = 25;
/** A new viewer waits at most one GOP; recordings' segments cut on these keyframes. */
export const DEMO_GOP_SECONDS = 2;

/** What a probe would report of the demo source: it is never probed, being made here. */
export const DEMO_STREAM_INFO: StreamInfo = {
  video: { codec: 'h264', width: WIDTH, height: HEIGHT, fps: DEMO_FPS, profile: null },
  audio: null,
  format: 'lavfi',
};

/** Fonts drawtext can read, the CJK one first (Debian's fonts-wqy-microhei, fonts-dejavu-core). */
export const DEMO_FONTS: readonly string[] = [
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
];

/** The first of DEMO_FONTS present here, or null: the pattern is then shown without the clock. */
export function findDemoFont(fonts: readonly string[] = DEMO_FONTS): string | null {
  return fonts.find((f) => existsSync(f)) ?? null;
}

/**
 * Input side of the ingest argv: the pattern at real time (`-re`), a local clock and frame
 * number drawn in when a font is available. The font path is one of the fixed paths above,
 * so it needs no filter-graph escaping beyond rejecting the characters that would break it.
 */
export function demoInputArgs(font: string | null): string[] {
  const pattern = `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${DEMO_FPS}`;
  if (font !== null && /[\\':,;[\]\s]/.test(font))
    throw new Error(`demo font path ${font} contains a character a filter graph cannot take`);
  const clock =
    font === null
      ? ''
      : `,drawtext=fontfile=${font}:text='psv-gateway demo %{localtime} #%{n}':fontsize=h/18:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=24:y=24`;
  return ['-re', '-f', 'lavfi', '-i', `${pattern}${clock}`];
}
