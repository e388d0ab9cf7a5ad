/**
 * SDP of a GB/T 28181 media INVITE (RFC 4566 with the GB/T 28181-2016 Annex F additions y=
 * and f=): reads the upper platform's offer into a typed offer and writes the gateway's
 * answer. The gateway only ever sends MPEG-PS, so an offer without PS is refused. TCP
 * setup roles follow RFC 4145: the offer's role is the platform's, so `a=setup:passive`
 * (the platform listens) makes the gateway connect out (`tcp-active`), and `a=setup:active`
 * makes it listen (`tcp-passive`). Pure: no I/O.
 */
import { parseSsrc, SsrcError, type Ssrc, type SsrcAllocator } from './media/ssrc.js';

export type GbSessionName = 'Play' | 'Playback' | 'Download';
/** The gateway's side of the media transport. */
export type MediaTransport = 'udp' | 'tcp-active' | 'tcp-passive';

export interface SdpFormat {
  payloadType: number;
  /** Encoding name as offered (PS, H264, MPEG4…). */
  encoding: string;
  clockRate: number;
}

/** The f= media description (Annex F): empty fields are undefined. */
export interface MediaDescription {
  video?: { codec?: string; resolution?: string; fps?: string; rateType?: string; kbps?: string };
  audio?: { codec?: string; kbps?: string; sampleRate?: string };
}

export interface GbSdpOffer {
  origin: { username: string; sessionId: string; version: string; address: string };
  sessionName: GbSessionName;
  /** Where the platform receives (UDP, TCP passive) or connects from (TCP active). */
  address: string;
  port: number;
  transport: MediaTransport;
  /** Seconds since 1970 for Playback/Download, 0 0 for live. */
  time: { start: number; stop: number };
  /** u= of Playback/Download: the channel ID and a parameter. */
  uri?: string;
  /** Every format the offer maps. */
  formats: SdpFormat[];
  /** The PS format the gateway answers with. */
  ps: SdpFormat;
  /** From y=; null when the offer has none (the gateway then picks one). */
  ssrc: Ssrc | null;
  media?: MediaDescription;
  /** a=downloadspeed of a Download. */
  downloadSpeed?: number;
  /** Main (0) or sub (1) stream asked for (a=streamnumber of the 2022 edition, or the older a=stream / a=streamprofile). */
  streamNumber?: number;
}

export type SdpRefusalReason =
  | 'not-sdp'
  | 'malformed'
  | 'bad-session-name'
  | 'no-video'
  | 'no-ps-format'
  | 'unsupported-transport'
  | 'unsupported-direction'
  | 'bad-ssrc';

/** Why an offer is refused; `status` is the SIP response to send. */
export class SdpRefusal extends Error {
  override name = 'SdpRefusal';
  constructor(
    readonly reason: SdpRefusalReason,
    message: string,
  ) {
    super(message);
  }

  /** 415 for a body that is not SDP, 400 for a broken one, 488 when nothing offered fits. */
  get status(): 400 | 415 | 488 {
    if (this.reason === 'not-sdp') return 415;
    if (this.reason === 'malformed' || this.reason === 'bad-ssrc') return 400;
    return 488;
  }
}

/**
 * Static payload types GB/T 28181 platforms offer without an rtpmap; 96 PS, 97 MPEG-4 and
 * 98 H.264 are the standard's fixed mapping (Annex F), some platforms omit the rtpmap lines.
 */
const GB_DEFAULT_FORMATS: Record<number, SdpFormat> = {
  96: { payloadType: 96, encoding: 'PS', clockRate: 90_000 },
  97: { payloadType: 97, encoding: 'MPEG4', clockRate: 90_000 },
  98: { payloadType: 98, encoding: 'H264', clockRate: 90_000 },
};

const SESSION_NAMES: readonly GbSessionName[] = ['Play', 'Playback', 'Download'];

function refuse(reason: SdpRefusalReason, message: string): never {
  throw new SdpRefusal(reason, message);
}

/** `c=IN IP4 addr` → addr (IP6 too; a multicast TTL suffix dropped). */
function connectionAddress(value: string): string {
  const [net, , address] = value.trim().split(/\s+/);
  if (net !== 'IN' || address === undefined) refuse('malformed', `c=${value} is not "IN IP4 <address>"`);
  return address.split('/')[0]!;
}

function parseMediaDescription(value: string): MediaDescription {
  // f=v/codec/resolution/fps/rateType/kbps a/codec/kbps/sampleRate
  const match = /^v\/([^/]*)\/([^/]*)\/([^/]*)\/([^/]*)\/([^a]*)a\/([^/]*)\/([^/]*)\/(.*)$/.exec(value.trim());
  if (match === null) return {};
  const f = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : s.trim());
  return {
    video: { codec: f(match[1]), resolution: f(match[2]), fps: f(match[3]), rateType: f(match[4]), kbps: f(match[5]) },
    audio: { codec: f(match[6]), kbps: f(match[7]), sampleRate: f(match[8]) },
  };
}

