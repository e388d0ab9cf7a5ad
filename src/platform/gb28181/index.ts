/**
 * GB/T 28181 lower-platform signalling: one SIP port shared by every configured upper
 * platform, a PlatformLink each. Passwords come from PSVGW_PLATFORM_<NAME>_PASSWORD (or the
 * config file outside production) and are never logged or shown.
 */
import { Gauge, type Registry } from 'prom-client';
import { platformPasswordEnv } from '../../config/index.js';
import { platformDownKind, type IncidentBoard } from '../../health/index.js';
import type { Logger } from '../../log.js';
import { feedIncidents } from './alarms.js';
import type { CatalogCamera } from './catalog.js';
import { SipEndpoint } from './endpoint.js';
import type { LiveSessionEnd, LiveSource } from './liveDialogs.js';
import type { RecordedFootage } from './playback.js';
import { PlatformLink, type PlatformLinkConfig, type PlatformStatus } from './platformLink.js';
import type { PtzTarget } from './ptzControl.js';
import { SipTransport } from './transport.js';

export type { PlatformLinkConfig, PlatformStatus } from './platformLink.js';
export type { LiveSessionEnd, LiveSource } from './liveDialogs.js';
export type { PtzTarget } from './ptzControl.js';
export { recordedFootage, type RecordedFootage, type RecordedFootageDeps, type PlaybackCamera } from './playback.js';

export interface Gb28181Settings {
  sipHost: string;
  sipPort: number;
  advertisedHost?: string | undefined;
  platforms: Array<Omit<PlatformLinkConfig, 'password'> & { password?: string | undefined }>;
}

/** Where link-down incidents go, and whose camera incidents become catalog changes and alarms. */
export type LinkIncidents = Pick<IncidentBoard, 'fire' | 'resolve' | 'onChange'>;

/** Where link transitions are audited (the store's audit chain fits). */
export interface LinkAudit {
  append(entry: {
    at: string;
    actor: string;
    action: string;
    cameraId: string | null;
    outcome: 'ok' | 'refused' | 'error';
    details: Record<string, unknown>;
  }): Promise<void>;
}

export interface Gb28181Deps {
  cameras(): Promise<CatalogCamera[]>;
  audit?: LinkAudit;
  online(cameraId: string): boolean;
  incidents: LinkIncidents;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Live play: the shared tier's internal URL and stream facts; without it INVITE is refused 501. */
  live?: LiveSource;
  /** Steers shared cameras on a platform's DeviceControl PTZCmd and gives the catalog's PTZType. */
  ptz?: PtzTarget;
  /** A live session ended (the access register records it as a platform_play). */
  onSessionEnd?(e: LiveSessionEnd): void;
  /** Recordings for RecordInfo, Playback and Download (masked on the way out); without it they are refused. */
  footage?: RecordedFootage;
  /** Calls back when a camera is added, changed or removed (catalog subscribers are told); returns the unsubscribe. */
  camerasChanged?(listener: () => void): () => void;
  /**
   * Cluster mode: a link runs only on the node holding its lease (src/cluster/linkLease.ts);
   * elsewhere it stands by. Without it every link runs here.
   */
  holder?: LinkHolder;
  /** Cluster mode: this node has claimed the link's lease and starts it (`isUp`: it is registered now). */
  onLinkHeld?(link: string, isUp: () => boolean): void;
}

/** Who may run a link: `hold` asks for it, `acquired`/`lost` start and stop it here; the returned function lets it go. */
export interface LinkHolder {
  hold(link: string, on: { acquired(): void; lost(): void | Promise<void> }): () => Promise<void>;
}

