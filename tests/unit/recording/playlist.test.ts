import { describe, expect, it } from 'vitest';
import { hlsPlaylist } from '../../../src/recording/index.js';
import type { ChainEntry } from '../../../src/domain/index.js';

const seg = (seq: number, startMs: number, endMs: number, partial = false) => ({ seq, startMs, endMs, partial }) as ChainEntry;

describe('hlsPlaylist', () => {
  it('lists segments as a VOD playlist and marks a discontinuity after a gap or a partial segment', () => {
    const text = hlsPlaylist(
      [seg(1, 0, 10_000), seg(2, 10_000, 20_000, true), seg(3, 25_000, 35_000), seg(4, 35_000, 45_400)],
      (s) => `${s.seq}.ts?token=t`,
    );
    expect(text.split('\n')).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:11',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXTINF:10.000,',
      '1.ts?token=t',
      '#EXTINF:10.000,',
      '2.ts?token=t',
      '#EXT-X-DISCONTINUITY',
      '#EXTINF:10.000,',
      '3.ts?token=t',
      '#EXTINF:10.400,',
      '4.ts?token=t',
      '#EXT-X-ENDLIST',
      '',
    ]);
  });
});