/** The gateway's transport from the m= protocol and the platform's a=setup (RFC 4145). */
function transportOf(proto: string, setup: string | undefined): MediaTransport {
  if (proto === 'RTP/AVP') return 'udp';
  if (proto !== 'TCP/RTP/AVP') refuse('unsupported-transport', `media protocol ${proto}: send RTP/AVP (UDP) or TCP/RTP/AVP`);
  // RFC 4145 4: an offer without a=setup means the offerer is active. actpass lets the answerer pick: connecting out needs no port.
  if (setup === undefined || setup === 'active') return 'tcp-passive';
  if (setup === 'passive' || setup === 'actpass') return 'tcp-active';
  return refuse('unsupported-transport', `a=setup:${setup}: use active or passive`);
}

/**
 * Reads an INVITE offer. `contentType` is the request's Content-Type when known; anything
 * but application/sdp is refused with 415. Throws SdpRefusal with a reason and a message
 * that says what to send instead.
 */
export function parseGbOffer(body: string | Buffer, contentType?: string): GbSdpOffer {
  if (contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() !== 'application/sdp')
    refuse('not-sdp', `Content-Type ${contentType}: the offer must be application/sdp`);
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines[0] !== 'v=0') refuse('malformed', 'the SDP does not start with v=0');

  let origin: GbSdpOffer['origin'] | undefined;
  let sessionName: string | undefined;
  let sessionAddress: string | undefined;
  let time = { start: 0, stop: 0 };
  let uri: string | undefined;
  let ssrcText: string | undefined;
  let media: MediaDescription | undefined;
  let video: { port: number; proto: string; payloadTypes: number[]; address?: string } | undefined;
  /** Attributes of the first video m= section (or the session, before any m=). */
  const attributes = new Map<string, string>();
  const rtpmaps = new Map<number, SdpFormat>();
  let section: 'session' | 'video' | 'other' = 'session';

  for (const line of lines) {
    const key = line[0];
    const value = line.slice(2);
    if (line[1] !== '=') refuse('malformed', `SDP line "${line.slice(0, 40)}" is not <type>=<value>`);
    // y= and f= follow the media section in GB/T 28181 but belong to the whole offer.
    if (key === 'y') ssrcText = value;
    else if (key === 'f') media = parseMediaDescription(value);
    else if (key === 'm') {
      const [kind, port, proto, ...fmts] = value.split(/\s+/);
      if (kind === 'video' && video === undefined) {
        const portNumber = Number(port?.split('/')[0]);
        if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65_535) refuse('malformed', `m=${value}: bad port`);
        video = { port: portNumber, proto: proto ?? '', payloadTypes: fmts.map(Number).filter(Number.isInteger) };
        section = 'video';
      } else section = 'other';
    } else if (section === 'other') continue;
    else if (key === 'o') {
      const [username, sessionId, version, , , address] = value.split(/\s+/);
      if (address === undefined) refuse('malformed', `o=${value} lacks fields`);
      origin = { username: username!, sessionId: sessionId!, version: version!, address };
    } else if (key === 's') sessionName = value.trim();
    else if (key === 'c') {
      if (section === 'video' && video !== undefined) video.address = connectionAddress(value);
      else sessionAddress = connectionAddress(value);
    } else if (key === 't') {
      const [start, stop] = value.split(/\s+/).map(Number);
      if (!Number.isFinite(start) || !Number.isFinite(stop)) refuse('malformed', `t=${value} is not two numbers`);
      time = { start: start!, stop: stop! };
    } else if (key === 'u') uri = value.trim();
    else if (key === 'a') {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      const attr = colon < 0 ? '' : value.slice(colon + 1).trim();
      if (name === 'rtpmap') {
        const m = /^(\d+)\s+([^/\s]+)\/(\d+)/.exec(attr);
        if (m !== null) rtpmaps.set(Number(m[1]), { payloadType: Number(m[1]), encoding: m[2]!, clockRate: Number(m[3]) });
      } else attributes.set(name, attr);
    }
  }

  if (origin === undefined) refuse('malformed', 'the SDP has no o= line');
  if (!SESSION_NAMES.includes(sessionName as GbSessionName))
    refuse('bad-session-name', `s=${sessionName ?? ''}: GB/T 28181 media sessions are s=Play, s=Playback or s=Download`);
  if (video === undefined) refuse('no-video', 'the offer has no m=video line');
  const address = video.address ?? sessionAddress;
  if (address === undefined) refuse('malformed', 'the offer has no c= line');
  for (const dir of ['sendonly', 'sendrecv', 'inactive'])
    if (attributes.has(dir)) refuse('unsupported-direction', `a=${dir}: the gateway only sends media, offer a=recvonly`);

  const formats = video.payloadTypes.map((pt) => rtpmaps.get(pt) ?? GB_DEFAULT_FORMATS[pt]).filter((f): f is SdpFormat => f !== undefined);
  const ps = formats.find((f) => f.encoding.toUpperCase() === 'PS' && f.clockRate === 90_000);
  if (ps === undefined)
    refuse(
      'no-ps-format',
      `offered ${formats.map((f) => `${f.payloadType} ${f.encoding}/${f.clockRate}`).join(', ') || 'no format'}: offer PS/90000`,
    );

  let ssrc: Ssrc | null = null;
  if (ssrcText !== undefined) {
    try {
      ssrc = parseSsrc(ssrcText);
    } catch (err) {
      if (err instanceof SsrcError) refuse('bad-ssrc', `y=${ssrcText}: ${err.message}`);
      throw err;
    }
  }
  const transport = transportOf(video.proto, attributes.get('setup'));
  // Port 0 rejects the stream (RFC 3264 6); only a platform that connects to the gateway needs no port.
  if (video.port === 0 && transport !== 'tcp-passive') refuse('no-video', 'm=video has port 0: name the port to send to');
  const speed = Number(attributes.get('downloadspeed'));
  const streamNumber = Number(attributes.get('streamnumber') ?? attributes.get('stream') ?? attributes.get('streamprofile'));
  return {
    origin,
    sessionName: sessionName as GbSessionName,
    address,
    port: video.port,
    transport,
    time,
    ...(uri !== undefined ? { uri } : {}),
    formats,
    ps,
    ssrc,
    ...(media !== undefined ? { media } : {}),
    ...(Number.isFinite(speed) && speed > 0 ? { downloadSpeed: speed } : {}),
    ...(Number.isInteger(streamNumber) && streamNumber >= 0 ? { streamNumber } : {}),
  };
}

