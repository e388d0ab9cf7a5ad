/**
 * A minimal POSIX ustar writer and reader: regular files only, names up to 100 bytes.
 * The dossier needs nothing more, and a bundle any `tar` reads lets a police station
 * check it without the gateway.
 */
import { GatewayError } from '../errors.js';

export interface TarFile {
  name: string;
  data: Buffer;
}

/** A file read back, with where its bytes sit in the archive (tests flip them). */
export interface TarEntry extends TarFile {
  offset: number;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, mtime: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length === 0 || nameBytes.length > 100) throw new Error(`tar name must be 1-100 bytes: ${name}`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum counts as spaces while summed
  h.write('0', 156, 'ascii');
  h.write('ustar\x0000', 257, 'binary');
  h.write(octal(checksum(h), 7), 148, 'ascii');
  h.write(' ', 155, 'ascii');
  return h;
}

function checksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
  return sum;
}

/** The archive of `files` in their order; `mtime` in seconds since 1970. */
export function writeTar(files: readonly TarFile[], mtime: number): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    blocks.push(header(f.name, f.data.length, mtime), f.data);
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad > 0) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

function malformed(message: string): GatewayError {
  return new GatewayError('VALIDATION_FAILED', `not a readable dossier archive: ${message}`, {
    hint: 'Check that the file is the whole .tar the gateway wrote (compare its size with the sender’s).',
  });
}

function field(h: Buffer, start: number, length: number): string {
  const raw = h.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** The regular files of a ustar archive; throws a GatewayError on a damaged header. */
export function readTar(archive: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let at = 0;
  while (at + BLOCK <= archive.length) {
    const h = archive.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return out;
    const stated = parseInt(field(h, 148, 8).trim(), 8);
    if (stated !== checksum(h)) throw malformed(`the header at byte ${at} fails its checksum`);
    const name = field(h, 0, 100);
    const size = parseInt(field(h, 124, 12).trim(), 8);
    const type = String.fromCharCode(h[156] ?? 0);
    if (!Number.isSafeInteger(size) || size < 0) throw malformed(`the header of ${name} states no size`);
    const offset = at + BLOCK;
    if (offset + size > archive.length) throw malformed(`${name} is cut short`);
    if (type === '0' || type === '\0') out.push({ name, data: archive.subarray(offset, offset + size), offset });
    at = offset + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw malformed('it ends without the closing blocks');
}
