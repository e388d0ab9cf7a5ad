import { timeToFirstFrame, type Protocol } from './firstFrame.js';
import { matchFrames, Md5Reader } from './frames.js';
import { nowMs } from './children.js';
import { round, sleep, summarize, type Summary } from './stats.js';
import { FlvFrameReader, RtpFrameReader } from './wireFrames.js';

export interface PlayUrls {
  httpFlv: string;
  wsFlv: string;
}

export interface MatchedLatency extends Summary {
  /** Frames of the viewer after its warm-up, and how many of them were found in the direct reading. */
  considered: number;
  error?: string;
}

export interface LatencyResult {
  /** Video bitrate the camera sent to the direct reader during the measurement. */
  cameraBitrateKbps: number | null;
  /** RTP marker arrival at a direct RTSP client → FLV tag arrival at a viewer; no decoder on either side. */
  wire: { httpFlv: MatchedLatency; wsFlv: MatchedLatency };
  /** ffmpeg decoding the camera directly → ffmpeg decoding the viewer's stream (frame md5s). */
  decoded?: { httpFlv: MatchedLatency; wsFlv: MatchedLatency };
}

function describe(match: ReturnType<typeof matchFrames>, error: string | null | undefined): MatchedLatency {
  const out: MatchedLatency = { ...summarize(match.deltas), considered: match.considered };
  if (match.matched === 0) out.error = error || (match.considered === 0 ? 'no frames received' : 'no frame matched the direct reading');
  return out;
}

/**
 * Reads the camera directly and through the viewer URLs at the same time, for
 * `seconds`, and pairs the same frames. All readers run together so they see the same
 * frames under the same load.
 */
export async function measureLatency(
  cameraUrl: string,
  play: PlayUrls,
  seconds: number,
  warmupMs: number,
  decoded: boolean,
  /** A direct reader started earlier (see relayPhase); stopped here. */
  direct?: RtpFrameReader,
): Promise<LatencyResult> {
  const rtp = direct ?? new RtpFrameReader(cameraUrl);
  const flvHttp = new FlvFrameReader('http-flv', play.httpFlv);
  const flvWs = new FlvFrameReader('ws-flv', play.wsFlv);
  const md5 = decoded
    ? {
        direct: new Md5Reader({ kind: 'rtsp', url: cameraUrl }),
        http: new Md5Reader({ kind: 'http-flv', url: play.httpFlv }),
        ws: new Md5Reader({ kind: 'ws-flv', url: play.wsFlv }),
      }
    : null;
  await sleep(seconds * 1000);
  flvHttp.stop();
  flvWs.stop();
  rtp.stop();
  const stoppedAt = nowMs();
  if (md5) await Promise.all([md5.http.stop(), md5.ws.stop(), md5.direct.stop()]);
  const result: LatencyResult = {
    cameraBitrateKbps: rtp.firstByteAt === null ? null : round((rtp.bytes * 8) / (stoppedAt - rtp.firstByteAt), 0),
    wire: {
      httpFlv: describe(matchFrames(rtp.frames, flvHttp.frames, warmupMs), flvHttp.error ?? rtp.error),
      wsFlv: describe(matchFrames(rtp.frames, flvWs.frames, warmupMs), flvWs.error ?? rtp.error),
    },
  };
  if (md5) {
    result.decoded = {
      httpFlv: describe(matchFrames(md5.direct.frames, md5.http.frames, warmupMs), md5.http.errors() || md5.direct.errors()),
      wsFlv: describe(matchFrames(md5.direct.frames, md5.ws.frames, warmupMs), md5.ws.errors() || md5.direct.errors()),
    };
  }
  return result;
}

export interface FirstFrameResult {
  httpFlv: Summary & { failures: number };
  wsFlv: Summary & { failures: number };
}

/** `requests` new viewers per protocol, one after another, at staggered points of the GOP. */
export async function measureFirstFrame(play: PlayUrls, requests: number): Promise<FirstFrameResult> {
  const series = async (protocol: Protocol, url: string) => {
    const times: number[] = [];
    let failures = 0;
    for (let i = 0; i < requests; i++) {
      try {
        times.push(await timeToFirstFrame(protocol, url, 5000));
      } catch {
        failures += 1;
      }
      await sleep(137 + Math.random() * 200);
    }
    return { ...summarize(times), failures };
  };
  return { httpFlv: await series('http-flv', play.httpFlv), wsFlv: await series('ws-flv', play.wsFlv) };
}

export interface GapTolerance {
  /** Video frames per second a viewer received before and after the ingest saw one RTP sequence gap. */
  viewerFpsBefore: number;
  viewerFpsAfter: number;
}

/**
 * A second RTSP client joining the (shared) test camera makes the camera skip one RTP
 * sequence number on the connections already open, as cameras and networks sometimes do:
 * a viewer's frame rate before and after shows whether the ingest rides over it.
 */
export async function measureGapTolerance(viewerUrl: string, cameraUrl: string): Promise<GapTolerance> {
  const viewer = new FlvFrameReader('http-flv', viewerUrl);
  let joiner: RtpFrameReader | null = null;
  try {
    await sleep(1500);
    const n1 = viewer.frames.length;
    await sleep(2000);
    const n2 = viewer.frames.length;
    joiner = new RtpFrameReader(cameraUrl);
    await sleep(500);
    const n3 = viewer.frames.length;
    await sleep(3000);
    const n4 = viewer.frames.length;
    return { viewerFpsBefore: round((n2 - n1) / 2, 1) as number, viewerFpsAfter: round((n4 - n3) / 3, 1) as number };
  } finally {
    viewer.stop();
    joiner?.stop();
  }
}
