/**
 * Live play dialogs of one upper platform (RFC 3261 UAS side, GB/T 28181 s=Play): an INVITE
 * for a shared channel is answered 200 with the answer SDP once a LiveSender is prepared;
 * media starts on the ACK and stops on BYE. One forward per channel and destination: a new
 * INVITE for the same pair ends the old dialog (BYE) first. A session that ends on its own
 * (receiver gone, camera silent) sends BYE to the platform.
 *
 * Playback and Download (s=Playback / s=Download with a t= range) are dialogs of the same
 * kind whose sender reads the recorded range, masked (playback.ts); MANSRTSP in INFO
 * pauses, resumes, seeks and changes the speed; at the end of the range the gateway sends
 * MediaStatus 121 in the dialog and waits for the platform's BYE.
 */
import type { Logger } from '../../log.js';
import type { SipEndpoint, Reply } from './endpoint.js';
import type { VideoCodec } from './media/annexb.js';
import { mansrtspAnswer, MansrtspError, parseMansrtsp, MANSRTSP_CONTENT_TYPE } from './manscdp/mansrtsp.js';
import { buildMediaStatusNotify, MANSCDP_CONTENT_TYPE } from './manscdp/response.js';
import { LiveSender, type LiveSenderEnd } from './media/liveSender.js';
import { SsrcAllocator, type Ssrc } from './media/ssrc.js';
import { offerRange, type PlaybackReading, type RecordedFootage } from './playback.js';
import { buildGbAnswer, parseGbOffer, SdpRefusal, sessionSsrc, type GbSdpOffer, type GbSessionName, type MediaTransport } from './sdp.js';
import { parseNameAddr, sipUriUser } from './sip/headers.js';
import { buildRequest, buildResponse, getHeader, newBranch, newTag, type SipRequest } from './sip/message.js';
import type { SipPeer } from './transport.js';

/** What a live session reads: the camera's masked shared tier, never the raw one. */
export interface LiveSource {
  /**
   * The internal (token) play URL of shared/<cameraId>; a fresh token per call. In a cluster,
   * for a camera another node runs: that node's shared tier (HTTP-FLV); rejects when it runs nowhere.
   */
  sharedPlayUrl(cameraId: string): string | Promise<string>;
  /** The shared tier as last probed; undefined while unknown (the session assumes H.264 at 25 fps). */
  sharedStream(cameraId: string): { fps: number; codec?: VideoCodec; width?: number; height?: number } | undefined;
  /**
   * The camera's own stream, which a live session sends instead of the shared tier: only for
   * a camera whose shared tier mirrors the raw one (no masks, so the picture is the camera's)
   * and whose codec the tiers cannot carry as is (H.265; FLV tiers are H.264). Undefined otherwise.
   */
  cameraStream?(cameraId: string): CameraStream | undefined;
}

/** A camera's original video, as the ingest copies it (MPEG-TS chunks), with its codec and picture. */
export interface CameraStream {
  codec: VideoCodec;
  fps: number;
  width?: number;
  height?: number;
  subscribe(onData: (chunk: Buffer) => void): () => void;
}

/** What a session sends: the shared tier, the camera itself (see LiveSource.cameraStream), or recorded footage. */
export type LiveSessionReads = 'shared-tier' | 'camera' | 'recordings';

/** One ended session, for the access register (the composition root wires it). */
export interface LiveSessionEnd {
  platform: string;
  cameraId: string;
  /** Play (live), Playback or Download (recorded footage, `footage` its range). */
  kind: GbSessionName;
  footage?: { from: Date; to: Date };
  startedAt: Date;
  endedAt: Date;
  bytes: number;
  reason: string;
}

/** A session as the API lists it. */
export interface LiveSessionInfo {
  channel: string;
  kind: GbSessionName;
  /** Playback/Download: the recorded range (ISO), whether paused and the speed. */
  footage?: { from: string; to: string; paused: boolean; speed: number };
  destination: string;
  transport: MediaTransport;
  ssrc: string;
  /** Where the media comes from, and its video codec. */
  reads: LiveSessionReads;
  codec: VideoCodec;
  started: string | null;
  packets: number;
  bytes: number;
}

