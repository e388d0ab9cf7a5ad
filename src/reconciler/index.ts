export { cameraSources } from './sources.js';
export {
  CameraReconciler,
  ownsEveryCamera,
  startReconciler,
  type CameraChanges,
  type CameraDiagnostics,
  type CameraIncidents,
  type OwnerRule,
  type PipelineControl,
  type ReconcilerDeps,
} from './reconciler.js';
