import { open } from 'node:fs/promises';

/** One finished segment as ffmpeg's CSV segment list names it: file, start and end in seconds of the run. */
export interface ListedSegment {
  name: string;
  startS: number;
  endS: number;
}

/**
 * Follows a run's segment list, which ffmpeg only ever appends to: each read returns the
 * lines added since the last one, so polling it every second costs the same after a day of
 * segments as after the first.
 */
export class SegmentListReader {
  #offset = 0;
  #rest = '';
  /** Bytes read so far (what the tests measure). */
  bytesRead = 0;

  constructor(readonly file: string) {}

  /** The entries appended since the last call; a line still being written waits for its newline unless `final`. */
  async next(final = false): Promise<ListedSegment[]> {
    const handle = await open(this.file, 'r').catch(() => null);
    if (handle === null) return final ? this.#take(true) : [];
    try {
      const { size } = await handle.stat();
      if (size > this.#offset) {
        const chunk = Buffer.alloc(size - this.#offset);
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, this.#offset);
        this.#offset += bytesRead;
        this.bytesRead += bytesRead;
        // Names and numbers are ASCII: a chunk never splits a character.
        this.#rest += chunk.subarray(0, bytesRead).toString('latin1');
      }
    } finally {
      await handle.close();
    }
    return this.#take(final);
  }

  #take(final: boolean): ListedSegment[] {
    const lines = this.#rest.split('\n');
    this.#rest = final ? '' : (lines.pop() ?? '');
    return lines.flatMap((line) => {
      const [name, start, end] = line.trim().split(',');
      return name && start !== undefined && end !== undefined ? [{ name, startS: Number(start), endS: Number(end) }] : [];
    });
  }
}
