import type { DesensitizeChange } from '../pipeline/index.js';
import type { IncidentBoard } from './incidents.js';

export const DESENSITIZE_DEGRADED = 'desensitize_degraded';

/**
 * Turns a desensitized camera's live mask into the `desensitize_degraded` incident: while
 * the detector cannot vouch for the picture (dead, lagging, silent) the shared tier hides
 * the whole frame (dark or blurred), which the sharing platform sees as a useless picture.
 * Resolved when detections show again, or when desensitization is turned off.
 */
export function watchDesensitize(board: Pick<IncidentBoard, 'fire' | 'resolve'>): (change: DesensitizeChange) => void {
  return (change) => {
    if (change.up === false)
      board.fire({
        cameraId: change.cameraId,
        kind: DESENSITIZE_DEGRADED,
        severity: 'warning',
        message: `desensitization cannot vouch for the picture (${change.reason ?? 'unknown cause'}): the shared tier hides the whole frame until it recovers`,
        details: { reason: change.reason },
      });
    else board.resolve(change.cameraId, DESENSITIZE_DEGRADED);
  };
}
