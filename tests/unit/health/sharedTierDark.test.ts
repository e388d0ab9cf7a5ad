import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { IncidentBoard, type IncidentChange } from '../../../src/health/incidents.js';
import { watchSharedTierDark } from '../../../src/health/sharedTierDark.js';

const quiet = pino({ level: 'silent' });

function setUp() {
  const board = new IncidentBoard(quiet);
  const changes: IncidentChange[] = [];
  board.onChange((c) => changes.push(c));
  return { board, changes, watch: watchSharedTierDark(board) };
}

describe('shared_tier_dark from the shared tier states', () => {
  it('fires critical when the masking transcode backs off and resolves when it is live again', () => {
    const { changes, watch } = setUp();
    watch({ cameraId: 'c1', stream: 'masking', to: 'starting', cause: null });
    expect(changes).toHaveLength(0);
    watch({ cameraId: 'c1', stream: 'masking', to: 'backoff', cause: 'exited' });
    watch({ cameraId: 'c1', stream: 'masking', to: 'starting', cause: null });
    watch({ cameraId: 'c1', stream: 'masking', to: 'backoff', cause: 'stalled' });
    expect(changes.map((c) => [c.state, c.incident.cameraId, c.incident.kind, c.incident.severity])).toEqual([
      ['firing', 'c1', 'shared_tier_dark', 'critical'],
    ]);
    expect(changes[0]?.incident.message).toBe('masking failed (exited): the shared tier is dark until it recovers');
    watch({ cameraId: 'c1', stream: 'masking', to: 'live', cause: null });
    expect(changes.map((c) => c.state)).toEqual(['firing', 'resolved']);
  });

  it('names the sub stream when its relay fails, and an unknown cause as such', () => {
    const { changes, watch } = setUp();
    watch({ cameraId: 'c2', stream: 'shared', to: 'backoff', cause: null });
    expect(changes[0]?.incident.message).toBe('the sub stream failed (unknown cause): the shared tier is dark until it recovers');
  });

  it('leaves the ingest and the pushes to others', () => {
    const { changes, watch } = setUp();
    watch({ cameraId: 'c1', stream: 'ingest', to: 'backoff', cause: 'unreachable' });
    watch({ cameraId: 'c1', stream: 'rtmp://platform/live', to: 'backoff', cause: 'exited' });
    watch({ cameraId: 'c1', stream: 'ingest', to: 'live', cause: null });
    expect(changes).toHaveLength(0);
  });

  it('a stalled transcode is not dark yet: it fires only once it backs off', () => {
    const { changes, watch } = setUp();
    watch({ cameraId: 'c1', stream: 'masking', to: 'stalled', cause: 'stalled' });
    expect(changes).toHaveLength(0);
  });
});
