/**
 * RTMP publishers (ffmpeg among them) send stream metadata as
 * `@setDataFrame, onMetaData, {…}`; an FLV file must carry just `onMetaData, {…}`, or
 * FLV readers (ffmpeg's, mpegts.js) ignore it and show a stray data stream instead.
 * Pure: one complete FLV script tag (header, body, previous-tag-size) in, fixed tag out.
 */
const SET_DATA_FRAME = Buffer.from([0x02, 0x00, 0x0d, ...Buffer.from('@setDataFrame')]);
const TAG_HEADER = 11;
const SCRIPT_TAG = 18;

export function stripSetDataFrame(tag: Buffer): Buffer {
  if (tag.length < TAG_HEADER + SET_DATA_FRAME.length + 4 || tag[0] !== SCRIPT_TAG) return tag;
  const bodyStart = TAG_HEADER;
  if (!tag.subarray(bodyStart, bodyStart + SET_DATA_FRAME.length).equals(SET_DATA_FRAME)) return tag;
  const oldSize = tag.readUIntBE(1, 3);
  const newSize = oldSize - SET_DATA_FRAME.length;
  const out = Buffer.alloc(TAG_HEADER + newSize + 4);
  tag.copy(out, 0, 0, TAG_HEADER);
  out.writeUIntBE(newSize, 1, 3);
  tag.copy(out, TAG_HEADER, bodyStart + SET_DATA_FRAME.length, bodyStart + oldSize);
  out.writeUInt32BE(TAG_HEADER + newSize, TAG_HEADER + newSize);
  return out;
}
