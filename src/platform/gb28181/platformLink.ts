/**
 * The link to one upper platform: registration, keepalive and the requests it sends us
 * (Catalog, DeviceInfo, DeviceStatus, RecordInfo; the rest refused with a status). States: `connecting`
 * until the first 200, `registered`, `offline` after a failed registration or 3 missed
 * keepalives (re-registering with backoff), `closed`. Counters for the API and metrics.
 */
import type { Logger } from '../../log.js';
import { manscdpTime, type AlarmSpec, type IncidentSink } from './alarms.js';
import { catalogChanges, catalogItem, sharedCameras, type CatalogCamera } from './catalog.js';
import type { Reply, RequestHandler, SipEndpoint } from './endpoint.js';
import { Keepalive, KEEPALIVE_MISSES } from './keepalive.js';
import { LiveDialogs, type LiveDialogsDeps, type LiveSessionInfo, type LiveSource } from './liveDialogs.js';
import { CharsetError } from './manscdp/charset.js';
import { ManscdpParseError, parseManscdp, type ManscdpMessage } from './manscdp/query.js';
import {
  buildAlarmNotify,
  buildCatalogNotifies,
  buildCatalogResponses,
  buildConfigDownloadResponse,
  buildDeviceInfoResponse,
  buildDeviceStatusResponse,
  buildKeepaliveNotify,
  buildRecordInfoResponses,
  MANSCDP_CONTENT_TYPE,
  type RecordItem,
  type CatalogItem,
  type SplitOptions,
} from './manscdp/response.js';
import { gbLocalTime, parseGbLocalTime, recordedRuns, type RecordedFootage } from './playback.js';
import { Registration, type RegistrationState } from './registration.js';
import { controlPtz, type PtzCommandEvent, type PtzTarget } from './ptzControl.js';
import { parseNameAddr, sipUriUser } from './sip/headers.js';
import { buildRequest, getHeader, newBranch, newCallId, newCSeqNumber, newTag, type SipHeader, type SipRequest } from './sip/message.js';
import type { TimerHost } from './sip/transaction.js';
import type { SipPeer } from './transport.js';

/** `standby`: in a cluster, another node holds the link (docs/cluster.md). */
export type LinkState = 'connecting' | 'registered' | 'offline' | 'closed' | 'standby';

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
  /** The platform's catalog and alarm subscriptions, while it holds them. */
  catalogSubscription: { expiresAt: string } | null;
  alarmSubscription: { expiresAt: string } | null;
  alarmsSent: number;
}

/** The events a platform may subscribe to (GB/T 28181-2016 §9.11: catalog and alarm). */
type SubscribedEvent = 'catalog' | 'alarm';

/** A SUBSCRIBE's dialog (RFC 6665): NOTIFYs go in it until it expires. */
interface Subscription {
  kind: SubscribedEvent;
  callId: string;
  /** The Event header as the platform sent it (with its id parameter). */
  event: string;
  /** Our From (the 200's To, with our tag) and the platform's (its From, with its tag). */
  local: string;
  remote: string;
  remoteTarget: string;
  peer: SipPeer;
  cseq: number;
  expiresAt: number;
  timer: unknown;
}

/** Longest subscription granted; a platform asking more refreshes sooner. */
const MAX_SUBSCRIPTION_SECONDS = 86_400;

