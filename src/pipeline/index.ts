export { PipelineManager, type PipelineEvents } from './pipelineManager.js';
export {
  TIERS,
  type Tier,
  type TierEndpoints,
  type CameraSource,
  type PipelineSettings,
  type PipelineSnapshot,
  type PipelineStateChange,
  type PushSnapshot,
} from './cameraPipeline.js';
export { STREAM_STATES, StreamSupervisor, type StreamState, type StreamSnapshot, type SupervisorOptions } from './supervisor.js';
export { supervisedArgs } from './ingestArgs.js';
export { probeStream, type ProbeOptions } from './probe.js';
export { RecentProbes } from './probeCache.js';
export type { StreamInfo } from './streamInfo.js';
export { reapOrphans, instanceIdOf, instanceMarker } from './orphans.js';
export { chooseH264Encoder, readFfmpegCapabilities, type FfmpegCapabilities } from './ffmpegCapabilities.js';
export type { FailureCause } from './failure.js';
export type { SharedTierSpec, SharedTierSnapshot } from './sharedTier.js';
export type { SharedEncoderSettings } from './maskingArgs.js';
export { grabJpeg, dark as streamDark } from './snapshot.js';
export type { RecordingOutput } from './ingestArgs.js';
export { FfmpegProcess } from './ffmpegProcess.js';
export { cameraProbes, detectFfmpeg, pipelineSettings, type CameraProbes, type FfmpegSetup } from './setup.js';