/** The offer's SSRC, or a fresh standard one (live or history by the session name), reserved either way. */
export function sessionSsrc(offer: GbSdpOffer, allocator: SsrcAllocator): Ssrc {
  if (offer.ssrc !== null) {
    allocator.reserve(offer.ssrc);
    return offer.ssrc;
  }
  return allocator.allocate(offer.sessionName === 'Play' ? 'live' : 'history');
}

/** f= resolution codes of GB/T 28181-2016 Annex F; other sizes are written WxH as the 2022 edition allows. */
const RESOLUTION_CODES: Record<string, string> = {
  '176x144': '1',
  '352x288': '2',
  '704x576': '3',
  '720x576': '4',
  '1280x720': '5',
  '1920x1080': '6',
};
/** f= video codec codes: 2 H.264, 5 H.265 (2022 edition). */
const VIDEO_CODEC_CODES = { h264: '2', h265: '5' } as const;

export interface AnswerStream {
  codec: 'h264' | 'h265';
  width?: number;
  height?: number;
  fps?: number;
}

export interface GbSdpAnswerInput {
  offer: GbSdpOffer;
  /** The gateway's 20-digit device (channel) ID, in o=. */
  deviceId: string;
  /** The address the platform reaches the gateway's media at. */
  address: string;
  /** UDP: the sending port; TCP passive: the listening port; TCP active: 9 (RFC 4145) when unknown. */
  port?: number;
  ssrc: Ssrc;
  stream?: AnswerStream;
}

/** f= for what is sent: codec, resolution and frame rate as far as known; audio left empty. */
export function mediaDescriptionLine(stream: AnswerStream | undefined): string {
  if (stream === undefined) return 'f=v/////a///';
  const size = stream.width !== undefined && stream.height !== undefined ? `${stream.width}x${stream.height}` : '';
  const resolution = RESOLUTION_CODES[size] ?? size;
  const fps = stream.fps !== undefined ? String(Math.round(stream.fps)) : '';
  return `f=v/${VIDEO_CODEC_CODES[stream.codec]}/${resolution}/${fps}//a///`;
}

/** The 200 OK body: sendonly PS on the offer's PS payload type, the setup role, y= and f=. */
export function buildGbAnswer(input: GbSdpAnswerInput): string {
  const { offer, ssrc } = input;
  const family = input.address.includes(':') ? 'IP6' : 'IP4';
  const tcp = offer.transport !== 'udp';
  const port = input.port ?? (offer.transport === 'tcp-active' ? 9 : 0);
  const lines = [
    'v=0',
    `o=${input.deviceId} 0 0 IN ${family} ${input.address}`,
    `s=${offer.sessionName}`,
    `c=IN ${family} ${input.address}`,
    `t=${offer.time.start} ${offer.time.stop}`,
    `m=video ${port} ${tcp ? 'TCP/RTP/AVP' : 'RTP/AVP'} ${offer.ps.payloadType}`,
    'a=sendonly',
    `a=rtpmap:${offer.ps.payloadType} PS/90000`,
    ...(tcp ? [`a=setup:${offer.transport === 'tcp-active' ? 'active' : 'passive'}`, 'a=connection:new'] : []),
    `y=${ssrc.text}`,
    mediaDescriptionLine(input.stream),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
