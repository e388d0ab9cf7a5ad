/**
 * Upstream links to the sharing platform: RTMP/RTSP push today (GB/T 28181 later). The
 * pipeline drives a camera's links through the UpstreamFactory seam
 * (src/pipeline/upstream.ts); this module depends on the pipeline, never the reverse.
 */
import type { UpstreamFactory } from '../pipeline/index.js';
import { PushRelays } from './pushRelays.js';

export { buildPushArgs, pushTargetLabel } from './pushArgs.js';
export { PushRelays } from './pushRelays.js';

/** The camera's upstream links: a push relay per configured target. Pass as PipelineSettings.upstream. */
export const platformUpstream: UpstreamFactory = (ctx) => new PushRelays(ctx);
export { startGb28181, type Gb28181Service, type PlatformStatus } from './gb28181/index.js';
export { recordedFootage } from './gb28181/index.js';
export { ManagedPlatforms, type PendingPlatformStatus } from './gb28181/managedPlatforms.js';
// The GB/T 28181 live media path, for the benchmark.
export { AnnexBSplitter, ParameterSetCache } from './gb28181/media/annexb.js';
export { LiveSender } from './gb28181/media/liveSender.js';
export { PsMuxer } from './gb28181/media/psMuxer.js';
export { frameRfc4571, parseRtpPacket, RtpPacketizer } from './gb28181/media/rtp.js';
