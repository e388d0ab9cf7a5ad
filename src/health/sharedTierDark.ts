import type { IncidentBoard } from './incidents.js';
import type { IngestStateChange } from './outageDetector.js';

export const SHARED_TIER_DARK = 'shared_tier_dark';

/**
 * Turns the shared tier's state changes into the `shared_tier_dark` incident: a failed
 * masking transcode or sub-stream relay leaves the shared tier dark (fail closed, nothing
 * falls back to raw), critical until that stream is live again.
 */
export function watchSharedTierDark(board: Pick<IncidentBoard, 'fire' | 'resolve'>): (change: IngestStateChange) => void {
  return (change) => {
    if (change.stream !== 'masking' && change.stream !== 'shared') return;
    const what = change.stream === 'masking' ? 'masking' : 'the sub stream';
    if (change.to === 'backoff')
      board.fire({
        cameraId: change.cameraId,
        kind: SHARED_TIER_DARK,
        severity: 'critical',
        message: `${what} failed (${change.cause ?? 'unknown cause'}): the shared tier is dark until it recovers`,
      });
    else if (change.to === 'live') board.resolve(change.cameraId, SHARED_TIER_DARK);
  };
}
