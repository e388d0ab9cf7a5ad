/**
 * AAC in ADTS (ISO/IEC 13818-7 6.2 / ISO/IEC 14496-3 1.A.2): the form a program stream
 * carries AAC in (stream type 0x0F). Splits a byte stream into frames with their duration.
 */

export interface AdtsFrame {
  /** The whole frame, header included. */
  data: Buffer;
  sampleRate: number;
  /** PCM samples per channel: 1024 per raw data block. */
  samples: number;
}

/** sampling_frequency_index (14496-3 Table 1.18). */
const SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
const HEADER_SIZE = 7;

/** The frames of a buffer that holds whole ADTS frames; throws on a lost sync word or a cut frame. */
export function splitAdtsFrames(data: Buffer): AdtsFrame[] {
  const out: AdtsFrame[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (data.length - offset < HEADER_SIZE) throw new Error(`ADTS: ${data.length - offset} trailing bytes, shorter than a header`);
    // syncword 0xFFF, then ID, layer '00', protection_absent
    if (data[offset] !== 0xff || (data[offset + 1]! & 0xf6) !== 0xf0) throw new Error(`ADTS: no sync word at byte ${offset}`);
    const rateIndex = (data[offset + 2]! >> 2) & 0x0f;
    const sampleRate = SAMPLE_RATES[rateIndex];
    if (sampleRate === undefined) throw new Error(`ADTS: sampling_frequency_index ${rateIndex} is reserved`);
    const length = ((data[offset + 3]! & 0x03) << 11) | (data[offset + 4]! << 3) | (data[offset + 5]! >> 5);
    if (length < HEADER_SIZE || offset + length > data.length)
      throw new Error(`ADTS: frame_length ${length} at byte ${offset} does not fit`);
    const blocks = (data[offset + 6]! & 0x03) + 1;
    out.push({ data: data.subarray(offset, offset + length), sampleRate, samples: 1024 * blocks });
    offset += length;
  }
  return out;
}
