/**
 * The link to one upper platform: registration, keepalive and the requests it sends us
 * (Catalog, DeviceInfo, DeviceStatus, RecordInfo; the rest refused with a status). States: `connecting`
 * until the first 200, `registered`, `offline` after a failed registration or 3 missed
 * keepalives (re-registering with backoff), `closed`. Counters for the API and metrics.
 */
import type { Logger } from '../../log.js';
import { catalogItem, sharedCameras, type CatalogCamera } from './catalog.js';
import type { Reply, RequestHandler, SipEndpoint } from './endpoint.js';
import { Keepalive } from './keepalive.js';
import { LiveDialogs, type LiveDialogsDeps, type LiveSessionInfo, type LiveSource } from './liveDialogs.js';
import { CharsetError } from './manscdp/charset.js';
import { ManscdpParseError, parseManscdp, type ManscdpMessage } from './manscdp/query.js';
import {
  buildCatalogResponses,
  buildDeviceInfoResponse,
  buildDeviceStatusResponse,
  buildKeepaliveNotify,
  buildRecordInfoResponses,
  MANSCDP_CONTENT_TYPE,
  type RecordItem,
} from './manscdp/response.js';
import { gbLocalTime, parseGbLocalTime, recordedRuns, type RecordedFootage } from './playback.js';
import { Registration, type RegistrationState } from './registration.js';
import { controlPtz, type PtzCommandEvent, type PtzTarget } from './ptzControl.js';
import { parseNameAddr, sipUriUser } from './sip/headers.js';
import { buildRequest, getHeader, newBranch, newCallId, newCSeqNumber, newTag, type SipRequest } from './sip/message.js';
import type { TimerHost } from './sip/transaction.js';
import type { SipPeer } from './transport.js';

export type LinkState = 'connecting' | 'registered' | 'offline' | 'closed';

export interface PlatformLinkConfig {
  name: string;
  serverId: string;
  serverDomain: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
  deviceId: string;
  username?: string | undefined;
  password: string;
  cameraIds: 'all' | string[];
  keepaliveSeconds: number;
  registerExpiresSeconds: number;
  catalogItemsPerMessage?: number | undefined;
}

export interface PlatformLinkDeps {
  endpoint: SipEndpoint;
  /** Via/Contact address the platform reaches us at. */
  local: { host: string; port: number };
  cameras(): Promise<CatalogCamera[]>;
  /** Live state of a camera for the catalog's Status. */
  online(cameraId: string): boolean;
  logger: Logger;
  /** Called on every link state change (metrics, incidents, audit). */
  onChange?(link: PlatformLink, change: { from: LinkState; to: LinkState; error: string | null }): void;
  timers?: TimerHost;
  now?: () => number;
  /** Live play (INVITE): where the shared tier is read; without it INVITE gets 501. */
  live?: LiveSource;
  onSessionEvent?: LiveDialogsDeps['onEvent'];
  onSessionEnd?: LiveDialogsDeps['onEnd'];
  /** PTZ (DeviceControl PTZCmd) and the catalog's PTZType; without it DeviceControl gets 501. */
  ptz?: PtzTarget;
  onPtzCommand?(e: PtzCommandEvent): void;
  /** Recordings for RecordInfo, Playback and Download; without it they are refused (501, 488). */
  footage?: RecordedFootage;
}

