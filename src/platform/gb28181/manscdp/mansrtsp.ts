/**
 * MANSRTSP (GB/T 28181-2016 Annex B): the playback control an upper platform sends in the
 * body of an INFO within a Playback or Download dialog (Content-Type Application/MANSRTSP),
 * RTSP 1.0 requests without a URI worth reading: PLAY (resume, with Range: npt= to seek and
 * Scale: to change the speed), PAUSE and TEARDOWN. Pure: parses the request, writes the
 * answer that goes in the INFO's 200 body.
 */

export const MANSRTSP_CONTENT_TYPE = 'Application/MANSRTSP';

/** Speeds the gateway plays at (Annex B lists 0.25 to 4; reverse play is not offered). */
export const PLAYBACK_SCALES = [0.25, 0.5, 1, 2, 4] as const;

export type MansrtspRequest =
  | { method: 'PLAY'; cseq: number; /** Seconds into the range to jump to. */ seekSeconds?: number; scale?: number }
  | { method: 'PAUSE'; cseq: number }
  | { method: 'TEARDOWN'; cseq: number };

export class MansrtspError extends Error {
  constructor(
    message: string,
    /** The RTSP status to answer with. */
    readonly status: 400 | 405 | 457,
    readonly cseq: number | undefined,
  ) {
    super(message);
    this.name = 'MansrtspError';
  }
}

/** Reads one MANSRTSP request; throws MansrtspError saying what is wrong. */
export function parseMansrtsp(body: Buffer | string): MansrtspRequest {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  // "PLAY RTSP/1.0" as Annex B writes it, or with a URI between them as RTSP does.
  const words = (lines[0] ?? '').split(/\s+/);
  const method = words[0];
  const version = words.length >= 2 ? words[words.length - 1] : undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const cseqText = headers.get('cseq');
  const cseq = cseqText !== undefined && /^\d+$/.test(cseqText) ? Number(cseqText) : undefined;
  if (!/^RTSP\/1\.0$/i.test(version ?? '')) throw new MansrtspError(`"${lines[0] ?? ''}" is not an RTSP/1.0 request line`, 400, cseq);
  if (cseq === undefined) throw new MansrtspError('the MANSRTSP request has no numeric CSeq', 400, cseq);
  if (method === 'PAUSE' || method === 'TEARDOWN') return { method, cseq };
  if (method !== 'PLAY') throw new MansrtspError(`MANSRTSP method ${method ?? ''}: PLAY, PAUSE or TEARDOWN`, 405, cseq);
  const out: Extract<MansrtspRequest, { method: 'PLAY' }> = { method: 'PLAY', cseq };
  const range = headers.get('range');
  if (range !== undefined) {
    // npt=<start>- (seconds into the range) or npt=now- (resume where paused).
    const m = /^npt\s*=\s*(now|\d+(?:\.\d+)?)\s*-/i.exec(range);
    if (m === null) throw new MansrtspError(`Range: ${range}: use npt=<seconds>- or npt=now-`, 457, cseq);
    if (m[1]!.toLowerCase() !== 'now') out.seekSeconds = Number(m[1]);
  }
  const scaleText = headers.get('scale');
  if (scaleText !== undefined) {
    const scale = Number(scaleText);
    if (!PLAYBACK_SCALES.includes(scale as (typeof PLAYBACK_SCALES)[number]))
      throw new MansrtspError(`Scale: ${scaleText}: the gateway plays at ${PLAYBACK_SCALES.join(', ')}`, 400, cseq);
    out.scale = scale;
  }
  return out;
}

const REASONS: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 405: 'Method Not Allowed', 457: 'Invalid Range' };

/** The RTSP answer carried in the INFO's 200 body. */
export function mansrtspAnswer(status: 200 | 400 | 405 | 457, cseq: number | undefined): string {
  return `RTSP/1.0 ${status} ${REASONS[status]}\r\n${cseq === undefined ? '' : `CSeq: ${cseq}\r\n`}\r\n`;
}
