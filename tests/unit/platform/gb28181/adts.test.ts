import { describe, expect, it } from 'vitest';
import { splitAdtsFrames } from '../../../../src/platform/gb28181/media/adts.js';

/** An ADTS header (13818-7 6.2.1) without CRC: AAC LC, the given rate index, mono, frame_length, one raw block. */
function adts(rateIndex: number, payload: number): Buffer {
  const length = 7 + payload;
  const h = Buffer.from([
    0xff,
    0xf1,
    0x40 | (rateIndex << 2),
    0x40 | (length >> 11),
    (length >> 3) & 0xff,
    ((length & 7) << 5) | 0x1f,
    0xfc,
  ]);
  return Buffer.concat([h, Buffer.alloc(payload, 0x21)]);
}

describe('splitAdtsFrames', () => {
  it('splits frames by frame_length and reads the sample rate', () => {
    const frames = splitAdtsFrames(Buffer.concat([adts(4, 10), adts(3, 300)]));
    expect(frames.map((f) => [f.data.length, f.sampleRate, f.samples])).toEqual([
      [17, 44_100, 1024],
      [307, 48_000, 1024],
    ]);
  });

  it('refuses a lost sync word, a reserved rate and a cut frame', () => {
    expect(() => splitAdtsFrames(Buffer.concat([adts(4, 10), Buffer.from([0x00, 0x01, 0, 0, 0, 0, 0])]))).toThrow(/sync word at byte 17/);
    expect(() => splitAdtsFrames(adts(13, 4))).toThrow(/reserved/);
    expect(() => splitAdtsFrames(adts(4, 10).subarray(0, 12))).toThrow(/does not fit/);
    expect(() => splitAdtsFrames(Buffer.concat([adts(4, 10), Buffer.from([0xff])]))).toThrow(/shorter than a header/);
  });
});