/** What an OPTIONS is told this gateway serves. */
const ALLOWED_METHODS = 'INVITE, ACK, BYE, CANCEL, INFO, MESSAGE, NOTIFY, OPTIONS, SUBSCRIBE';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export class PlatformLink implements RequestHandler, IncidentSink {
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
  alarmsSent = 0;
  private readonly timers: TimerHost;
  /** One subscription per event: a new one replaces the old. */
  private readonly subscriptions = new Map<SubscribedEvent, Subscription>();
  /** The catalog subscribers were last told, for the change events. */
  private told = new Map<string, CatalogItem>();
  /** Requests we send beside keepalives, one at a time: platforms drop bursts. */
  private outbox: Promise<void> = Promise.resolve();

  constructor(
    readonly cfg: PlatformLinkConfig,
    private readonly deps: PlatformLinkDeps,
  ) {
    const timers = deps.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    const now = deps.now ?? Date.now;
    this.timers = timers;
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

  /**
   * Ends the sessions and unregisters (Expires 0). `unregister: false` when the link moved to
   * another node (its lease was lost there): that node registers the same device ID, which an
   * Expires 0 from here would undo.
   */
  async close(opts: { unregister?: boolean } = {}): Promise<void> {
    this.keepalive.stop();
    for (const kind of [...this.subscriptions.keys()]) this.unsubscribe(kind);
    await this.live?.closeAll();
    await this.registration.close(opts.unregister ?? true);
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
      catalogSubscription: this.subscriptionInfo('catalog'),
      alarmSubscription: this.subscriptionInfo('alarm'),
      alarmsSent: this.alarmsSent,
    };
  }

  owns(req: SipRequest, peer: SipPeer): boolean {
    const from = sipUriUser(parseNameAddr(getHeader(req, 'From') ?? '').uri);
    if (from !== undefined) return from === this.cfg.serverId;
    return peer.host === this.peer.host && peer.port === this.peer.port;
  }

  handle(req: SipRequest, peer: SipPeer, reply: Reply): void {
    if (req.method === 'OPTIONS') return reply(200, 'OK', { headers: [{ name: 'Allow', value: ALLOWED_METHODS }] });
    if (this.live !== undefined && req.method === 'ACK') return this.live.ack(req);
    if (req.method === 'CANCEL')
      return this.live === undefined ? reply(481, 'Call/Transaction Does Not Exist') : this.live.cancel(req, reply);
    if (req.method === 'SUBSCRIBE') return this.subscribe(req, peer, reply);
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
    const msg = parseOrRefuse(req.body, reply);
    if (msg === undefined) return;
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
    if (msg.kind === 'unknown' && msg.root === 'Query' && msg.cmdType === 'ConfigDownload') {
      // Only the basic parameters are a gateway's to tell; a query for nothing else is refused.
      const types = String(msg.fields.ConfigType ?? '').split('/');
      if (!types.includes('BasicParam')) return reply(488, 'Not Acceptable Here');
      reply(200, 'OK');
      void this.sendMessage(
        buildConfigDownloadResponse({
          sn: msg.sn,
          deviceId: this.cfg.deviceId,
          name: 'psv-gateway',
          expiration: this.cfg.registerExpiresSeconds,
          heartBeatInterval: this.cfg.keepaliveSeconds,
          heartBeatCount: KEEPALIVE_MISSES,
          sipServerId: this.cfg.serverId,
          sipServerIp: this.cfg.host,
          sipServerPort: this.cfg.port,
          domainName: this.cfg.serverDomain,
          charset: msg.charset,
        }),
      ).catch((err: unknown) => this.deps.logger.warn({ err, platform: this.cfg.name }, 'ConfigDownload answer to the platform failed'));
      return;
    }
    // Known to the parser but not served over this link yet, or unknown: refused, never ignored.
    this.deps.logger.info({ platform: this.cfg.name, cmdType: msg.cmdType, root: msg.root }, 'MANSCDP command not supported; refused');
    reply(501, 'Not Implemented');
  }

  private async answerCatalog(q: Extract<ManscdpMessage, { kind: 'catalog' }>): Promise<void> {
    const bodies = buildCatalogResponses(this.split(q.sn, q.charset), await this.catalogItems());
    await this.sendAll(bodies, 'catalog');
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
      { ...this.split(q.sn, q.charset), deviceId: q.deviceId, name: camera?.name ?? q.deviceId },
      items,
    );
    await this.sendAll(bodies, 'RecordInfo');
  }

  /** The catalog as a query or a subscription gets it: the shared cameras with their live Status. */
  private async catalogItems(): Promise<CatalogItem[]> {
    const cameras = sharedCameras(await this.deps.cameras(), this.cfg.cameraIds);
    const ptz = (await this.deps.ptz?.capabilities()) ?? new Map<string, never>();
    return cameras.map((c) => catalogItem(c, { parentId: this.cfg.deviceId, online: this.deps.online(c.id), ptz: ptz.get(c.id) ?? null }));
  }

  /** How list bodies are cut for this link. */
  private split(sn: string | number, charset: SplitOptions['charset']): SplitOptions {
    return {
      sn,
      deviceId: this.cfg.deviceId,
      ...(charset === undefined ? {} : { charset }),
      // Over UDP one MESSAGE must stay under ~1,400 bytes: the SIP headers take their share.
      maxBytes: this.peer.transport === 'UDP' ? 1400 : 60_000,
      reserveBytes: this.peer.transport === 'UDP' ? 500 : 0,
      ...(this.cfg.catalogItemsPerMessage === undefined ? {} : { maxItemsPerMessage: this.cfg.catalogItemsPerMessage }),
    };
  }

  private subscriptionInfo(kind: SubscribedEvent): { expiresAt: string } | null {
    const sub = this.subscriptions.get(kind);
    return sub === undefined ? null : { expiresAt: new Date(sub.expiresAt).toISOString() };
  }

  /**
   * SUBSCRIBE (RFC 6665, GB/T 28181-2016 §9.11): Catalog and Alarm (other events get 489). A
   * new subscription is answered 200 with the granted Expires; a catalog one then gets NOTIFYs
   * with the whole catalog (each item an ADD, the same items a Catalog query gets), an alarm one
   * gets the alarms as NOTIFY instead of MESSAGE. A refresh in the dialog moves its expiry;
   * Expires 0 ends it. One subscription per event: a new one replaces the old.
   */
  private subscribe(req: SipRequest, peer: SipPeer, reply: Reply): void {
    const event = getHeader(req, 'Event') ?? '';
    const name = event.split(';')[0]?.trim().toLowerCase();
    if (name !== 'catalog' && name !== 'alarm') {
      return reply(489, 'Bad Event', { headers: [{ name: 'Allow-Events', value: 'Catalog, Alarm' }] });
    }
    const kind: SubscribedEvent = name;
    const expiresText = getHeader(req, 'Expires') ?? '3600';
    if (!/^\d{1,10}$/.test(expiresText.trim())) return reply(400, 'Bad Request');
    const expires = Math.min(Number(expiresText), MAX_SUBSCRIPTION_SECONDS);
    let sn: string | number = this.sn++;
    let charset: SplitOptions['charset'];
    if (req.body.length > 0) {
      const q = parseOrRefuse(req.body, reply);
      if (q === undefined) return;
      if (q.cmdType.toLowerCase() !== kind) return reply(400, 'Bad Request');
      sn = q.sn;
      charset = q.charset;
    }
    const callId = getHeader(req, 'Call-ID') ?? '';
    const granted = { name: 'Expires', value: String(expires) };
    if (parseNameAddr(getHeader(req, 'To') ?? '').params.has('tag')) {
      // A refresh or an unsubscribe in the dialog.
      const sub = this.subscriptions.get(kind);
      if (sub === undefined || sub.callId !== callId) return reply(481, 'Subscription Does Not Exist');
      if (expires === 0) this.unsubscribe(kind);
      else this.armExpiry(sub, expires);
      return reply(200, 'OK', { headers: [granted] });
    }
    if (expires === 0) return reply(200, 'OK', { headers: [granted] });
    this.unsubscribe(kind);
    const toTag = newTag();
    const contact = parseNameAddr(getHeader(req, 'Contact') ?? '').uri;
    const remote = getHeader(req, 'From') ?? '';
    const sub: Subscription = {
      kind,
      callId,
      event,
      local: `${getHeader(req, 'To') ?? ''};tag=${toTag}`,
      remote,
      remoteTarget: contact !== '' ? contact : `sip:${this.cfg.serverId}@${peer.host}:${peer.port}`,
      peer,
      cseq: 0,
      expiresAt: 0,
      timer: undefined,
    };
    this.subscriptions.set(kind, sub);
    this.armExpiry(sub, expires);
    reply(200, 'OK', {
      toTag,
      headers: [granted, { name: 'Contact', value: `<sip:${this.cfg.deviceId}@${this.deps.local.host}:${this.deps.local.port}>` }],
    });
    if (kind === 'catalog')
      this.enqueue('catalog subscription NOTIFY', async () => {
        const items = await this.catalogItems();
        this.told = new Map(items.map((i) => [i.deviceId, i]));
        const changes = items.map((item) => ({ event: 'ADD' as const, item }));
        await this.notifyIn(sub, buildCatalogNotifies(this.split(sn, charset), changes));
      });
  }

  private armExpiry(sub: Subscription, seconds: number): void {
    if (sub.timer !== undefined) this.timers.clearTimeout(sub.timer);
    sub.expiresAt = Date.now() + seconds * 1000;
    sub.timer = this.timers.setTimeout(() => {
      if (this.subscriptions.get(sub.kind) !== sub) return;
      this.deps.logger.info({ platform: this.cfg.name, event: sub.kind }, 'subscription expired');
      this.unsubscribe(sub.kind);
    }, seconds * 1000);
  }

  private unsubscribe(kind: SubscribedEvent): void {
    const sub = this.subscriptions.get(kind);
    if (sub === undefined) return;
    if (sub.timer !== undefined) this.timers.clearTimeout(sub.timer);
    this.subscriptions.delete(kind);
  }

  /** Camera state or the shared set may have changed: a subscriber gets what did (ON, OFF, ADD, DEL, UPDATE). */
  catalogChanged(): void {
    if (!this.subscriptions.has('catalog')) return;
    this.enqueue('catalog change NOTIFY', async () => {
      const sub = this.subscriptions.get('catalog');
      if (sub === undefined) return;
      const items = await this.catalogItems();
      const changes = catalogChanges(this.told, items);
      this.told = new Map(items.map((i) => [i.deviceId, i]));
      if (changes.length > 0) await this.notifyIn(sub, buildCatalogNotifies(this.split(this.sn++, undefined), changes));
    });
  }

  /** NOTIFYs in a subscription's dialog, one after another; stops when it ended meanwhile. */
  private async notifyIn(sub: Subscription, bodies: Buffer[]): Promise<void> {
    for (const body of bodies) {
      if (this.subscriptions.get(sub.kind) !== sub) return;
      const remaining = Math.max(0, Math.round((sub.expiresAt - Date.now()) / 1000));
      const req = this.request('NOTIFY', body, {
        uri: sub.remoteTarget,
        from: sub.local,
        to: sub.remote,
        callId: sub.callId,
        cseq: ++sub.cseq,
        headers: [
          { name: 'Event', value: sub.event },
          { name: 'Subscription-State', value: `active;expires=${remaining}` },
        ],
      });
      const res = await this.deps.endpoint.request(req, sub.peer);
      if (res.status === 481) this.unsubscribe(sub.kind); // the platform dropped it (RFC 6665 4.1.3)
      if (res.status !== 200) throw new Error(`${sub.kind} NOTIFY answered ${res.status}`);
    }
  }

  /** An Alarm to this platform when it is registered and shares the camera: NOTIFY in its alarm subscription, else MESSAGE. */
  alarm(cameraId: string, spec: AlarmSpec, at: Date): void {
    if (this.state !== 'registered') return;
    this.enqueue('alarm', async () => {
      const camera = sharedCameras(await this.deps.cameras(), this.cfg.cameraIds).find((c) => c.id === cameraId);
      if (camera === undefined) return;
      const body = buildAlarmNotify({
        sn: this.sn++,
        deviceId: cameraId,
        ...spec,
        time: manscdpTime(at),
        ...(camera.lon === null ? {} : { longitude: camera.lon }),
        ...(camera.lat === null ? {} : { latitude: camera.lat }),
      });
      const sub = this.subscriptions.get('alarm');
      if (sub !== undefined) await this.notifyIn(sub, [body]);
      else {
        const res = await this.sendMessage(body);
        if (res !== 200) throw new Error(`alarm MESSAGE answered ${res}`);
      }
      this.alarmsSent++;
    });
  }

  private enqueue(what: string, task: () => Promise<void>): void {
    this.outbox = this.outbox
      .then(task)
      .catch((err: unknown) => this.deps.logger.warn({ err, platform: this.cfg.name }, `${what} to the platform failed`));
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
    const target = this.registration.currentTarget;
    return (await this.deps.endpoint.request(this.request('MESSAGE', body), target)).status;
  }

  /** A request with a MANSCDP body: outside any dialog unless `dialog` names one. */
  private request(
    method: string,
    body: Buffer,
    dialog?: { uri: string; from: string; to: string; callId: string; cseq: number; headers: SipHeader[] },
  ): SipRequest {
    const c = this.cfg;
    return buildRequest({
      method,
      uri: dialog?.uri ?? `sip:${c.serverId}@${c.serverDomain}`,
      via: {
        transport: this.registration.currentTarget.transport,
        host: this.deps.local.host,
        port: this.deps.local.port,
        branch: newBranch(),
      },
      from: dialog?.from ?? `<sip:${c.deviceId}@${c.deviceId.slice(0, 10)}>;tag=${this.fromTag}`,
      to: dialog?.to ?? `<sip:${c.serverId}@${c.serverDomain}>`,
      callId: dialog?.callId ?? newCallId(),
      cseq: dialog?.cseq ?? ++this.cseq,
      headers: [
        ...(dialog?.headers ?? []),
        { name: 'Content-Type', value: MANSCDP_CONTENT_TYPE },
        { name: 'User-Agent', value: 'psv-gateway' },
      ],
      body,
    });
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

/** The MANSCDP body, or undefined once the request was refused: 415 for a charset we cannot read, 400 for bad XML. */
function parseOrRefuse(body: Buffer, reply: Reply): ManscdpMessage | undefined {
  try {
    return parseManscdp(body);
  } catch (err) {
    if (err instanceof CharsetError) reply(415, 'Unsupported Media Type');
    else if (err instanceof ManscdpParseError) reply(400, 'Bad Request');
    else throw err;
    return undefined;
  }
}