export interface LiveDialogsDeps {
  platform: string;
  deviceId: string;
  endpoint: SipEndpoint;
  local: { host: string; port: number };
  source: LiveSource;
  /** Recorded footage for Playback and Download; without it they are refused 488. */
  footage?: RecordedFootage;
  /** The channels this platform may play (its shared cameras). */
  shared(): Promise<string[]>;
  /** Every camera the gateway knows (404 vs 403). */
  known(): Promise<string[]>;
  logger: Logger;
  onEvent?(e: { action: 'platform.session'; phase: 'start' | 'control' | 'end'; channel: string; details: Record<string, unknown> }): void;
  onEnd?(e: LiveSessionEnd): void;
  /** A 200 not ACKed within this ends the dialog (RFC 3261 13.3.1.4: 64*T1); default 32 s. */
  ackTimeoutMs?: number;
  /** After MediaStatus 121 the platform should BYE; without one the gateway does after this long; default 30 s. */
  rangeEndByeMs?: number;
}

interface Dialog {
  callId: string;
  channel: string;
  offer: GbSdpOffer;
  ssrc: Ssrc;
  sender: LiveSender;
  reads: LiveSessionReads;
  codec: VideoCodec;
  peer: SipPeer;
  /** The platform's From (with its tag) and our To (with ours), for a BYE we send. */
  remote: string;
  localAddr: string;
  remoteTarget: string;
  cseq: number;
  acked: boolean;
  startedAt: Date | null;
  ended: boolean;
  ackTimer: NodeJS.Timeout | null;
  resendTimer: NodeJS.Timeout | null;
  /** Playback/Download: the masked reading of the recorded range. */
  reading: PlaybackReading | null;
  rangeEndTimer: NodeJS.Timeout | null;
}

/** RFC 3261 timer values for the 2xx retransmission (17.1.1.1). */
const T1_MS = 500;
const T2_MS = 4000;

const destinationOf = (o: GbSdpOffer): string => `${o.address}:${o.port}`;

/** An INVITE not answered yet: a CANCEL ends it with 487 (RFC 3261 9.2). */
interface Pending {
  reply: Reply;
  cancelled: boolean;
}

export class LiveDialogs {
  private readonly dialogs = new Map<string, Dialog>();
  private readonly pending = new Map<string, Pending>();
  private readonly ssrcs: SsrcAllocator;

  constructor(private readonly d: LiveDialogsDeps) {
    this.ssrcs = new SsrcAllocator(d.deviceId.slice(0, 10));
  }

  get count(): number {
    return this.dialogs.size;
  }

  list(): LiveSessionInfo[] {
    return [...this.dialogs.values()].map((g) => ({
      channel: g.channel,
      kind: g.offer.sessionName,
      ...(g.reading === null
        ? {}
        : {
            footage: {
              from: new Date(g.reading.coveredFromMs).toISOString(),
              to: new Date(g.reading.coveredToMs).toISOString(),
              ...g.sender.pace,
            },
          }),
      destination: destinationOf(g.offer),
      transport: g.offer.transport,
      ssrc: g.ssrc.text,
      reads: g.reads,
      codec: g.codec,
      started: g.startedAt?.toISOString() ?? null,
      packets: g.sender.counters.packets,
      bytes: g.sender.counters.bytes,
    }));
  }

  /** INVITE (a new dialog; re-INVITEs within a dialog are refused). */
  async invite(req: SipRequest, peer: SipPeer, reply: Reply): Promise<void> {
    const callId = getHeader(req, 'Call-ID') ?? '';
    if (parseNameAddr(getHeader(req, 'To') ?? '').params.has('tag')) return reply(488, 'Not Acceptable Here');
    if (this.dialogs.has(callId) || this.pending.has(callId)) return; // a retransmission: the transaction answers it
    const pending: Pending = { reply, cancelled: false };
    this.pending.set(callId, pending);
    try {
      await this.answer(req, peer, (status, reason, opts) => pending.cancelled || reply(status, reason, opts), pending);
    } finally {
      this.pending.delete(callId);
    }
  }

