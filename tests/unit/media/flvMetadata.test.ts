import { describe, expect, it } from 'vitest';
import { FlvTagReader } from '../../../src/media/flv.js';
import { stripSetDataFrame } from '../../../src/media/flvMetadata.js';

function amfString(s: string): Buffer {
  const b = Buffer.alloc(3 + s.length);
  b[0] = 0x02;
  b.writeUInt16BE(s.length, 1);
  b.write(s, 3, 'latin1');
  return b;
}

function scriptTag(body: Buffer): Buffer {
  const tag = Buffer.alloc(11 + body.length + 4);
  tag[0] = 18;
  tag.writeUIntBE(body.length, 1, 3);
  body.copy(tag, 11);
  tag.writeUInt32BE(11 + body.length, 11 + body.length);
  return tag;
}

const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x01, 0, 0, 0, 9, 0, 0, 0, 0]);
const ecmaEmpty = Buffer.from([0x08, 0, 0, 0, 0, 0, 0, 9]);

describe('stripSetDataFrame', () => {
  it('turns "@setDataFrame, onMetaData, {…}" into "onMetaData, {…}" with consistent sizes', () => {
    const fixed = stripSetDataFrame(scriptTag(Buffer.concat([amfString('@setDataFrame'), amfString('onMetaData'), ecmaEmpty])));
    expect(fixed).toEqual(scriptTag(Buffer.concat([amfString('onMetaData'), ecmaEmpty])));
    const tags = new FlvTagReader().push(Buffer.concat([FLV_HEADER, fixed]));
    expect(tags).toHaveLength(1);
    expect(tags[0]?.type).toBe('script');
    expect(tags[0]?.data.subarray(3, 13).toString()).toBe('onMetaData');
  });

  it('leaves other tags alone', () => {
    const plain = scriptTag(Buffer.concat([amfString('onMetaData'), ecmaEmpty]));
    expect(stripSetDataFrame(plain)).toBe(plain);
    const video = Buffer.from(plain);
    video[0] = 9;
    expect(stripSetDataFrame(video)).toBe(video);
  });
});