/** What the API shows of a link; never the password. */
export interface PlatformStatus extends Omit<PlatformLinkConfig, 'password' | 'username' | 'catalogItemsPerMessage'> {
  id: string;
  kind: 'gb28181';
  state: LinkState;
  registered: boolean;
  registration: RegistrationState;
  registeredAt: string | null;
  expiresAt: string | null;
  keepaliveMisses: number;
  keepalivesSent: number;
  keepalivesAnswered: number;
  registerFailures: number;
  lastError: string | null;
  lastStatus: number | null;
  clockDriftMs: number | null;
  catalogQueries: number;
  sessions: LiveSessionInfo[];
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export class PlatformLink implements RequestHandler {
  state: LinkState = 'connecting';
  lastError: string | null = null;
  catalogQueries = 0;
  private readonly registration: Registration;
  private readonly keepalive: Keepalive;
  private readonly peer: SipPeer;
  private readonly fromTag = newTag();
  private cseq = newCSeqNumber();
  private sn = 1;
  readonly live: LiveDialogs | undefined;

  constructor(
    readonly cfg: PlatformLinkConfig,
    private readonly deps: PlatformLinkDeps,
  ) {
    const timers = deps.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    const now = deps.now ?? Date.now;
    this.peer = { transport: cfg.transport === 'tcp' ? 'TCP' : 'UDP', host: cfg.host, port: cfg.port };
    this.registration = new Registration(
      {
        serverId: cfg.serverId,
        serverDomain: cfg.serverDomain,
        deviceId: cfg.deviceId,
        username: cfg.username ?? cfg.deviceId,
        password: cfg.password,
        expiresSeconds: cfg.registerExpiresSeconds,
        target: this.peer,
        local: deps.local,
      },
      {
        send: (req, peer) => deps.endpoint.request(req, peer),
        timers,
        now,
        onChange: (state, info) => this.onRegistration(state, info.error ?? null),
        onClockDrift: (driftMs) => {
          if (Math.abs(driftMs) > 5000) deps.logger.warn({ platform: cfg.name, driftMs }, 'platform clock differs from ours (not applied)');
        },
      },
    );
    this.live =
      deps.live === undefined
        ? undefined
        : new LiveDialogs({
            platform: cfg.name,
            deviceId: cfg.deviceId,
            endpoint: deps.endpoint,
            local: deps.local,
            source: deps.live,
            ...(deps.footage === undefined ? {} : { footage: deps.footage }),
            shared: async () => sharedCameras(await deps.cameras(), cfg.cameraIds).map((c) => c.id),
            known: async () => (await deps.cameras()).map((c) => c.id),
            logger: deps.logger,
            ...(deps.onSessionEvent === undefined ? {} : { onEvent: deps.onSessionEvent }),
            ...(deps.onSessionEnd === undefined ? {} : { onEnd: deps.onSessionEnd }),
          });
    this.keepalive = new Keepalive({
      intervalMs: cfg.keepaliveSeconds * 1000,
      timers,
      beat: () => this.sendKeepalive(),
      onMiss: (misses) => deps.logger.info({ platform: cfg.name, misses }, 'platform keepalive unanswered'),
      onOffline: (misses) => {
        this.setState('offline', `${misses} keepalives unanswered`);
        this.registration.start(); // at once; failures back off
      },
    });
  }

  get id(): string {
    return this.cfg.name;
  }

  start(): void {
    this.registration.start();
  }

  async close(): Promise<void> {
    this.keepalive.stop();
    await this.live?.closeAll();
    await this.registration.close();
    this.setState('closed', null);
  }

  snapshot(): PlatformStatus {
    const c = this.cfg;
    const r = this.registration;
    return {
      id: this.id,
      kind: 'gb28181',
      name: c.name,
      serverId: c.serverId,
      serverDomain: c.serverDomain,
      host: c.host,
      port: c.port,
      transport: c.transport,
      deviceId: c.deviceId,
      cameraIds: c.cameraIds,
      keepaliveSeconds: c.keepaliveSeconds,
      registerExpiresSeconds: c.registerExpiresSeconds,
      state: this.state,
      registered: this.state === 'registered',
      registration: r.state,
      registeredAt: iso(r.registeredAt),
      expiresAt: iso(r.expiresAt),
      keepaliveMisses: this.keepalive.misses,
      keepalivesSent: this.keepalive.sent,
      keepalivesAnswered: this.keepalive.answered,
      registerFailures: r.failures,
      lastError: this.lastError,
      lastStatus: r.lastStatus,
      clockDriftMs: r.clockDriftMs,
      catalogQueries: this.catalogQueries,
      sessions: this.live?.list() ?? [],
    };
  }

  owns(req: SipRequest, peer: SipPeer): boolean {
    const from = sipUriUser(parseNameAddr(getHeader(req, 'From') ?? '').uri);
    if (from !== undefined) return from === this.cfg.serverId;
    return peer.host === this.peer.host && peer.port === this.peer.port;
  }

  handle(req: SipRequest, peer: SipPeer, reply: Reply): void {
    if (req.method === 'OPTIONS') return reply(200, 'OK', { headers: [{ name: 'Allow', value: 'MESSAGE, OPTIONS' }] });
    if (this.live !== undefined && req.method === 'ACK') return this.live.ack(req);
    // Media goes only to a platform the gateway is registered with (its identity was checked by the registration).
    if (req.method === 'INVITE' && this.state !== 'registered') return reply(403, 'Forbidden');
    if (this.live !== undefined && (req.method === 'INVITE' || req.method === 'BYE' || req.method === 'INFO')) {
      const live = this.live;
      const work =
        req.method === 'INVITE' ? live.invite(req, peer, reply) : req.method === 'BYE' ? live.bye(req, reply) : live.info(req, reply);
      void work.catch((err: unknown) => {
        this.deps.logger.error({ err, platform: this.cfg.name, method: req.method }, 'live play request failed');
        reply(500, 'Server Internal Error');
      });
      return;
    }
    if (req.method !== 'MESSAGE') return reply(501, 'Not Implemented');
    let msg: ManscdpMessage;
    try {
      msg = parseManscdp(req.body);
    } catch (err) {
      if (err instanceof CharsetError) return reply(415, 'Unsupported Media Type');
      if (err instanceof ManscdpParseError) return reply(400, 'Bad Request');
      throw err;
    }
    if (msg.kind === 'catalog') {
      reply(200, 'OK');
      this.catalogQueries++;
      void this.answerCatalog(msg).catch((err: unknown) =>
        this.deps.logger.warn({ err, platform: this.cfg.name }, 'catalog answer to the platform failed'),
      );
      return;
    }
    if (msg.kind === 'deviceInfo' || msg.kind === 'deviceStatus') {
      reply(200, 'OK');
      void this.answerDevice(msg).catch((err: unknown) =>
        this.deps.logger.warn({ err, platform: this.cfg.name }, 'answer to the platform failed'),
      );
      return;
    }
    if (msg.kind === 'deviceControl' && msg.ptzCmdHex !== undefined && this.deps.ptz !== undefined) {
      const target = this.deps.ptz;
      void controlPtz(
        { ...msg, ptzCmdHex: msg.ptzCmdHex },
        {
          platform: this.cfg.name,
          shared: async () => sharedCameras(await this.deps.cameras(), this.cfg.cameraIds).map((c) => c.id),
          target,
          reply,
          respond: (body) => this.sendMessage(body),
          logger: this.deps.logger,
          ...(this.deps.onPtzCommand === undefined ? {} : { onCommand: this.deps.onPtzCommand }),
        },
      ).catch((err: unknown) => this.deps.logger.warn({ err, platform: this.cfg.name }, 'PTZ command answer to the platform failed'));
      return;
    }
    if (msg.kind === 'recordInfo' && this.deps.footage !== undefined) {
      let range: { fromMs: number; toMs: number };
      try {
        range = { fromMs: parseGbLocalTime(msg.query.startTime), toMs: parseGbLocalTime(msg.query.endTime) };
      } catch (err) {
        this.deps.logger.info({ platform: this.cfg.name, error: (err as Error).message }, 'RecordInfo query with a bad time; refused');
        return reply(400, 'Bad Request');
      }
      if (range.toMs <= range.fromMs) return reply(400, 'Bad Request');
      reply(200, 'OK');
      void this.answerRecordInfo(msg, this.deps.footage, range).catch((err: unknown) =>
        this.deps.logger.warn({ err, platform: this.cfg.name }, 'RecordInfo answer to the platform failed'),
      );
      return;
    }
    // Known to the parser but not served over this link yet, or unknown: refused, never ignored.
    this.deps.logger.info({ platform: this.cfg.name, cmdType: msg.cmdType, root: msg.root }, 'MANSCDP command not supported; refused');
    reply(501, 'Not Implemented');
  }

  private async answerCatalog(q: Extract<ManscdpMessage, { kind: 'catalog' }>): Promise<void> {
    const cameras = sharedCameras(await this.deps.cameras(), this.cfg.cameraIds);
    const ptz = (await this.deps.ptz?.capabilities()) ?? new Map<string, never>();
    const items = cameras.map((c) =>
      catalogItem(c, { parentId: this.cfg.deviceId, online: this.deps.online(c.id), ptz: ptz.get(c.id) ?? null }),
    );
    const bodies = buildCatalogResponses({ sn: q.sn, deviceId: this.cfg.deviceId, charset: q.charset, ...this.splitLimits() }, items);
    await this.sendAll(bodies, 'catalog');
  }

  /** Over UDP one MESSAGE must stay under ~1,400 bytes: the SIP headers take their share. */
  private splitLimits(): { maxBytes: number; reserveBytes: number; maxItemsPerMessage?: number } {
    return {
      maxBytes: this.peer.transport === 'UDP' ? 1400 : 60_000,
      reserveBytes: this.peer.transport === 'UDP' ? 500 : 0,
      ...(this.cfg.catalogItemsPerMessage === undefined ? {} : { maxItemsPerMessage: this.cfg.catalogItemsPerMessage }),
    };
  }

  /** One after another, each waiting for its 200: platforms drop bursts. */
  private async sendAll(bodies: readonly Buffer[], what: string): Promise<void> {
    for (const body of bodies) {
      const res = await this.sendMessage(body);
      if (res !== 200) throw new Error(`${what} MESSAGE answered ${res}`);
    }
  }

  /**
   * RecordInfo: the recorded runs of a shared channel within the asked range, one item per
   * run (a gap starts a new one), clipped to the range. Every recording is continuous
   * (Type time, Secrecy 0): a query for alarm or manual recordings, or for a channel this
   * platform is not given, gets an empty list.
   */
  private async answerRecordInfo(
    q: Extract<ManscdpMessage, { kind: 'recordInfo' }>,
    footage: RecordedFootage,
    range: { fromMs: number; toMs: number },
  ): Promise<void> {
    const camera = sharedCameras(await this.deps.cameras(), this.cfg.cameraIds).find((c) => c.id === q.deviceId);
    const type = q.query.type ?? 'all';
    const wanted = camera !== undefined && (type === 'all' || type === 'time') && (q.query.secrecy ?? '0') === '0';
    const runs = wanted ? recordedRuns(await footage.segments(q.deviceId, range.fromMs, range.toMs)) : [];
    const items = runs.map((run): RecordItem => {
      const start = gbLocalTime(Math.max(run.startMs, range.fromMs));
      return {
        deviceId: q.deviceId,
        name: camera?.name ?? q.deviceId,
        filePath: `${q.deviceId}/${start}`,
        ...(camera?.address ? { address: camera.address } : {}),
        startTime: start,
        endTime: gbLocalTime(Math.min(run.endMs, range.toMs)),
        secrecy: 0,
        type: 'time',
        recorderId: this.cfg.deviceId,
      };
    });
    const bodies = buildRecordInfoResponses(
      { sn: q.sn, deviceId: q.deviceId, name: camera?.name ?? q.deviceId, charset: q.charset, ...this.splitLimits() },
      items,
    );
    await this.sendAll(bodies, 'RecordInfo');
  }

  private async answerDevice(q: Extract<ManscdpMessage, { kind: 'deviceInfo' | 'deviceStatus' }>): Promise<void> {
    const shared = sharedCameras(await this.deps.cameras(), this.cfg.cameraIds);
    const enc = { charset: q.charset };
    const body =
      q.kind === 'deviceInfo'
        ? buildDeviceInfoResponse({
            sn: q.sn,
            deviceId: q.deviceId,
            deviceName: 'psv-gateway',
            manufacturer: 'psv-gateway',
            channel: shared.length,
            ...enc,
          })
        : buildDeviceStatusResponse({ sn: q.sn, deviceId: q.deviceId, online: true, ok: true, ...enc });
    await this.sendMessage(body);
  }

  private async sendKeepalive(): Promise<boolean> {
    const body = buildKeepaliveNotify({ sn: this.sn++, deviceId: this.cfg.deviceId, status: 'OK' });
    return (await this.sendMessage(body)) === 200;
  }

  /** A MESSAGE with a MANSCDP body to the platform; resolves with the final status. */
  private async sendMessage(body: Buffer): Promise<number> {
    const c = this.cfg;
    const target = this.registration.currentTarget;
    const req = buildRequest({
      method: 'MESSAGE',
      uri: `sip:${c.serverId}@${c.serverDomain}`,
      via: { transport: target.transport, host: this.deps.local.host, port: this.deps.local.port, branch: newBranch() },
      from: `<sip:${c.deviceId}@${c.deviceId.slice(0, 10)}>;tag=${this.fromTag}`,
      to: `<sip:${c.serverId}@${c.serverDomain}>`,
      callId: newCallId(),
      cseq: ++this.cseq,
      headers: [
        { name: 'Content-Type', value: MANSCDP_CONTENT_TYPE },
        { name: 'User-Agent', value: 'psv-gateway' },
      ],
      body,
    });
    return (await this.deps.endpoint.request(req, target)).status;
  }

  private onRegistration(state: RegistrationState, error: string | null): void {
    if (state === 'registered') {
      this.keepalive.start();
      this.setState('registered', null);
    } else if (state === 'retrying') {
      this.keepalive.stop();
      this.setState('offline', error);
    }
  }

  private setState(to: LinkState, error: string | null): void {
    const from = this.state;
    if (error !== null) this.lastError = error;
    else if (to === 'registered') this.lastError = null;
    if (from === to && error === null) return;
    this.state = to;
    this.deps.onChange?.(this, { from, to, error });
  }
}
