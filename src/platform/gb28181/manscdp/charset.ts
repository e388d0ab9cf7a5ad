/**
 * Body character sets for MANSCDP XML (GB/T 28181-2016 Annex A examples declare GB2312;
 * platforms also send GB18030 and UTF-8). GB2312 and GBK are read as GB18030, their
 * superset, so rare characters (堃, 𠀀) written by a GB18030 peer survive.
 */
import iconv from 'iconv-lite';

export type BodyCharset = 'GB18030' | 'UTF-8';

/** The `encoding="…"` of an XML declaration (XML 1.0 §4.3.3), read from the ASCII prefix. */
export function declaredXmlEncoding(body: Buffer): string | undefined {
  const head = body.subarray(0, 200).toString('latin1');
  const m = /^(?:\uFEFF|\xEF\xBB\xBF)?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  return m?.[1];
}

/** The charset a declared label maps to; undefined when it is one this gateway does not read. */
export function charsetOfLabel(label: string): BodyCharset | undefined {
  const l = label.toLowerCase().replace(/[_\s]/g, '-');
  if (l === 'gb2312' || l === 'gbk' || l === 'gb18030' || l === 'cp936' || l === 'euc-cn') return 'GB18030';
  if (l === 'utf-8' || l === 'utf8') return 'UTF-8';
  return undefined;
}

export class CharsetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CharsetError';
  }
}

/**
 * Decodes a body honouring its declared encoding. Without a declaration XML means UTF-8;
 * bytes that are not valid UTF-8 are then read as GB18030, since platforms that omit the
 * declaration send GB2312 in practice. One known mislabelling is corrected: a body that
 * declares GB2312/GBK/GB18030 but is valid UTF-8 made only of ASCII and 3- or 4-byte
 * sequences (CJK text) is UTF-8; GB-encoded Chinese practically never forms such
 * sequences, and a 2-byte sequence (Latin/Greek/Cyrillic) is left to the declaration.
 */
export function decodeBody(body: Buffer): { text: string; charset: BodyCharset; mislabelled?: true } {
  const label = declaredXmlEncoding(body);
  let charset: BodyCharset;
  let mislabelled = false;
  if (label !== undefined) {
    const known = charsetOfLabel(label);
    if (known === undefined) throw new CharsetError(`unsupported XML encoding ${label}`);
    charset = known;
    if (charset === 'GB18030' && looksLikeCjkUtf8(body)) {
      charset = 'UTF-8';
      mislabelled = true;
    }
  } else charset = utf8Text(body) !== undefined ? 'UTF-8' : 'GB18030';
  const text = iconv.decode(body, charset === 'UTF-8' ? 'utf8' : 'gb18030').replace(/^\uFEFF/, '');
  return mislabelled ? { text, charset, mislabelled: true } : { text, charset };
}

/** Encodes text in the given charset (GB18030 covers every Unicode character). */
export function encodeText(text: string, charset: BodyCharset): Buffer {
  return charset === 'UTF-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'gb18030');
}

/** The text when `buf` is valid UTF-8, else undefined. */
function utf8Text(buf: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return undefined;
  }
}

/** Valid UTF-8 with non-ASCII text, none of it in the 2-byte range U+0080–U+07FF. */
function looksLikeCjkUtf8(buf: Buffer): boolean {
  const text = utf8Text(buf);
  return text !== undefined && /[^\u0000-\u007f]/.test(text) && !/[\u0080-\u07ff]/.test(text);
}
