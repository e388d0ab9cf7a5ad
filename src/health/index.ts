export { createMetricsRegistry, type MetricsSources } from './metrics.js';
