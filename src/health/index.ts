export { IncidentBoard, incidentKey, type Incident, type IncidentChange, type IncidentReport, type IncidentSeverity } from './incidents.js';
export { createMetricsRegistry, type MetricsSources } from './metrics.js';
