import type { Logger } from '../log.js';
import type { OutageRecord, PlatformOutageRecord, Store } from '../store/index.js';
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
    },
  ) {}

  /**
   * Takes back the outages still open when the gateway last stopped as active incidents
   * (so that their end is noticed and notified), then follows the board.
   */
  async start(): Promise<void> {
    for (const outage of await this.deps.store.outages.openOnes()) {
      const key = incidentKey(outage.cameraId, outage.kind);
      this.#open.set(key, outage);
      this.deps.board.restore({
        key,
        cameraId: outage.cameraId,
        kind: outage.kind,
        severity: outage.kind === CAMERA_DOWN ? 'critical' : 'warning',
        message: `camera ${outage.cameraId}: ${outage.cause.replace(/_/g, ' ')} (since before the gateway restarted)`,
        details: { cause: outage.cause, outageId: outage.id },
        since: outage.startedAt,
      });
    }
    for (const outage of await this.deps.store.platformOutages.openOnes()) {
      const key = incidentKey(null, outage.kind);
      this.#openPlatform.set(key, outage);
      this.deps.board.restore({
        key,
        cameraId: null,
        kind: outage.kind,
        severity: 'critical',
        message: `link to platform ${outage.platform} is down: ${outage.cause} (since before the gateway restarted)`,
        details: { platform: outage.platform, cause: outage.cause, outageId: outage.id },
        since: outage.startedAt,
      });
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
      await this.deps.store.outages.setCause(outage.id, next);
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
        const id = await this.deps.store.outages.open(record);
        this.#open.set(incident.key, { ...record, id, endedAt: null });
      });
    } else {
      this.#enqueue(async () => {
        const outage = this.#open.get(incident.key);
        if (outage === undefined) return;
        this.#open.delete(incident.key);
        await this.deps.store.outages.close(outage.id, change.at);
      });
    }
  }

  #onPlatformChange(change: IncidentChange, platform: string): void {
    const { incident } = change;
    if (change.state === 'firing') {
      this.#enqueue(async () => {
        const record = { platform, kind: incident.kind, cause: causeOf(incident), startedAt: change.at, details: {} };
        const id = await this.deps.store.platformOutages.open(record);
        this.#openPlatform.set(incident.key, { ...record, id, endedAt: null });
      });
    } else {
      this.#enqueue(async () => {
        const outage = this.#openPlatform.get(incident.key);
        if (outage === undefined) return;
        this.#openPlatform.delete(incident.key);
        await this.deps.store.platformOutages.close(outage.id, change.at);
      });
    }
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => this.deps.logger.error({ err }, 'could not write the outage ledger'));
  }
}
