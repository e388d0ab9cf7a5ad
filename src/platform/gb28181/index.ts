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
import { PlatformLink, type PlatformLinkConfig, type PlatformStatus } from './platformLink.js';
import { SipTransport } from './transport.js';

export type { PlatformStatus } from './platformLink.js';
export type { LiveSessionEnd, LiveSource } from './liveDialogs.js';

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
    outcome: 'ok' | 'error';
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
  /** A live session ended (the access register records it as a platform_play). */
  onSessionEnd?(e: LiveSessionEnd): void;
  /** Calls back when a camera is added, changed or removed (catalog subscribers are told); returns the unsubscribe. */
  camerasChanged?(listener: () => void): () => void;
}

export interface Gb28181Service {
  list(): PlatformStatus[];
  get(id: string): PlatformStatus | undefined;
  registerMetrics(registry: Registry): void;
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
  const transport = await SipTransport.open({ host: s.sipHost, port: s.sipPort, logger: deps.logger });
  const endpoint = new SipEndpoint({ transport, logger: deps.logger });
  const advertised = s.advertisedHost ?? (s.sipHost === '0.0.0.0' || s.sipHost === '::' ? '127.0.0.1' : s.sipHost);
  const local = { host: advertised, port: transport.port };
  const links = configs.map(
    (cfg) =>
      new PlatformLink(cfg, {
        endpoint,
        local,
        cameras: deps.cameras,
        online: deps.online,
        logger: deps.logger,
        ...(deps.live === undefined ? {} : { live: deps.live }),
        ...(deps.onSessionEnd === undefined ? {} : { onSessionEnd: deps.onSessionEnd }),
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
      }),
  );
  for (const link of links) endpoint.addHandler(link);
  const unfollow = [
    feedIncidents(deps.incidents, links),
    deps.camerasChanged?.(() => {
      for (const link of links) link.catalogChanged();
    }) ?? (() => undefined),
  ];
  for (const link of links) link.start();
  deps.logger.info({ sipPort: transport.port, platforms: links.map((l) => l.id) }, 'GB/T 28181 signalling started');
  return {
    list: () => links.map((l) => l.snapshot()),
    get: (id) => links.find((l) => l.id === id)?.snapshot(),
    registerMetrics(registry) {
      const registers = [registry];
      new Gauge({
        name: 'psvgw_gb28181_link_up',
        help: '1 when the gateway is registered with the GB/T 28181 platform, else 0.',
        labelNames: ['platform'],
        registers,
        collect() {
          for (const l of links) this.set({ platform: l.id }, l.state === 'registered' ? 1 : 0);
        },
      });
      new Gauge({
        name: 'psvgw_gb28181_keepalive_misses',
        help: 'Keepalives in a row the platform has not answered.',
        labelNames: ['platform'],
        registers,
        collect() {
          for (const l of links) this.set({ platform: l.id }, l.snapshot().keepaliveMisses);
        },
      });
      new Gauge({
        name: 'psvgw_gb28181_sessions',
        help: 'Live GB/T 28181 sessions (INVITE dialogs) sending to the platform.',
        labelNames: ['platform'],
        registers,
        collect() {
          for (const l of links) this.set({ platform: l.id }, l.live?.count ?? 0);
        },
      });
      new Gauge({
        name: 'psvgw_gb28181_register_failures',
        help: 'Failed REGISTER attempts since the last success (wrong password, no answer, refusal).',
        labelNames: ['platform'],
        registers,
        collect() {
          for (const l of links) this.set({ platform: l.id }, l.snapshot().registerFailures);
        },
      });
    },
    async close() {
      for (const off of unfollow) off();
      await Promise.all(links.map((l) => l.close()));
      endpoint.close();
      await transport.close();
    },
  };
}
