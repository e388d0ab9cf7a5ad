import type { Logger } from '../log.js';
import type { OutageRecord, OutageRepository, PlatformOutageRecord, PlatformOutageRepository, Store } from '../store/index.js';
import { incidentKey, type Incident, type IncidentBoard, type IncidentChange } from './incidents.js';
import { CAMERA_DOWN, refinedCause, type CauseSink, type OutageCause } from './outageDetector.js';

/** Incidents that mean a camera's video is lost or unusable: the camera is down, or its image failed a check. */
export function isOutageKind(kind: string): boolean {
  return kind === CAMERA_DOWN || kind.startsWith('image_');
}

/** The incident kind of an upper platform's link that is down (one per platform, no camera). */
export const platformDownKind = (platform: string): string => `platform_down:${platform}`;

/** The platform of a link-down incident kind, or undefined for other kinds. */
export function platformOfKind(kind: string): string | undefined {
  return kind.startsWith('platform_down:') ? kind.slice('platform_down:'.length) : undefined;
}

/** The ledger's cause of an incident: what its raiser said (`details.cause`), else the kind itself. */
export function causeOf(incident: Pick<Incident, 'kind' | 'details'>): string {
  const cause = incident.details?.cause;
  return typeof cause === 'string' && cause !== '' ? cause : incident.kind;
}

/**
 * Cluster mode: only the node holding a camera's lease writes its outage rows. `write`
 * runs the work in a transaction that checks the lease first (fencing) and resolves to
 * undefined, writing nothing, when the node no longer holds it.
 */
export interface OutageWriteGuard {
  mayWrite(cameraId: string): boolean;
  write<T>(cameraId: string, work: (outages: OutageRepository) => Promise<T>): Promise<T | undefined>;
}

/**
 * Cluster mode: only the node holding a platform link's lease writes its outage rows. `write`
 * runs the work in a transaction that checks the link lease first (fencing) and resolves to
 * undefined, writing nothing, when the node no longer holds it.
 */
export interface PlatformOutageWriteGuard {
  write<T>(platform: string, work: (outages: PlatformOutageRepository) => Promise<T>): Promise<T | undefined>;
}

/**
 * The outage ledger: every camera stop with its start, end, cause and whether it began
 * inside a declared maintenance window, written as the incidents fire and resolve; and every
 * loss of an upper platform's link (`platform_down:<name>`), in rows of their own. Writes
 * run one after another, so an outage is always opened before it is closed.
 */
export class OutageLedger implements CauseSink {
  readonly #open = new Map<string, OutageRecord>();
  readonly #openPlatform = new Map<string, PlatformOutageRecord>();
  #queue: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | null = null;

  constructor(
    private readonly deps: {
      store: Pick<Store, 'outages' | 'maintenance' | 'platformOutages'>;
      board: IncidentBoard;
      logger: Logger;
      isOutage?: (kind: string) => boolean;
      /** Cluster mode: the lease check of the camera rows (none: every camera is this gateway's). */
      guard?: OutageWriteGuard;
      /** Cluster mode: the link lease check of the platform rows (none: every link is this gateway's). */
      platformGuard?: PlatformOutageWriteGuard;
    },
  ) {}

