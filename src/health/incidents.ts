import type { Logger } from 'pino';
import { SafeEmitter } from '../events.js';

export type IncidentSeverity = 'warning' | 'critical';

/**
 * Something an operator must know about, raised by the component that sees it: a camera
 * that went dark, a masking transcode that failed closed, a full disk, a covered lens.
 * `kind` is a stable machine name (`camera_down`, `shared_tier_dark`, `disk_full`, ...).
 */
export interface IncidentReport {
  /** The camera concerned, or null for the gateway as a whole. */
  cameraId: string | null;
  kind: string;
  severity: IncidentSeverity;
  message: string;
  details?: Record<string, unknown>;
}

export interface Incident extends IncidentReport {
  /** `cameraId/kind`: one incident of a kind per camera at a time. */
  key: string;
  /** ISO time it started firing. */
  since: string;
}

export interface IncidentChange {
  state: 'firing' | 'resolved';
  incident: Incident;
  /** ISO time of this change (== incident.since when firing). */
  at: string;
}

export function incidentKey(cameraId: string | null, kind: string): string {
  return `${cameraId ?? 'gateway'}/${kind}`;
}

/**
 * The active incidents, deduplicated: firing what already fires and resolving what is not
 * firing are no-ops, so raisers can report their condition on every check without flooding
 * notifiers. Listeners (ledger, notifiers, metrics) see one `firing` and one `resolved` per
 * incident.
 */
export class IncidentBoard {
  readonly #active = new Map<string, Incident>();
  readonly #events: SafeEmitter<{ change: [IncidentChange] }>;

  constructor(
    logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.#events = new SafeEmitter(logger);
  }

  /** Listens to every firing and resolution; returns the unsubscribe function. */
  onChange(listener: (change: IncidentChange) => unknown): () => void {
    return this.#events.on('change', listener);
  }

  /** Raises an incident; true when it was not already firing. */
  fire(report: IncidentReport): boolean {
    const key = incidentKey(report.cameraId, report.kind);
    if (this.#active.has(key)) return false;
    const at = this.clock().toISOString();
    const incident: Incident = { ...report, key, since: at };
    this.#active.set(key, incident);
    this.#events.emit('change', { state: 'firing', incident, at });
    return true;
  }

  /**
   * Takes back an incident that was firing when the gateway last stopped (kept in the
   * outage ledger), without notifying again: its firing went out then, its resolution
   * will go out when it ends. False when one of that key is already active.
   */
  restore(incident: Incident): boolean {
    if (this.#active.has(incident.key)) return false;
    this.#active.set(incident.key, incident);
    return true;
  }

  /** Ends an incident; true when it was firing. */
  resolve(cameraId: string | null, kind: string): boolean {
    const key = incidentKey(cameraId, kind);
    const incident = this.#active.get(key);
    if (incident === undefined) return false;
    this.#active.delete(key);
    this.#events.emit('change', { state: 'resolved', incident, at: this.clock().toISOString() });
    return true;
  }

  /** Resolves every incident of a camera (it was removed or disabled). */
  resolveCamera(cameraId: string): number {
    const kinds = this.active({ cameraId }).map((i) => i.kind);
    for (const kind of kinds) this.resolve(cameraId, kind);
    return kinds.length;
  }

  isFiring(cameraId: string | null, kind: string): boolean {
    return this.#active.has(incidentKey(cameraId, kind));
  }

  active(filter: { cameraId?: string | null; kind?: string } = {}): Incident[] {
    return [...this.#active.values()].filter(
      (i) => (filter.cameraId === undefined || i.cameraId === filter.cameraId) && (filter.kind === undefined || i.kind === filter.kind),
    );
  }
}
