import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { IncidentBoard, type IncidentChange } from '../../../src/health/incidents.js';

const quiet = pino({ level: 'silent' });

function board(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  const b = new IncidentBoard(quiet, () => new Date(now));
  const changes: IncidentChange[] = [];
  b.onChange((c) => changes.push(c));
  return { b, changes, advance: (ms: number) => (now += ms) };
}

const down = { cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'no frames' } as const;

describe('IncidentBoard', () => {
  it('emits one firing and one resolution per incident, however often it is reported', () => {
    const { b, changes, advance } = board();
    expect(b.fire(down)).toBe(true);
    expect(b.fire(down)).toBe(false);
    advance(1500);
    expect(b.resolve('c1', 'camera_down')).toBe(true);
    expect(b.resolve('c1', 'camera_down')).toBe(false);
    expect(changes.map((c) => [c.state, c.at])).toEqual([
      ['firing', '2026-01-01T00:00:00.000Z'],
      ['resolved', '2026-01-01T00:00:01.500Z'],
    ]);
    expect(changes[1]?.incident.since).toBe('2026-01-01T00:00:00.000Z');
  });

  it('keeps kinds and cameras apart and resolves all of a camera at once', () => {
    const { b, changes } = board();
    b.fire(down);
    b.fire({ ...down, kind: 'image_black', severity: 'warning' });
    b.fire({ ...down, cameraId: 'c2' });
    b.fire({ ...down, cameraId: null, kind: 'disk_full' });
    expect(
      b
        .active({ cameraId: 'c1' })
        .map((i) => i.kind)
        .sort(),
    ).toEqual(['camera_down', 'image_black']);
    expect(b.isFiring(null, 'disk_full')).toBe(true);
    expect(b.resolveCamera('c1')).toBe(2);
    expect(
      b
        .active()
        .map((i) => i.key)
        .sort(),
    ).toEqual(['c2/camera_down', 'gateway/disk_full']);
    expect(changes.filter((c) => c.state === 'resolved')).toHaveLength(2);
  });

  it('a failing listener does not stop the others', () => {
    const { b, changes } = board();
    b.onChange(() => {
      throw new Error('listener bug');
    });
    b.fire(down);
    expect(changes).toHaveLength(1);
  });
});
