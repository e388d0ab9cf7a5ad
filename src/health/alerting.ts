import type { GatewayConfig } from '../config/index.js';
import { closeOnce } from '../lifecycle.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import type { IncidentBoard } from './incidents.js';
import { watchCameraDown, type IngestStateChange } from './outageDetector.js';
import { OutageLedger, type OutageWriteGuard, type PlatformOutageWriteGuard } from './outageLedger.js';
import { watchSharedTierDark } from './sharedTierDark.js';
import { WebhookNotifier, webhookTargets } from './webhook.js';

/** Incident kind: an alert was given up on after its receiver refused it too often. */
export const ALERT_DEAD_LETTER = 'alert_dead_letter';

export interface Alerting {
  ledger: OutageLedger;
  notifier: WebhookNotifier;
  /** Feed of the pipelines' state changes (ingest, masking, sub stream, pushes). */
  onStreamState: (change: IngestStateChange) => void;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * Wires the outage side of health: the ingest's states raise `camera_down`, the masking
 * transcode's and sub stream's raise `shared_tier_dark`, every camera outage incident goes to the ledger, every incident change to the webhooks' outbox;
 * an alert given up on raises `alert_dead_letter`.
 * Started before the cameras, so the first failures are seen.
 */
export async function startAlerting(deps: {
  config: GatewayConfig;
  store: Store;
  incidents: IncidentBoard;
  logger: Logger;
  /** Cluster mode: outage rows are written only under the camera's lease. */
  outageGuard?: OutageWriteGuard;
  /** Cluster mode: platform outage rows are written only under the link's lease. */
  platformOutageGuard?: PlatformOutageWriteGuard;
}): Promise<Alerting> {
  const { config, store, incidents, logger } = deps;
  const ledger = new OutageLedger({
    store,
    board: incidents,
    logger,
    ...(deps.outageGuard ? { guard: deps.outageGuard } : {}),
    ...(deps.platformOutageGuard ? { platformGuard: deps.platformOutageGuard } : {}),
  });
  await ledger.start();
  const targets = webhookTargets(config.alerts);
  const notifier = new WebhookNotifier({
    outbox: store.alertOutbox,
    targets,
    retry: config.alerts.retry,
    gateway: config.gateway.name,
    logger,
    maxRejections: config.alerts.maxRejections,
    retentionDays: config.alerts.outboxRetentionDays,
    onDeadLetter: (entry, failure) => {
      incidents.fire({
        cameraId: null,
        kind: ALERT_DEAD_LETTER,
        severity: 'warning',
        message: `a webhook receiver refused an alert ${config.alerts.maxRejections} times; it is kept as a dead letter (GET /api/v1/alerts/dead-letters)`,
        details: { target: entry.target, eventId: entry.eventId, status: failure.status },
      });
    },
    // Firing while dead letters are kept: they end with the outbox's retention.
    onPruned: (deadLetters) => {
      if (Object.keys(deadLetters).length === 0) incidents.resolve(null, ALERT_DEAD_LETTER);
    },
  });
  const unsubscribe = incidents.onChange((change) => notifier.notify(change));
  await notifier.start();
  logger.info({ webhooks: targets.map((t) => t.name) }, 'alerting ready');
  const cameraDown = watchCameraDown(incidents, ledger);
  const sharedTierDark = watchSharedTierDark(incidents);
  return {
    ledger,
    notifier,
    onStreamState: (change) => {
      cameraDown(change);
      sharedTierDark(change);
    },
    close: closeOnce(async () => {
      unsubscribe();
      await notifier.close();
      await ledger.close();
    }),
  };
}
