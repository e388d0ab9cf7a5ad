import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentBoard, type IncidentChange } from '../../../src/health/incidents.js';
import { outageCause, refinedCause, watchCameraDown } from '../../../src/health/outageDetector.js';
import { causeOf, isOutageKind, OutageLedger } from '../../../src/health/outageLedger.js';
import { SqliteStore } from '../../../src/store/sqlite.js';

const quiet = pino({ level: 'silent' });

function clockAt(iso: string) {
  let now = Date.parse(iso);
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe('outage causes', () => {
  it('names each ffmpeg failure in the words of the ledger', () => {
    expect(outageCause('auth_failed')).toBe('credentials_refused');
    expect(outageCause('unreachable')).toBe('unreachable');
    expect(outageCause('stalled')).toBe('stream_stalled');
    expect(outageCause('stream_unplayable')).toBe('decode_error');
    expect(outageCause('exited')).toBe('connection_lost');
    expect(outageCause(null)).toBe('connection_lost');
  });

  it('lets a specific cause replace "connection lost", never the reverse', () => {
    expect(refinedCause('connection_lost', 'unreachable')).toBe('unreachable');
    expect(refinedCause('unreachable', 'connection_lost')).toBe('unreachable');
    expect(refinedCause('stream_stalled', 'unreachable')).toBe('stream_stalled');
  });

  it('treats camera_down and every image_* incident as an outage, with the raiser’s cause', () => {
    expect(isOutageKind('camera_down')).toBe(true);
    expect(isOutageKind('image_frozen')).toBe(true);
    expect(isOutageKind('shared_tier_dark')).toBe(false);
    expect(causeOf({ kind: 'image_black', details: {} })).toBe('image_black');
    expect(causeOf({ kind: 'camera_down', details: { cause: 'unreachable' } })).toBe('unreachable');
  });
});

describe('camera_down from ingest states', () => {
  it('fires when the ingest leaves live for backoff or stalled, refines the cause, resolves when live', () => {
    const board = new IncidentBoard(quiet);
    const changes: IncidentChange[] = [];
    board.onChange((c) => changes.push(c));
    const refined: string[] = [];
    const watch = watchCameraDown(board, { refineCause: (_id, _kind, cause) => refined.push(cause) });
    watch({ cameraId: 'c1', stream: 'push', to: 'backoff', cause: 'exited' });
    watch({ cameraId: 'c1', stream: 'ingest', to: 'starting', cause: null });
    expect(changes).toHaveLength(0);
    watch({ cameraId: 'c1', stream: 'ingest', to: 'backoff', cause: 'exited' });
    watch({ cameraId: 'c1', stream: 'ingest', to: 'starting', cause: null });
    watch({ cameraId: 'c1', stream: 'ingest', to: 'backoff', cause: 'unreachable' });
    expect(changes.map((c) => [c.state, c.incident.kind, c.incident.severity, c.incident.details])).toEqual([
      ['firing', 'camera_down', 'critical', { cause: 'connection_lost' }],
    ]);
    expect(refined).toEqual(['unreachable']);
    watch({ cameraId: 'c1', stream: 'ingest', to: 'live', cause: null });
    expect(changes.map((c) => c.state)).toEqual(['firing', 'resolved']);
    watch({ cameraId: 'c2', stream: 'ingest', to: 'stalled', cause: 'stalled' });
    expect(changes.at(-1)?.incident.details).toEqual({ cause: 'stream_stalled' });
  });
});

describe('OutageLedger', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  async function setUp(path = ':memory:') {
    const store = new SqliteStore(path);
    stores.push(store);
    await store.migrate();
    const t = clockAt('2026-11-01T10:00:00.000Z');
    const board = new IncidentBoard(quiet, t.clock);
    const ledger = new OutageLedger({ store, board, logger: quiet });
    await ledger.start();
    return { store, board, ledger, ...t };
  }

  it('writes each outage with start, end, cause and planned flag', async () => {
    const { store, board, ledger, advance } = await setUp();
    await store.maintenance.add({
      cameraId: 'c2',
      startsAt: '2026-11-01T09:00:00.000Z',
      endsAt: '2026-11-01T11:00:00.000Z',
      reason: 'switch',
      createdBy: 'admin',
      createdAt: '2026-10-01T00:00:00.000Z',
    });
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down', details: { cause: 'connection_lost' } });
    board.fire({ cameraId: 'c2', kind: 'image_black', severity: 'warning', message: 'black' });
    board.fire({ cameraId: 'c3', kind: 'shared_tier_dark', severity: 'critical', message: 'masking failed' });
    ledger.refineCause('c1', 'camera_down', 'unreachable');
    advance(90_000);
    board.resolve('c1', 'camera_down');
    await ledger.flush();
    const rows = await store.outages.list();
    expect(rows.map((r) => [r.cameraId, r.kind, r.cause, r.startedAt, r.endedAt, r.planned])).toEqual([
      ['c1', 'camera_down', 'unreachable', '2026-11-01T10:00:00.000Z', '2026-11-01T10:01:30.000Z', false],
      ['c2', 'image_black', 'image_black', '2026-11-01T10:00:00.000Z', null, true],
    ]);
  });

  it('takes back outages open at the last stop as active incidents, without notifying them again', async () => {
    const first = await setUp();
    first.board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down', details: { cause: 'unreachable' } });
    await first.ledger.close();

    const board = new IncidentBoard(quiet);
    const changes: IncidentChange[] = [];
    board.onChange((c) => changes.push(c));
    const ledger = new OutageLedger({ store: first.store, board, logger: quiet });
    await ledger.start();
    expect(board.isFiring('c1', 'camera_down')).toBe(true);
    expect(board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'again' })).toBe(false);
    expect(changes).toHaveLength(0);
    board.resolve('c1', 'camera_down');
    await ledger.flush();
    expect(changes.map((c) => [c.state, c.incident.since])).toEqual([['resolved', '2026-11-01T10:00:00.000Z']]);
    expect(await first.store.outages.openOnes()).toEqual([]);
  });

  it('writes platform link outages (platform_down:<name>) apart from camera outages, and takes back an open one after a restart', async () => {
    const first = await setUp();
    const down = (name: string, cause: string) =>
      first.board.fire({
        cameraId: null,
        kind: `platform_down:${name}`,
        severity: 'critical',
        message: `link to ${name} is down`,
        details: { platform: name, cause },
      });
    down('city', '3 keepalives unanswered');
    down('province', 'no answer to REGISTER from 127.0.0.1:5060');
    first.board.fire({ cameraId: null, kind: 'disk_full', severity: 'critical', message: 'full' });
    first.advance(60_000);
    first.board.resolve(null, 'platform_down:city');
    await first.ledger.close();
    const rows = await first.store.platformOutages.list();
    expect(rows.map((r) => [r.platform, r.kind, r.cause, r.startedAt, r.endedAt])).toEqual([
      ['city', 'platform_down:city', '3 keepalives unanswered', '2026-11-01T10:00:00.000Z', '2026-11-01T10:01:00.000Z'],
      ['province', 'platform_down:province', 'no answer to REGISTER from 127.0.0.1:5060', '2026-11-01T10:00:00.000Z', null],
    ]);
    expect(await first.store.outages.list()).toEqual([]);

    const board = new IncidentBoard(quiet);
    const ledger = new OutageLedger({ store: first.store, board, logger: quiet });
    await ledger.start();
    expect(board.isFiring(null, 'platform_down:province')).toBe(true);
    board.resolve(null, 'platform_down:province');
    await ledger.flush();
    expect(await first.store.platformOutages.openOnes()).toEqual([]);
  });
});
