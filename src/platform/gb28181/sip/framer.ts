/**
 * SIP over TCP: cuts a byte stream into messages by the header section's blank line and
 * Content-Length (RFC 3261 §18.3). Pure: feed it chunks as they arrive. A message that is
 * framed but malformed is reported and skipped; a stream that cannot be framed any more
 * (bad Content-Length, endless header) makes `feed` throw, and the connection should close.
 */
import { SipParseError, contentLengthOf, findHeaderEnd, leadingBlankLength, tryParseSipMessage, type SipMessage } from './message.js';

export interface SipFrame {
  /** The message's bytes, header section and body. */
  raw: Buffer;
  /** The parsed message, or why it was rejected. */
  message: SipMessage | SipParseError;
}

export interface SipFramerOptions {
  /** Longest header section accepted before the stream is declared broken. */
  maxHeaderBytes?: number;
  /** Largest body accepted (a Catalog over TCP stays far below this). */
  maxBodyBytes?: number;
}

export class SipFramer {
  private buf: Buffer = Buffer.alloc(0);
  private broken: SipParseError | undefined;
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;

  constructor(opts: SipFramerOptions = {}) {
    this.maxHeaderBytes = opts.maxHeaderBytes ?? 16 * 1024;
    this.maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;
  }

  /** Bytes held for an incomplete message. */
  get pending(): number {
    return this.buf.length;
  }

  /** Adds a chunk; returns every message it completes, in order. */
  feed(chunk: Buffer): SipFrame[] {
    if (this.broken !== undefined) throw this.broken;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: SipFrame[] = [];
    for (;;) {
      // CRLF keep-alives between messages (RFC 5626 §3.5.1) are dropped.
      const blank = leadingBlankLength(this.buf);
      if (blank > 0) this.buf = this.buf.subarray(blank);
      const bounds = findHeaderEnd(this.buf);
      if (bounds === undefined) {
        if (this.buf.length > this.maxHeaderBytes) this.fail('too-large', `SIP header section over ${this.maxHeaderBytes} bytes`);
        break;
      }
      const length = this.bodyLength(this.buf.toString('utf8', 0, bounds.end));
      if (this.buf.length < bounds.bodyStart + length) break;
      const raw = Buffer.from(this.buf.subarray(0, bounds.bodyStart + length));
      this.buf = this.buf.subarray(bounds.bodyStart + length);
      frames.push({ raw, message: tryParseSipMessage(raw, { stream: true }) });
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    else this.buf = Buffer.from(this.buf); // do not pin the chunk the remainder came from
    return frames;
  }

  /** The body length the header section declares; a missing Content-Length reads as 0. */
  private bodyLength(head: string): number {
    let length: number | undefined;
    try {
      // Only the length matters here: a bad start line or header is reported on the frame.
      length = contentLengthOf(contentLengthLines(head));
    } catch (err) {
      this.fail('bad-content-length', err instanceof Error ? err.message : String(err));
    }
    length ??= 0;
    if (length > this.maxBodyBytes) this.fail('too-large', `Content-Length ${length} over ${this.maxBodyBytes} bytes`);
    return length;
  }

  private fail(code: SipParseError['code'], message: string): never {
    this.broken = new SipParseError(code, message);
    throw this.broken;
  }
}

/** The Content-Length lines (long or compact `l`) of a header section, the rest left unparsed. */
function contentLengthLines(head: string): { name: string; value: string }[] {
  return head
    .split(/\r?\n/)
    .map((line) => /^\s*(content-length|l)\s*:\s*(.*?)\s*$/i.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: 'Content-Length', value: m[2] ?? '' }));
}