  /** Writes a platform's outage row, fenced in cluster mode; undefined when refused. */
  #writePlatform<T>(platform: string, work: (outages: PlatformOutageRepository) => Promise<T>): Promise<T | undefined> {
    const { platformGuard, store } = this.deps;
    return platformGuard === undefined ? work(store.platformOutages) : platformGuard.write(platform, work);
  }

  /**
   * Cluster mode: a link this node has just taken over continues the outages its last holder
   * left open (a close refused by the fence leaves the row open): closed now when `isUp` (the
   * link is registered already), else kept as the link's down incident until it registers.
   */
  adoptPlatform(platform: string, isUp: () => boolean): void {
    this.#enqueue(async () => {
      const key = incidentKey(null, platformDownKind(platform));
      for (const outage of await this.deps.store.platformOutages.openOnes()) {
        if (outage.platform !== platform || this.#openPlatform.has(key)) continue;
        if (isUp()) await this.#writePlatform(platform, (o) => o.close(outage.id, new Date().toISOString()));
        else this.#restorePlatform(key, outage, 'since before this node took the link over');
      }
    });
  }

  #restorePlatform(key: string, outage: PlatformOutageRecord, since: string): void {
    this.#openPlatform.set(key, outage);
    this.deps.board.restore({
      key,
      cameraId: null,
      kind: outage.kind,
      severity: 'critical',
      message: `link to platform ${outage.platform} is down: ${outage.cause} (${since})`,
      details: { platform: outage.platform, cause: outage.cause, outageId: outage.id },
      since: outage.startedAt,
    });
  }

  /** Writes a camera's outage row, fenced in cluster mode; undefined when refused. */
  #write<T>(cameraId: string, work: (outages: OutageRepository) => Promise<T>): Promise<T | undefined> {
    const { guard, store } = this.deps;
    return guard === undefined ? work(store.outages) : guard.write(cameraId, work);
  }

  /**
   * Cluster mode: a camera this node has just taken over continues the outages its last
   * owner left open (they end when the camera is up here).
   */
  adopt(cameraId: string): void {
    this.#enqueue(async () => {
      for (const outage of await this.deps.store.outages.openOnes()) {
        if (outage.cameraId !== cameraId) continue;
        const key = incidentKey(outage.cameraId, outage.kind);
        if (this.#open.has(key)) continue;
        this.#restore(key, outage, 'since before this node took the camera over');
      }
    });
  }

  #restore(key: string, outage: OutageRecord, since: string): void {
    this.#open.set(key, outage);
    this.deps.board.restore({
      key,
      cameraId: outage.cameraId,
      kind: outage.kind,
      severity: outage.kind === CAMERA_DOWN ? 'critical' : 'warning',
      message: `camera ${outage.cameraId}: ${outage.cause.replace(/_/g, ' ')} (${since})`,
      details: { cause: outage.cause, outageId: outage.id },
      since: outage.startedAt,
    });
  }

  /**
   * Takes back the outages still open when the gateway last stopped as active incidents
   * (so that their end is noticed and notified), then follows the board.
   */
  async start(): Promise<void> {
    for (const outage of await this.deps.store.outages.openOnes()) {
      // Cluster mode: another node's camera's outages are its own.
      if (this.deps.guard?.mayWrite(outage.cameraId) === false) continue;
      this.#restore(incidentKey(outage.cameraId, outage.kind), outage, 'since before the gateway restarted');
    }
    // Cluster mode: a link's open outages are taken back by whichever node claims its lease (adoptPlatform).
    for (const outage of this.deps.platformGuard === undefined ? await this.deps.store.platformOutages.openOnes() : []) {
      this.#restorePlatform(incidentKey(null, outage.kind), outage, 'since before the gateway restarted');
    }
    const open = this.#open.size + this.#openPlatform.size;
    if (open > 0) this.deps.logger.info({ open }, 'outages still open from the previous run');
    this.#unsubscribe = this.deps.board.onChange((change) => this.#onChange(change));
  }

  refineCause(cameraId: string, kind: string, cause: OutageCause): void {
    this.#enqueue(async () => {
      const outage = this.#open.get(incidentKey(cameraId, kind));
      if (outage === undefined) return;
      const next = refinedCause(outage.cause, cause);
      if (next === outage.cause) return;
      outage.cause = next;
      await this.#write(cameraId, (o) => o.setCause(outage.id, next));
    });
  }

  /** Waits for every ledger write queued so far. */
  flush(): Promise<void> {
    return this.#queue;
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    await this.flush();
  }

  #onChange(change: IncidentChange): void {
    const { incident } = change;
    const platform = incident.cameraId === null ? platformOfKind(incident.kind) : undefined;
    if (platform !== undefined) return this.#onPlatformChange(change, platform);
    if (incident.cameraId === null || !(this.deps.isOutage ?? isOutageKind)(incident.kind)) return;
    const cameraId = incident.cameraId;
    if (change.state === 'firing') {
      this.#enqueue(async () => {
        const window = await this.deps.store.maintenance.covering(cameraId, change.at);
        const record: Omit<OutageRecord, 'id' | 'endedAt'> = {
          cameraId,
          kind: incident.kind,
          cause: causeOf(incident),
          startedAt: change.at,
          planned: window !== undefined,
          details: window === undefined ? {} : { maintenanceWindowId: window.id, maintenanceReason: window.reason },
        };
        const id = await this.#write(cameraId, (o) => o.open(record));
        if (id !== undefined) this.#open.set(incident.key, { ...record, id, endedAt: null });
      });
    } else {
      this.#enqueue(async () => {
        const outage = this.#open.get(incident.key);
        if (outage === undefined) return;
        this.#open.delete(incident.key);
        await this.#write(cameraId, (o) => o.close(outage.id, change.at));
      });
    }
  }

  #onPlatformChange(change: IncidentChange, platform: string): void {
    const { incident } = change;
    if (change.state === 'firing') {
      this.#enqueue(async () => {
        const record = { platform, kind: incident.kind, cause: causeOf(incident), startedAt: change.at, details: {} };
        const id = await this.#writePlatform(platform, (o) => o.open(record));
        if (id !== undefined) this.#openPlatform.set(incident.key, { ...record, id, endedAt: null });
      });
    } else {
      this.#enqueue(async () => {
        const outage = this.#openPlatform.get(incident.key);
        if (outage === undefined) return;
        this.#openPlatform.delete(incident.key);
        await this.#writePlatform(platform, (o) => o.close(outage.id, change.at));
      });
    }
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => this.deps.logger.error({ err }, 'could not write the outage ledger'));
  }
}
