export { IncidentBoard, incidentKey, type Incident, type IncidentChange, type IncidentReport, type IncidentSeverity } from './incidents.js';
export { createMetricsRegistry, type MetricsSources } from './metrics.js';
export { registerAlertMetrics, type AlertMetricsSources } from './alertMetrics.js';
export { CAMERA_DOWN, outageCause, watchCameraDown, type OutageCause } from './outageDetector.js';
export { SHARED_TIER_DARK, watchSharedTierDark } from './sharedTierDark.js';
export {
  OutageLedger,
  isOutageKind,
  causeOf,
  platformDownKind,
  type OutageWriteGuard,
  type PlatformOutageWriteGuard,
} from './outageLedger.js';
export { WebhookNotifier, webhookTargets, isRejection, alertBody, signAlert, type AlertBody, type WebhookTarget } from './webhook.js';
export { startAlerting, ALERT_DEAD_LETTER, type Alerting } from './alerting.js';
export { readNtpState } from './diagnostics/clock.js';
export { DESENSITIZE_DEGRADED, watchDesensitize } from './desensitizeDegraded.js';
