import { Gauge, type Registry } from 'prom-client';
import type { Incident } from './incidents.js';

export interface AlertMetricsSources {
  incidents: () => Incident[];
  /** Alerts in the outbox not yet taken by their receiver. */
  pendingAlerts: () => Promise<number>;
  /** Dead letters kept, per target. */
  deadLetters?: () => Promise<Record<string, number>>;
  /** Alerts held in memory because the store refused to write them. */
  heldAlerts?: () => number;
}

/** Incident and alert-delivery metrics, added to the gateway's registry. */
export function registerAlertMetrics(registry: Registry, sources: AlertMetricsSources): void {
  const registers = [registry];
  new Gauge({
    name: 'psvgw_incidents_active',
    help: 'Incidents firing now, by camera (empty for the gateway as a whole), kind and severity.',
    labelNames: ['camera_id', 'kind', 'severity'],
    registers,
    collect() {
      this.reset();
      const counts = new Map<string, { labels: Record<string, string>; n: number }>();
      for (const i of sources.incidents()) {
        const labels = { camera_id: i.cameraId ?? '', kind: i.kind, severity: i.severity };
        const key = JSON.stringify(labels);
        const entry = counts.get(key) ?? { labels, n: 0 };
        entry.n += 1;
        counts.set(key, entry);
      }
      for (const { labels, n } of counts.values()) this.set(labels, n);
    },
  });
  new Gauge({
    name: 'psvgw_alerts_pending',
    help: 'Webhook alerts queued in the outbox and not yet taken by their receiver.',
    registers,
    async collect() {
      this.set(await sources.pendingAlerts());
    },
  });
  const { deadLetters, heldAlerts } = sources;
  if (deadLetters)
    new Gauge({
      name: 'psvgw_alerts_dead_letters',
      help: 'Webhook alerts given up on after their receiver refused them too often, kept in the outbox until pruned, by target.',
      labelNames: ['target'],
      registers,
      async collect() {
        this.reset();
        for (const [target, n] of Object.entries(await deadLetters())) this.set({ target }, n);
      },
    });
  if (heldAlerts)
    new Gauge({
      name: 'psvgw_alerts_held_in_memory',
      help: 'Webhook alerts held in memory because the store could not write them (a full disk); written and sent once it can.',
      registers,
      collect() {
        this.set(heldAlerts());
      },
    });
}
