import { describe, expect, it } from 'vitest';
import {
  AnnexBSplitter,
  ParameterSetCache,
  splitNalUnits,
  toAnnexB,
  type AccessUnit,
  type VideoCodec,
} from '../../../../src/platform/gb28181/media/annexb.js';

const nal = (...b: number[]) => Buffer.from(b);
const sc4 = nal(0, 0, 0, 1);
const sc3 = nal(0, 0, 1);

// H.264 (Table 7-1): header byte nal_ref_idc | type; a slice's next byte has first_mb_in_slice 0 as its top bit.
const h264 = {
  aud: nal(0x09, 0xf0),
  sps: nal(0x67, 0x42, 0xc0, 0x1e),
  pps: nal(0x68, 0xce, 0x3c, 0x80),
  sei: nal(0x06, 0x05, 0x01, 0x80),
  idr: nal(0x65, 0x88, 0x84, 0x21),
  slice: nal(0x41, 0x9a, 0x21, 0x03),
  // A second slice of the same picture: first_mb_in_slice != 0 (top bit 0).
  slice2: nal(0x41, 0x3a, 0x21, 0x03),
};
// H.265 (Table 7-1): two header bytes, type in bits 1..6 of the first; first_slice_segment_in_pic_flag tops the third.
const h265 = {
  vps: nal(0x40, 0x01, 0x0c),
  sps: nal(0x42, 0x01, 0x01),
  pps: nal(0x44, 0x01, 0xc1),
  idr: nal(0x26, 0x01, 0xaf, 0x10), // IDR_W_RADL (19)
  cra: nal(0x2a, 0x01, 0xaf, 0x10), // CRA (21)
  trail: nal(0x02, 0x01, 0xd0, 0x10), // TRAIL_R (1)
  trail2: nal(0x02, 0x01, 0x50, 0x10), // a further slice segment of the same picture
};

function split(codec: VideoCodec, stream: Buffer, chunk: number): AccessUnit[] {
  const s = new AnnexBSplitter(codec);
  const out: AccessUnit[] = [];
  for (let i = 0; i < stream.length; i += chunk) out.push(...s.push(stream.subarray(i, i + chunk)));
  return [...out, ...s.flush()];
}

const summary = (aus: AccessUnit[]) => aus.map((au) => ({ types: au.nals.map((n) => n.type), key: au.keyFrame, irap: au.irap }));

describe('AnnexBSplitter', () => {
  it('groups H.264 NAL units into access units (7.4.1.2.3), whatever the chunking', () => {
    const stream = Buffer.concat([
      sc4, h264.aud, sc4, h264.sps, sc4, h264.pps, sc3, h264.sei, sc3, h264.idr,
      sc4, h264.slice, sc3, h264.slice2, nal(0, 0), // trailing zero bytes before the next start code
      sc4, h264.idr,
      sc4, h264.slice,
    ]); // prettier-ignore
    const expected = [
      { types: [9, 7, 8, 6, 5], key: true, irap: true },
      { types: [1, 1], key: false, irap: false },
      { types: [5], key: false, irap: true },
      { types: [1], key: false, irap: false },
    ];
    for (const chunk of [1, 2, 3, 5, 8, stream.length]) expect(summary(split('h264', stream, chunk))).toEqual(expected);
    const aus = split('h264', stream, 3);
    expect(aus[1]!.nals[1]!.data).toEqual(h264.slice2);
    expect(toAnnexB(aus[1]!.nals)).toEqual(Buffer.concat([sc4, h264.slice, sc4, h264.slice2]));
  });

  it('groups H.265 NAL units (7.4.2.4.4): IRAP types 16..21 with VPS/SPS/PPS are key frames', () => {
    const stream = Buffer.concat([
      sc4, h265.vps, sc4, h265.sps, sc4, h265.pps, sc4, h265.idr,
      sc4, h265.trail, sc3, h265.trail2,
      sc4, h265.cra,
    ]); // prettier-ignore
    expect(summary(split('h265', stream, 2))).toEqual([
      { types: [32, 33, 34, 19], key: true, irap: true },
      { types: [1, 1], key: false, irap: false },
      { types: [21], key: false, irap: true },
    ]);
  });

  it('ignores bytes before the first start code and gives nothing for an empty stream', () => {
    expect(summary(split('h264', Buffer.concat([nal(0xff, 0x00), sc3, h264.slice]), 1))).toEqual([{ types: [1], key: false, irap: false }]);
    expect(new AnnexBSplitter('h264').flush()).toEqual([]);
  });

  it('splitNalUnits reads a whole buffer', () => {
    expect(splitNalUnits('h265', Buffer.concat([sc4, h265.vps, sc3, h265.idr])).map((n) => n.type)).toEqual([32, 19]);
  });
});

describe('ParameterSetCache', () => {
  it('puts the latest parameter sets after the AUD of an IDR that lacks them', () => {
    const cache = new ParameterSetCache('h264');
    const [first, bare, slice] = split(
      'h264',
      Buffer.concat([sc4, h264.sps, sc4, h264.pps, sc4, h264.idr, sc4, h264.aud, sc4, h264.idr, sc4, h264.slice]),
      64,
    );
    expect(cache.complete(first!)).toBe(first);
    const fixed = cache.complete(bare!);
    expect(fixed.nals.map((n) => n.type)).toEqual([9, 7, 8, 5]);
    expect(fixed.keyFrame).toBe(true);
    expect(cache.complete(slice!)).toBe(slice);
  });

  it('leaves an IRAP alone until it has seen every parameter set', () => {
    const cache = new ParameterSetCache('h265');
    const [au] = split('h265', Buffer.concat([sc4, h265.sps, sc4, h265.pps, sc4, h265.idr]), 64);
    expect(cache.complete(au!).keyFrame).toBe(false);
  });
});
