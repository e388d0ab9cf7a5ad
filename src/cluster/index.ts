export {
  ClusterNode,
  DEFAULT_TIMINGS,
  type ClusterNodeDeps,
  type CameraPlace,
  type BeatTask,
  type ClusterTimings,
  type LeaseHandlers,
  type NodeView,
} from './clusterNode.js';
export { nodeNameOf } from './identity.js';
export { cameraCost, placeCameras, rendezvousScore, type PlacementCamera, type PlacementInput, type PlacementNode } from './placement.js';
export { LinkFencedError, LinkLeases, type LinkLeaseHandlers } from './linkLease.js';
