import type { FailureCause, StreamState } from '../pipeline/index.js';
import type { IncidentBoard } from './incidents.js';

export const CAMERA_DOWN = 'camera_down';

/** Why a camera is down, in the words of the outage ledger and the reports. */
export type OutageCause =
  'unreachable' | 'credentials_refused' | 'stream_stalled' | 'decode_error' | 'stream_not_found' | 'connection_lost' | 'gateway_error';

const CAUSES: Record<FailureCause, OutageCause> = {
  unreachable: 'unreachable',
  auth_failed: 'credentials_refused',
  stalled: 'stream_stalled',
  // No first frame: the camera answers but sends nothing usable.
  start_timeout: 'stream_stalled',
  stream_unplayable: 'decode_error',
  not_found: 'stream_not_found',
  // ffmpeg ended without saying why: the camera closed the connection.
  exited: 'connection_lost',
  spawn_failed: 'gateway_error',
};

export function outageCause(cause: FailureCause | null): OutageCause {
  return cause === null ? 'connection_lost' : CAUSES[cause];
}

/**
 * The first failure of a camera that died says only that the connection was lost; the
 * retries that follow tell more (refused, unreachable). A specific cause replaces the
 * generic one, never the other way round.
 */
export function refinedCause(current: string, next: OutageCause): string {
  return current === 'connection_lost' && next !== 'connection_lost' ? next : current;
}

export interface IngestStateChange {
  cameraId: string;
  stream: string;
  to: StreamState;
  cause: FailureCause | null;
}

export interface CauseSink {
  /** A later failure of an outage already open told more about why. */
  refineCause(cameraId: string, kind: string, cause: OutageCause): void;
}

/**
 * Turns the ingest's state changes into the `camera_down` incident: firing as soon as the
 * ingest leaves `live` for `stalled` or `backoff` (a dead connection is seen at once, a
 * frozen one after `ingest.stallSeconds`), resolved when it is live again.
 */
export function watchCameraDown(board: IncidentBoard, causes: CauseSink): (change: IngestStateChange) => void {
  return (change) => {
    if (change.stream !== 'ingest') return;
    if (change.to === 'live') {
      board.resolve(change.cameraId, CAMERA_DOWN);
      return;
    }
    if (change.to !== 'stalled' && change.to !== 'backoff') return;
    const cause = outageCause(change.cause);
    const fired = board.fire({
      cameraId: change.cameraId,
      kind: CAMERA_DOWN,
      severity: 'critical',
      message: `camera ${change.cameraId} is down: ${cause.replace(/_/g, ' ')}`,
      details: { cause },
    });
    if (!fired) causes.refineCause(change.cameraId, CAMERA_DOWN, cause);
  };
}
