export { Diagnostics, type CameraDiagnostics, type DiagnosticsDeps, type DiagnosticsSettings } from './diagnostics.js';
export { ClockWatch, NtpWatch, clockDriftSeconds, driftExceeds, readNtpState, type NtpState, type ClockReading } from './clock.js';
export { registerDiagnosticsMetrics, type DiagnosticsMetricsSources } from './metrics.js';
export { diagnosticsRoutes, type DiagnosticsRoutesDeps } from './routes.js';
export { IMAGE_CHECKS, DEFAULT_THRESHOLDS, type ImageCheck, type ImageThresholds } from './checks.js';
export { startDiagnostics, type DiagnosticsParts } from './setup.js';