  /**
   * CANCEL: an INVITE still pending gets 487 and never starts media; one already answered is
   * not affected (its dialog ends by BYE); an unknown one gets 481.
   */
  cancel(req: SipRequest, reply: Reply): void {
    const callId = getHeader(req, 'Call-ID') ?? '';
    const p = this.pending.get(callId);
    if (p === undefined)
      return reply(this.dialogs.has(callId) ? 200 : 481, this.dialogs.has(callId) ? 'OK' : 'Call/Transaction Does Not Exist');
    if (p.cancelled) return reply(200, 'OK');
    p.cancelled = true;
    reply(200, 'OK');
    p.reply(487, 'Request Terminated');
    this.d.logger.info({ platform: this.d.platform, callId }, 'INVITE cancelled by the platform');
  }

  private async answer(req: SipRequest, peer: SipPeer, reply: Reply, pending: Pending): Promise<void> {
    const callId = getHeader(req, 'Call-ID') ?? '';
    reply(100, 'Trying'); // the checks and the media socket may take a moment
    const channel = channelOf(req);
    if (channel === undefined) return reply(400, 'Bad Request');
    if (!(await this.d.known()).includes(channel)) return reply(404, 'Not Found');
    if (!(await this.d.shared()).includes(channel)) return reply(403, 'Forbidden');
    if (pending.cancelled) return;
    let offer: GbSdpOffer;
    try {
      offer = parseGbOffer(req.body, getHeader(req, 'Content-Type'));
    } catch (err) {
      if (!(err instanceof SdpRefusal)) throw err;
      this.d.logger.info({ platform: this.d.platform, channel, reason: err.reason, error: err.message }, 'INVITE offer refused');
      return reply(err.status, err.status === 415 ? 'Unsupported Media Type' : err.status === 400 ? 'Bad Request' : 'Not Acceptable Here');
    }
    let reading: PlaybackReading | null = null;
    if (offer.sessionName !== 'Play') {
      if (this.d.footage === undefined) return reply(488, 'Not Acceptable Here');
      let range: { fromMs: number; toMs: number };
      try {
        range = offerRange(offer.time);
      } catch (err) {
        this.d.logger.info(
          { platform: this.d.platform, channel, error: (err as Error).message },
          'playback INVITE without a usable t= range',
        );
        return reply(400, 'Bad Request');
      }
      reading = await this.d.footage.open(channel, range.fromMs, range.toMs);
      if (reading === null) {
        this.d.logger.info({ platform: this.d.platform, channel, ...range }, 'playback INVITE for a range with no recording');
        return reply(404, 'Not Found');
      }
    }
    // One forward per channel and destination: the old one ends before the new one starts.
    for (const old of [...this.dialogs.values()])
      if (old.channel === channel && destinationOf(old.offer) === destinationOf(offer))
        await this.end(old, 'replaced by a new INVITE', true);
    const direct = reading === null ? this.d.source.cameraStream?.(channel) : undefined;
    const stream =
      reading !== null
        ? { codec: 'h264' as const, fps: reading.fps, width: reading.width, height: reading.height }
        : (direct ?? this.d.source.sharedStream(channel));
    const codec = stream?.codec ?? 'h264';
    let sourceUrl = '';
    try {
      if (reading === null) sourceUrl = await this.d.source.sharedPlayUrl(channel);
    } catch (err) {
      // Cluster mode: the camera runs on no node at this moment (its node died, the next has not taken it yet).
      this.d.logger.warn({ platform: this.d.platform, channel, error: (err as Error).message }, 'live INVITE for a camera running nowhere');
      return reply(480, 'Temporarily Unavailable');
    }
    const ssrc = sessionSsrc(offer, this.ssrcs);
    const sender = new LiveSender({
      cameraId: channel,
      sourceUrl,
      ...(reading === null
        ? {}
        : { playback: { args: reading.args, speed: offer.sessionName === 'Download' ? (offer.downloadSpeed ?? 1) : 1 } }),
      ...(direct === undefined ? {} : { originalVideo: direct.subscribe }),
      codec,
      fps: stream?.fps ?? 25,
      transport: offer.transport,
      destination: { host: offer.address, port: offer.port },
      ssrc: ssrc.value,
      payloadType: offer.ps.payloadType,
      logger: this.d.logger,
    });
    let localPort: number | undefined;
    try {
      localPort = (await sender.prepare()).localPort;
    } catch (err) {
      this.ssrcs.release(ssrc);
      await reading?.close();
      this.d.logger.warn({ err, platform: this.d.platform, channel }, 'live session could not open its media socket');
      return reply(500, 'Server Internal Error');
    }
    if (pending.cancelled) {
      await sender.stop();
      this.ssrcs.release(ssrc);
      return;
    }
    const toTag = newTag();
    const from = getHeader(req, 'From') ?? '';
    const to = `${getHeader(req, 'To') ?? ''};tag=${toTag}`;
    const contact = parseNameAddr(getHeader(req, 'Contact') ?? '').uri;
    const dialog: Dialog = {
      callId,
      channel,
      offer,
      ssrc,
      sender,
      reads: reading !== null ? 'recordings' : direct !== undefined ? 'camera' : 'shared-tier',
      codec,
      peer,
      remote: from,
      localAddr: to,
      remoteTarget: contact !== '' ? contact : `sip:${sipUriUser(parseNameAddr(from).uri) ?? ''}@${peer.host}:${peer.port}`,
      cseq: 1,
      acked: false,
      startedAt: null,
      ended: false,
      ackTimer: null,
      resendTimer: null,
      reading,
      rangeEndTimer: null,
    };
    this.dialogs.set(callId, dialog);
    // No ACK: the platform never took the answer; the prepared socket must not linger.
    dialog.ackTimer = setTimeout(() => void this.end(dialog, 'no ACK for the 200', true), this.d.ackTimeoutMs ?? 32_000);
    sender.once('ended', (end) => void this.onSenderEnded(dialog, end));
    const body = buildGbAnswer({
      offer,
      deviceId: channel,
      address: this.d.local.host,
      ...(localPort === undefined ? {} : { port: localPort }),
      ssrc,
      stream: { codec, ...pick(stream) },
    });
    const answer = {
      toTag,
      headers: [
        { name: 'Contact', value: `<sip:${this.d.deviceId}@${this.d.local.host}:${this.d.local.port}>` },
        { name: 'Content-Type', value: 'application/sdp' },
      ],
      body: Buffer.from(body),
    };
    reply(200, 'OK', answer);
    // Over UDP the 200 is resent (T1 doubling up to T2) until the ACK: the INVITE transaction ended with it.
    if (peer.transport === 'UDP') {
      const ok = buildResponse(req, 200, 'OK', answer);
      const resend = (ms: number): void => {
        dialog.resendTimer = setTimeout(() => {
          if (dialog.acked || dialog.ended) return;
          this.d.endpoint.resend(ok, peer);
          resend(Math.min(2 * ms, T2_MS));
        }, ms);
      };
      resend(T1_MS);
    }
  }

