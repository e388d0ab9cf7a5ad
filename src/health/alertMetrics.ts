import { Gauge, type Registry } from 'prom-client';
import type { Incident } from './incidents.js';

export interface AlertMetricsSources {
  incidents: () => Incident[];
  /** Alerts in the outbox not yet taken by their receiver. */
  pendingAlerts: () => Promise<number>;
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
}