export interface Gb28181Service {
  list(): PlatformStatus[];
  get(id: string): PlatformStatus | undefined;
  registerMetrics(registry: Registry): void;
  /** Links one more platform at once (the SIP port opens with the first). */
  add(cfg: PlatformLinkConfig): Promise<PlatformStatus>;
  /** Unregisters (Expires 0) and drops a platform's link; false when none has that id. */
  remove(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The incident kind of a platform link that is down (one per platform; the outage ledger keeps it). */
export const linkDownKind = platformDownKind;

export async function startGb28181(s: Gb28181Settings, deps: Gb28181Deps): Promise<Gb28181Service> {
  const env = deps.env ?? process.env;
  const configs = s.platforms.map((p): PlatformLinkConfig => {
    const password = env[platformPasswordEnv(p.name)] ?? p.password;
    if (password === undefined || password === '') {
      throw new Error(`GB/T 28181 platform ${p.name} has no password: set ${platformPasswordEnv(p.name)}`);
    }
    return { ...p, password };
  });
  // The SIP port opens with the first platform, from the config or added later through the API.
  let sip: Promise<{ transport: SipTransport; endpoint: SipEndpoint; local: { host: string; port: number } }> | undefined;
  const openSip = () =>
    (sip ??= SipTransport.open({ host: s.sipHost, port: s.sipPort, logger: deps.logger }).then((transport) => {
      const endpoint = new SipEndpoint({ transport, logger: deps.logger });
      const advertised = s.advertisedHost ?? (s.sipHost === '0.0.0.0' || s.sipHost === '::' ? '127.0.0.1' : s.sipHost);
      deps.logger.info({ sipPort: transport.port }, 'GB/T 28181 signalling started');
      return { transport, endpoint, local: { host: advertised, port: transport.port } };
    })).catch((err: unknown) => {
      sip = undefined; // a later platform tries the port again
      throw err;
    });
  const links: PlatformLink[] = [];
  const detach = new Map<PlatformLink, () => void>();
  const linkFor = async (cfg: PlatformLinkConfig): Promise<PlatformLink> => {
    const { endpoint, local } = await openSip();
    return new PlatformLink(cfg, {
      endpoint,
      local,
      cameras: deps.cameras,
      online: deps.online,
      logger: deps.logger,
      ...(deps.live === undefined ? {} : { live: deps.live }),
      ...(deps.onSessionEnd === undefined ? {} : { onSessionEnd: deps.onSessionEnd }),
      ...(deps.ptz === undefined ? {} : { ptz: deps.ptz }),
      onPtzCommand: (e) =>
        void deps.audit
          ?.append({
            at: new Date().toISOString(),
            actor: `platform:${e.platform}`,
            action: 'ptz.command',
            cameraId: e.cameraId,
            outcome: e.outcome,
            details: { platform: e.platform, command: e.command, action: e.action, reason: e.reason },
          })
          .catch((err: unknown) => deps.logger.error({ err, platform: cfg.name }, 'could not audit a PTZ command')),
      ...(deps.footage === undefined ? {} : { footage: deps.footage }),
      onSessionEvent: (e) =>
        void deps.audit
          ?.append({
            at: new Date().toISOString(),
            actor: 'system',
            action: `${e.action}.${e.phase}`,
            cameraId: e.channel,
            outcome: 'ok',
            details: e.details,
          })
          .catch((err: unknown) => deps.logger.error({ err, platform: cfg.name }, 'could not audit a platform session')),
      onChange: (link, change) => {
        deps.logger.info({ platform: link.id, from: change.from, to: change.to, error: change.error }, 'GB/T 28181 platform link state');
        // Transitions only (a retry that fails again is not one): the audit chain shows when each link was up.
        if (change.from !== change.to)
          void deps.audit
            ?.append({
              at: new Date().toISOString(),
              actor: 'system',
              action: 'platform.link',
              cameraId: null,
              outcome: change.to === 'offline' ? 'error' : 'ok',
              details: { platform: link.id, from: change.from, to: change.to, error: change.error },
            })
            .catch((err: unknown) => deps.logger.error({ err, platform: link.id }, 'could not audit a platform link change'));
        if (change.to === 'registered' || change.to === 'closed') deps.incidents.resolve(null, linkDownKind(link.id));
        else if (change.to === 'offline')
          deps.incidents.fire({
            cameraId: null,
            kind: linkDownKind(link.id),
            severity: 'critical',
            message: `GB/T 28181 link to platform ${link.id} is down: ${change.error ?? 'unknown cause'}`,
            details: { platform: link.id, cause: change.error },
          });
      },
    });
  };
  const run = async (link: PlatformLink) => {
    detach.set(link, (await openSip()).endpoint.addHandler(link));
    link.start();
  };
  const startLink = async (cfg: PlatformLinkConfig): Promise<PlatformLink> => {
    const link = await linkFor(cfg);
    links.push(link);
    if (deps.holder === undefined) await run(link);
    else standby(link, deps.holder);
    return link;
  };
  // Cluster mode: the link object stands by until this node holds its lease; a lost lease closes it without
  // unregistering (the next holder registers the same device ID) and a fresh one stands by in its place.
  const letGo = new Map<string, () => Promise<void>>();
  const running = new Set<PlatformLink>();
  const standby = (first: PlatformLink, holder: LinkHolder) => {
    let turn = Promise.resolve();
    const current = () => links.find((l) => l.id === first.id);
    const serially = (what: string, work: () => Promise<void>) =>
      (turn = turn.then(work).catch((err: unknown) => deps.logger.error({ err, platform: first.id }, what)));
    letGo.set(
      first.id,
      holder.hold(first.id, {
        acquired: () =>
          void serially('could not start a platform link', async () => {
            const link = current();
            if (link === undefined || running.has(link)) return;
            running.add(link);
            deps.onLinkHeld?.(link.id, () => link.state === 'registered');
            await run(link);
          }),
        lost: () =>
          serially('could not stop a platform link', async () => {
            const link = current();
            if (link === undefined || !running.has(link)) return;
            running.delete(link);
            detach.get(link)?.();
            detach.delete(link);
            await link.close({ unregister: false });
            if (current() === link) links.splice(links.indexOf(link), 1, await linkFor(link.cfg));
          }),
      }),
    );
  };
  const snapshotOf = (l: PlatformLink): PlatformStatus =>
    deps.holder === undefined || running.has(l) ? l.snapshot() : { ...l.snapshot(), state: 'standby' };
  for (const cfg of configs) await startLink(cfg);
  // Camera incidents and registry changes reach every link, those added later included.
  const unfollow = [
    feedIncidents(deps.incidents, links),
    deps.camerasChanged?.(() => {
      for (const link of links) link.catalogChanged();
    }) ?? (() => undefined),
  ];
  if (configs.length > 0) deps.logger.info({ platforms: configs.map((c) => c.name) }, 'GB/T 28181 platforms from the config file');
  return {
    list: () => links.map(snapshotOf),
    get: (id) => {
      const link = links.find((l) => l.id === id);
      return link === undefined ? undefined : snapshotOf(link);
    },
    async add(cfg) {
      if (links.some((l) => l.id === cfg.name)) throw new Error(`GB/T 28181 platform ${cfg.name} is already linked`);
      return (await startLink(cfg)).snapshot();
    },
    async remove(id) {
      const link = links.find((l) => l.id === id);
      if (link === undefined) return false;
      links.splice(links.indexOf(link), 1);
      // Unregisters (Expires 0) and ends its sessions before it stops answering (a standby link has nothing to end).
      if (deps.holder === undefined || running.has(link)) await link.close();
      running.delete(link);
      detach.get(link)?.();
      detach.delete(link);
      await letGo.get(id)?.();
      letGo.delete(id);
      return true;
    },
    registerMetrics(registry) {
      const registers = [registry];
      new Gauge({
        name: 'psvgw_gb28181_link_up',
        help: '1 when the gateway is registered with the GB/T 28181 platform, else 0.',
        labelNames: ['platform'],
        registers,
        collect() {
          this.reset();
          for (const l of links) this.set({ platform: l.id }, l.state === 'registered' ? 1 : 0);
        },
      });
      new Gauge({
        name: 'psvgw_gb28181_keepalive_misses',
        help: 'Keepalives in a row the platform has not answered.',
        labelNames: ['platform'],
        registers,
        collect() {
          this.reset();
          for (const l of links) this.set({ platform: l.id }, l.snapshot().keepaliveMisses);
        },
      });
      new Gauge({
        name: 'psvgw_gb28181_sessions',
        help: 'Live GB/T 28181 sessions (INVITE dialogs) sending to the platform.',
        labelNames: ['platform'],
        registers,
        collect() {
          this.reset();
          for (const l of links) this.set({ platform: l.id }, l.live?.count ?? 0);
        },
      });
      new Gauge({
        name: 'psvgw_gb28181_register_failures',
        help: 'Failed REGISTER attempts since the last success (wrong password, no answer, refusal).',
        labelNames: ['platform'],
        registers,
        collect() {
          this.reset();
          for (const l of links) this.set({ platform: l.id }, l.snapshot().registerFailures);
        },
      });
    },
    async close() {
      for (const off of unfollow) off();
      await Promise.all(links.map((l) => (deps.holder === undefined || running.has(l) ? l.close() : undefined)));
      for (const release of letGo.values()) await release();
      if (sip === undefined) return;
      const { endpoint, transport } = await sip;
      endpoint.close();
      await transport.close();
    },
  };
}
