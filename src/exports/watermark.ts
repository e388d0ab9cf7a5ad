/**
 * The visible watermark (电子水印, zhuzhou-2023 Art. 12.4): request id, the officers'
 * names and the export time, burned into every frame with ffmpeg's drawtext in a CJK
 * font so Chinese names render. Pure: text and filter strings only.
 */
import { existsSync } from 'node:fs';
import { GatewayError } from '../errors.js';

/** fonts-wqy-microhei (Debian): a CJK font drawtext can read. */
export const DEFAULT_WATERMARK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';

export interface WatermarkFacts {
  requestId: string;
  staffNames: readonly string[];
  exportedAt: string;
}

/** Three lines, Chinese labels with English ones beside them. */
export function watermarkText(f: WatermarkFacts): string {
  return [`调取申请 Request ${f.requestId}`, `调取人 Officers ${f.staffNames.join(' / ')}`, `导出时间 Exported ${f.exportedAt}`].join('\n');
}

/** A value inside a filter option, escaped for the option level and then the filter graph level (ffmpeg-filters "Notes on filtergraph escaping"). */
export function filterValue(value: string): string {
  const option = value.replace(/[\\':]/g, '\\$&');
  return option.replace(/[\\'[\],;]/g, '\\$&');
}

/**
 * The drawtext filter. The text comes from a file (`textfile`, expansion off), so no
 * character of a name or id can break out of the filter graph; the box keeps it legible
 * on any picture; the size follows the frame height.
 */
export function drawtextFilter(opts: { fontFile: string; textFile: string }): string {
  return [
    `drawtext=fontfile=${filterValue(opts.fontFile)}`,
    `textfile=${filterValue(opts.textFile)}`,
    'expansion=none',
    'fontsize=h/24',
    'line_spacing=6',
    'fontcolor=white',
    'box=1',
    'boxcolor=black@0.6',
    'boxborderw=8',
    'x=16',
    'y=16',
  ].join(':');
}

/** Fails with what to install when the font is missing (drawtext would fail later, less clearly). */
export function requireWatermarkFont(fontFile: string): void {
  if (!existsSync(fontFile)) {
    throw new GatewayError('FFMPEG_MISSING', `the watermark font ${fontFile} is missing, so no export can be watermarked`, {
      hint: 'Install the Debian package fonts-wqy-microhei (apt-get install fonts-wqy-microhei), or point exports at another CJK font file.',
    });
  }
}