  /** ACK of our 200: media starts, at a key frame (the sender waits for one). */
  ack(req: SipRequest): void {
    const g = this.dialogs.get(getHeader(req, 'Call-ID') ?? '');
    if (g === undefined || g.acked) return;
    g.acked = true;
    if (g.ackTimer !== null) clearTimeout(g.ackTimer);
    if (g.resendTimer !== null) clearTimeout(g.resendTimer);
    g.startedAt = new Date();
    this.d.onEvent?.({ action: 'platform.session', phase: 'start', channel: g.channel, details: this.details(g) });
    void g.sender.start().catch((err: unknown) => this.d.logger.warn({ err, platform: this.d.platform }, 'live session start failed'));
  }

  /** BYE from the platform: stop, then 200. */
  async bye(req: SipRequest, reply: Reply): Promise<void> {
    const g = this.dialogs.get(getHeader(req, 'Call-ID') ?? '');
    if (g === undefined) return reply(481, 'Call/Transaction Does Not Exist');
    await this.end(g, 'BYE from the platform', false);
    reply(200, 'OK');
  }

  /**
   * INFO with MANSRTSP in a Playback/Download dialog: PLAY resumes (seeking to Range:
   * npt=, at Scale:), PAUSE holds the frames, TEARDOWN ends it; the RTSP answer is the
   * 200's body.
   */
  async info(req: SipRequest, reply: Reply): Promise<void> {
    const g = this.dialogs.get(getHeader(req, 'Call-ID') ?? '');
    if (g === undefined) return reply(481, 'Call/Transaction Does Not Exist');
    const type = (getHeader(req, 'Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== MANSRTSP_CONTENT_TYPE.toLowerCase()) return reply(415, 'Unsupported Media Type');
    const answer = (status: 200 | 400 | 405 | 457, cseq: number | undefined): void =>
      reply(200, 'OK', {
        headers: [{ name: 'Content-Type', value: MANSRTSP_CONTENT_TYPE }],
        body: Buffer.from(mansrtspAnswer(status, cseq)),
      });
    let cmd;
    try {
      cmd = parseMansrtsp(req.body);
    } catch (err) {
      if (!(err instanceof MansrtspError)) throw err;
      this.d.logger.info({ platform: this.d.platform, channel: g.channel, error: err.message }, 'MANSRTSP request refused');
      return answer(err.status, err.cseq);
    }
    // A live dialog has nothing to pause or seek.
    if (g.reading === null) return answer(405, cmd.cseq);
    if (cmd.method === 'PAUSE') g.sender.pause();
    else if (cmd.method === 'PLAY') {
      if (cmd.scale !== undefined) g.sender.setSpeed(cmd.scale);
      if (cmd.seekSeconds !== undefined) {
        if (cmd.seekSeconds >= g.reading.durationSeconds) return answer(457, cmd.cseq);
        g.sender.seek(cmd.seekSeconds);
      }
      g.sender.resume();
    }
    this.d.onEvent?.({
      action: 'platform.session',
      phase: 'control',
      channel: g.channel,
      details: { ...this.details(g), command: cmd },
    });
    answer(200, cmd.cseq);
    if (cmd.method === 'TEARDOWN') await this.end(g, 'MANSRTSP TEARDOWN', true);
  }

  /** Shutdown: every session ends with a BYE. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.dialogs.values()].map((g) => this.end(g, 'gateway shutting down', true)));
  }

  private async onSenderEnded(g: Dialog, end: LiveSenderEnd): Promise<void> {
    if (g.ended) return;
    if (end.reason === 'range-ended') {
      // The platform ends the dialog once told; one that does not is ended after a while.
      g.rangeEndTimer = setTimeout(() => void this.end(g, 'range sent; no BYE after MediaStatus', true), this.d.rangeEndByeMs ?? 30_000);
      await this.sendMediaStatus(g);
      return;
    }
    this.d.logger.info({ platform: this.d.platform, channel: g.channel, reason: end.reason, detail: end.detail }, 'live session ended');
    await this.end(g, `${end.reason}: ${end.detail}`, true);
  }

  /** Ends a dialog once: stops the media, sends BYE when we end it, audits and registers it. */
  private async end(g: Dialog, reason: string, sendBye: boolean): Promise<void> {
    if (g.ended) return;
    g.ended = true;
    if (g.ackTimer !== null) clearTimeout(g.ackTimer);
    if (g.resendTimer !== null) clearTimeout(g.resendTimer);
    if (g.rangeEndTimer !== null) clearTimeout(g.rangeEndTimer);
    this.dialogs.delete(g.callId);
    await g.sender.stop();
    await g.reading?.close();
    this.ssrcs.release(g.ssrc);
    if (sendBye) await this.sendBye(g);
    const endedAt = new Date();
    this.d.onEvent?.({ action: 'platform.session', phase: 'end', channel: g.channel, details: { ...this.details(g), reason } });
    if (g.startedAt !== null)
      this.d.onEnd?.({
        platform: this.d.platform,
        cameraId: g.channel,
        kind: g.offer.sessionName,
        ...(g.reading === null ? {} : { footage: { from: new Date(g.reading.coveredFromMs), to: new Date(g.reading.coveredToMs) } }),
        startedAt: g.startedAt,
        endedAt,
        bytes: g.sender.counters.bytes,
        reason,
      });
  }

  private async sendBye(g: Dialog): Promise<void> {
    try {
      await this.d.endpoint.request(this.inDialog(g, 'BYE'), g.peer);
    } catch (err) {
      this.d.logger.info({ err, platform: this.d.platform, channel: g.channel }, 'BYE to the platform got no answer');
    }
  }

  /** MediaStatus 121 (end of the range) as a MESSAGE in the dialog: platforms find the session by its Call-ID. */
  private async sendMediaStatus(g: Dialog): Promise<void> {
    const body = buildMediaStatusNotify({ sn: g.cseq + 1, deviceId: g.channel });
    const req = this.inDialog(g, 'MESSAGE', [{ name: 'Content-Type', value: MANSCDP_CONTENT_TYPE }], body);
    try {
      const res = await this.d.endpoint.request(req, g.peer);
      this.d.logger.info(
        { platform: this.d.platform, channel: g.channel, status: res.status },
        'playback range sent; MediaStatus 121 answered',
      );
    } catch (err) {
      this.d.logger.info({ err, platform: this.d.platform, channel: g.channel }, 'MediaStatus to the platform got no answer');
    }
  }

  private inDialog(g: Dialog, method: string, headers: { name: string; value: string }[] = [], body?: Buffer): SipRequest {
    return buildRequest({
      method,
      uri: g.remoteTarget,
      via: { transport: g.peer.transport, host: this.d.local.host, port: this.d.local.port, branch: newBranch() },
      from: g.localAddr,
      to: g.remote,
      callId: g.callId,
      cseq: ++g.cseq,
      headers,
      ...(body === undefined ? {} : { body }),
    });
  }

  private details(g: Dialog): Record<string, unknown> {
    const c = g.sender.counters;
    return {
      platform: this.d.platform,
      kind: g.offer.sessionName,
      ...(g.reading === null
        ? {}
        : { footageFrom: new Date(g.reading.coveredFromMs).toISOString(), footageTo: new Date(g.reading.coveredToMs).toISOString() }),
      destination: destinationOf(g.offer),
      transport: g.offer.transport,
      ssrc: g.ssrc.text,
      reads: g.reads,
      codec: g.codec,
      packets: c.packets,
      bytes: c.bytes,
    };
  }
}

function pick(s: { width?: number; height?: number; fps?: number } | undefined): { width?: number; height?: number; fps?: number } {
  if (s === undefined) return {};
  return {
    ...(s.width !== undefined ? { width: s.width } : {}),
    ...(s.height !== undefined ? { height: s.height } : {}),
    ...(s.fps !== undefined ? { fps: s.fps } : {}),
  };
}

/** The channel: the request URI's user part, else the first ID of Subject ("<channel>:<ssrc>,<receiver>:0"). */
export function channelOf(req: SipRequest): string | undefined {
  const user = sipUriUser(req.uri);
  if (user !== undefined && /^\d{20}$/.test(user)) return user;
  const subject = /^(\d{20}):/.exec(getHeader(req, 'Subject') ?? '');
  return subject?.[1];
}
