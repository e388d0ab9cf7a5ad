/**
 * Annex-B byte streams (H.264 Annex B, H.265 Annex B): start-code delimited NAL units,
 * grouped into access units with their NAL types, so the PS muxer can find key frames.
 * Pure: feed bytes as they arrive (ffmpeg -f h264 / -f hevc on a pipe), get whole units back.
 */

export type VideoCodec = 'h264' | 'h265';

export interface NalUnit {
  /** nal_unit_type: 5 bits for H.264 (7.3.1), 6 bits for H.265 (7.3.1.2). */
  type: number;
  /** The NAL unit from its header on, without start code or trailing zero bytes. */
  data: Buffer;
}

export interface AccessUnit {
  codec: VideoCodec;
  nals: NalUnit[];
  /** Holds an IDR picture (H.264) or an IRAP picture (H.265). */
  irap: boolean;
  /** Carries every parameter set a decoder needs to start here (SPS+PPS, or VPS+SPS+PPS). */
  hasParameterSets: boolean;
  /** A decoder can start here: irap with its parameter sets. */
  keyFrame: boolean;
}

/** NAL types the muxer and splitter rely on. */
export const H264Nal = { IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;
export const H265Nal = { IRAP_FIRST: 16, IRAP_LAST: 21, VPS: 32, SPS: 33, PPS: 34, AUD: 35, PREFIX_SEI: 39 } as const;

const START_CODE = Buffer.from([0, 0, 1]);
const PARAMETER_SETS: Record<VideoCodec, readonly number[]> = {
  h264: [H264Nal.SPS, H264Nal.PPS],
  h265: [H265Nal.VPS, H265Nal.SPS, H265Nal.PPS],
};

export function nalTypeOf(codec: VideoCodec, firstByte: number): number {
  return codec === 'h264' ? firstByte & 0x1f : (firstByte >> 1) & 0x3f;
}

/** Coded slice of a picture: H.264 types 1..5 (Table 7-1), H.265 types 0..31 (Table 7-1). */
export function isVcl(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type >= 1 && type <= 5 : type < 32;
}

export function isIrap(codec: VideoCodec, type: number): boolean {
  return codec === 'h264' ? type === H264Nal.IDR : type >= H265Nal.IRAP_FIRST && type <= H265Nal.IRAP_LAST;
}

export function isParameterSet(codec: VideoCodec, type: number): boolean {
  return PARAMETER_SETS[codec].includes(type);
}

/**
 * Whether this NAL opens a new access unit once the current one has a picture:
 * H.264 7.4.1.2.3 (AUD, SPS, PPS, SEI, 14..18, or a slice with first_mb_in_slice 0);
 * H.265 7.4.2.4.4 (AUD, VPS, SPS, PPS, prefix SEI, 41..44, 48..55, or a slice with
 * first_slice_segment_in_pic_flag). first_mb_in_slice is ue(v): 0 codes as a single 1 bit.
 */
function opensAccessUnit(codec: VideoCodec, nal: Buffer, type: number): boolean {
  if (codec === 'h264') {
    if (type === H264Nal.SEI || type === H264Nal.SPS || type === H264Nal.PPS || type === H264Nal.AUD) return true;
    if (type >= 14 && type <= 18) return true;
    return isVcl(codec, type) && nal.length > 1 && (nal[1]! & 0x80) !== 0;
  }
  if (type >= H265Nal.VPS && type <= H265Nal.AUD) return true;
  if (type === H265Nal.PREFIX_SEI || (type >= 41 && type <= 44) || (type >= 48 && type <= 55)) return true;
  return isVcl(codec, type) && nal.length > 2 && (nal[2]! & 0x80) !== 0;
}

/** Drops trailing_zero_8bits and the leading zero of a following 4-byte start code. */
function trimTrailingZeros(data: Buffer): Buffer {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end -= 1;
  return data.subarray(0, end);
}

export function accessUnitOf(codec: VideoCodec, nals: NalUnit[]): AccessUnit {
  const types = new Set(nals.map((n) => n.type));
  const irap = nals.some((n) => isIrap(codec, n.type));
  const hasParameterSets = PARAMETER_SETS[codec].every((t) => types.has(t));
  return { codec, nals, irap, hasParameterSets, keyFrame: irap && hasParameterSets };
}

/** The NAL units of a whole Annex-B buffer (one access unit, or a complete stream). */
export function splitNalUnits(codec: VideoCodec, data: Buffer): NalUnit[] {
  const out: NalUnit[] = [];
  let at = data.indexOf(START_CODE);
  while (at >= 0) {
    const start = at + 3;
    const next = data.indexOf(START_CODE, start);
    const body = trimTrailingZeros(data.subarray(start, next < 0 ? data.length : next));
    if (body.length > 0) out.push({ type: nalTypeOf(codec, body[0]!), data: body });
    at = next;
  }
  return out;
}

/** Serializes NAL units with 4-byte start codes (the form ffmpeg and cameras emit at an access unit's start). */
export function toAnnexB(nals: readonly NalUnit[]): Buffer {
  const parts: Buffer[] = [];
  for (const nal of nals) parts.push(Buffer.from([0, 0, 0, 1]), nal.data);
  return Buffer.concat(parts);
}

/**
 * Incremental splitter: push chunks of an elementary stream, get the access units that
 * are complete (an access unit ends when the next one opens); flush() at end of stream.
 */
export class AnnexBSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Offset in buf of the current NAL's first byte after its start code, -1 before the first start code. */
  private nalStart = -1;
  /** Where the next start-code search begins (so a large NAL is scanned once). */
  private scanFrom = 0;
  private current: NalUnit[] = [];
  private currentHasPicture = false;

  constructor(readonly codec: VideoCodec) {}

  push(chunk: Buffer): AccessUnit[] {
    const out: AccessUnit[] = [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const at = this.buf.indexOf(START_CODE, this.scanFrom);
      if (at < 0) break;
      if (this.nalStart >= 0) this.takeNal(this.buf.subarray(this.nalStart, at), out);
      this.nalStart = at + 3;
      this.scanFrom = at + 3;
    }
    // A start code may straddle this chunk and the next one: rescan the last two bytes.
    this.scanFrom = Math.max(this.nalStart, this.buf.length - 2, 0);
    const keep = this.nalStart >= 0 ? this.nalStart : this.scanFrom;
    this.buf = this.buf.subarray(keep);
    this.scanFrom -= keep;
    if (this.nalStart >= 0) this.nalStart = 0;
    return out;
  }

  /** The last NAL and access unit, at end of stream. */
  flush(): AccessUnit[] {
    const out: AccessUnit[] = [];
    if (this.nalStart >= 0) this.takeNal(this.buf.subarray(this.nalStart), out);
    this.buf = Buffer.alloc(0);
    this.nalStart = -1;
    this.scanFrom = 0;
    if (this.current.length > 0) out.push(accessUnitOf(this.codec, this.current));
    this.current = [];
    this.currentHasPicture = false;
    return out;
  }

  private takeNal(raw: Buffer, out: AccessUnit[]): void {
    const data = trimTrailingZeros(raw);
    if (data.length === 0) return;
    const type = nalTypeOf(this.codec, data[0]!);
    if (this.currentHasPicture && opensAccessUnit(this.codec, data, type)) {
      out.push(accessUnitOf(this.codec, this.current));
      this.current = [];
      this.currentHasPicture = false;
    }
    this.current.push({ type, data });
    if (isVcl(this.codec, type)) this.currentHasPicture = true;
  }
}

/**
 * Remembers the latest parameter sets and puts them in front of an IRAP access unit that
 * lacks them (cameras often send SPS/PPS only once), so every IRAP sent is a key frame.
 */
export class ParameterSetCache {
  private readonly latest = new Map<number, NalUnit>();

  constructor(readonly codec: VideoCodec) {}

  complete(au: AccessUnit): AccessUnit {
    for (const nal of au.nals) if (isParameterSet(this.codec, nal.type)) this.latest.set(nal.type, nal);
    if (!au.irap || au.hasParameterSets) return au;
    const sets = PARAMETER_SETS[this.codec].map((t) => this.latest.get(t));
    if (sets.some((n) => n === undefined)) return au;
    // The whole set, in order, after an access unit delimiter and before the rest (H.264 7.4.1.2.3, H.265 7.4.2.4.4).
    const aud = this.codec === 'h264' ? H264Nal.AUD : H265Nal.AUD;
    const lead = au.nals[0]?.type === aud ? 1 : 0;
    const rest = au.nals.slice(lead).filter((n) => !isParameterSet(this.codec, n.type));
    const nals = [...au.nals.slice(0, lead), ...(sets as NalUnit[]), ...rest];
    return accessUnitOf(this.codec, nals);
  }
}
