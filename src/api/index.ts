export { createApiApp, type ApiDeps } from './server.js';
export { startApiServer, type ApiServer } from './httpServer.js';
export { Readiness, type ReadinessCondition, type ReadinessState } from './readiness.js';
export { gatewayApi, type GatewayApiParts, type GatewayApiSetup } from './gatewayApi.js';
export { permit, usePolicy, type PolicySetup } from './permit.js';
export { SegmentRelay, type RecordingNodes } from './recordingRelay.js';
