export { PipelineManager, type PipelineEvents } from './pipelineManager.js';
export { OriginalVideoTaps } from './originalVideoTaps.js';
export { TIERS, type LiveFeed, type Tier, type TierEndpoints, type Prober } from './tiers.js';
export {
  type CameraSource,
  type DesensitizeChange,
  type PipelineSettings,
  type PipelineSnapshot,
  type PipelineStateChange,
} from './cameraPipeline.js';
export {
  LiveMaskWriter,
  maskGrid,
  rasterizeRegions,
  liveDelayMs,
  type DesensitizerFactory,
  type DesensitizerStart,
  type LiveHealth,
  type LiveRegion,
  type LiveRegionSnapshot,
  type LiveRegionSource,
} from './liveMask.js';
export type { PushSnapshot, UpstreamContext, UpstreamFactory, UpstreamLinks } from './upstream.js';
export { STREAM_STATES, StreamSupervisor, type StreamState, type StreamSnapshot, type SupervisorOptions } from './supervisor.js';
export { buildIngestArgs, h264EncoderArgs, supervisedArgs } from './ingestArgs.js';
export { greyFrameArgs, type GreyFrameSize } from './greyFrameArgs.js';
export { probeStream, type ProbeOptions } from './probe.js';
export { RecentProbes } from './probeCache.js';
export type { StreamInfo } from './streamInfo.js';
export { reapOrphans, instanceIdOf, instanceMarker } from './orphans.js';
export { chooseH264Encoder, readFfmpegCapabilities, type FfmpegCapabilities } from './ffmpegCapabilities.js';
export type { FailureCause } from './failure.js';
export type { SharedTierSpec, SharedTierSnapshot } from './sharedTier.js';
export { buildMaskingArgs, type SharedEncoderSettings } from './maskingArgs.js';
export { grabJpeg, dark as streamDark } from './snapshot.js';
export type { RecordingOutput } from './ingestArgs.js';
export { FfmpegProcess } from './ffmpegProcess.js';
export { cameraProbes, detectFfmpeg, pipelineSettings, type CameraProbes, type FfmpegSetup } from './setup.js';
export { ProgressParser, type ProgressSample } from './progress.js';
export { STALL_LEARN_MS } from './stallJudge.js';
