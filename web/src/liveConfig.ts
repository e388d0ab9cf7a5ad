import type mpegts from 'mpegts.js';

/**
 * mpegts.js settings of a live tile. liveSync keeps latency low by playing slightly faster
 * (up to 1.2×) when more than 1.2 s is buffered, back down to 0.6 s, instead of jumping
 * ahead (liveBufferLatencyChasing), which drops frames visibly. No stash buffer and no
 * worker: the picture is handed on as it arrives; no lazy load: a live tile keeps reading.
 */
export const LIVE_PLAYER_CONFIG: mpegts.Config = {
  enableWorker: false,
  enableStashBuffer: false,
  lazyLoad: false,
  liveBufferLatencyChasing: false,
  liveSync: true,
  liveSyncMaxLatency: 1.2,
  liveSyncTargetLatency: 0.6,
  liveSyncPlaybackRate: 1.2,
  autoCleanupSourceBuffer: true,
};
