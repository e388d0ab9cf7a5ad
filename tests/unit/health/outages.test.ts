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

describe('outage ledger in cluster mode (a guard on the camera rows)', () => {
  it("writes only the owned cameras' rows; a refused close leaves the outage open for the next owner, who adopts it", async () => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    const owned = new Set(['c1']);
    const guard = {
      mayWrite: (id: string) => owned.has(id),
      write: async <T>(id: string, work: (o: typeof store.outages) => Promise<T>) => (owned.has(id) ? work(store.outages) : undefined),
    };
    const board = new IncidentBoard(quiet);
    const ledger = new OutageLedger({ store, board, logger: quiet, guard });
    await ledger.start();
    board.fire({ cameraId: 'c1', kind: 'camera_down', severity: 'critical', message: 'down' });
    board.fire({ cameraId: 'c2', kind: 'camera_down', severity: 'critical', message: 'not ours' });
    await ledger.flush();
    expect((await store.outages.openOnes()).map((o) => o.cameraId)).toEqual(['c1']);

    // The lease moves on: the close here is refused, the row stays open.
    owned.delete('c1');
    board.resolve('c1', 'camera_down');
    await ledger.flush();
    expect((await store.outages.openOnes()).map((o) => o.cameraId)).toEqual(['c1']);

    // The next owner (another node: its own board and ledger) adopts it and closes it when the camera is up.
    const nextBoard = new IncidentBoard(quiet);
    const next = new OutageLedger({
      store,
      board: nextBoard,
      logger: quiet,
      guard: { ...guard, mayWrite: () => true, write: (_id, work) => work(store.outages) },
    });
    await next.start();
    // A node that does not own c1, starting now, leaves its outage alone.
    const otherBoard = new IncidentBoard(quiet);
    await new OutageLedger({ store, board: otherBoard, logger: quiet, guard }).start();
    expect(otherBoard.isFiring('c1', 'camera_down')).toBe(false);
    expect(nextBoard.isFiring('c1', 'camera_down')).toBe(true);
    nextBoard.resolve('c1', 'camera_down');
    await next.flush();
    expect(await store.outages.openOnes()).toEqual([]);
    await store.close();
  });

  it('adopt: a camera taken over continues the outage its last owner left open', async () => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    const id = await store.outages.open({
      cameraId: 'c9',
      kind: 'camera_down',
      cause: 'unreachable',
      startedAt: '2026-11-01T10:00:00.000Z',
      planned: false,
      details: {},
    });
    const owned = new Set<string>();
    const guard = {
      mayWrite: (cameraId: string) => owned.has(cameraId),
      write: async <T>(cameraId: string, work: (o: typeof store.outages) => Promise<T>) =>
        owned.has(cameraId) ? work(store.outages) : undefined,
    };
    const board = new IncidentBoard(quiet);
    const ledger = new OutageLedger({ store, board, logger: quiet, guard });
    await ledger.start();
    expect(board.isFiring('c9', 'camera_down')).toBe(false);
    owned.add('c9');
    ledger.adopt('c9');
    await ledger.flush();
    expect(board.isFiring('c9', 'camera_down')).toBe(true);
    board.resolve('c9', 'camera_down');
    await ledger.flush();
    expect((await store.outages.list()).find((o) => o.id === id)?.endedAt).not.toBeNull();
    await store.close();
  });
});

describe('outage ledger in cluster mode (a guard on the platform rows)', () => {
  const down = (platform: string) =>
    ({ cameraId: null, kind: `platform_down:${platform}`, severity: 'critical', message: 'down', details: { cause: 'x' } }) as const;

  it("writes a link's rows only under its lease; a refused close leaves the row open for the next holder, who adopts it", async () => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    const held = new Set(['city']);
    const guard = {
      write: async <T>(p: string, work: (o: typeof store.platformOutages) => Promise<T>) =>
        held.has(p) ? work(store.platformOutages) : undefined,
    };
    const board = new IncidentBoard(quiet);
    const ledger = new OutageLedger({ store, board, logger: quiet, platformGuard: guard });
    await ledger.start();
    board.fire(down('city'));
    board.fire(down('county')); // not held here: refused, nothing written
    await ledger.flush();
    expect((await store.platformOutages.openOnes()).map((o) => o.platform)).toEqual(['city']);

    // The lease moves on: the close here is refused, the row stays open.
    held.delete('city');
    board.resolve(null, 'platform_down:city');
    await ledger.flush();
    expect((await store.platformOutages.openOnes()).map((o) => o.platform)).toEqual(['city']);

    // A node starting in cluster mode takes back no platform outage by itself: the link's next holder does.
    const nextBoard = new IncidentBoard(quiet);
    const next = new OutageLedger({
      store,
      board: nextBoard,
      logger: quiet,
      platformGuard: { write: (_p, work) => work(store.platformOutages) },
    });
    await next.start();
    expect(nextBoard.isFiring(null, 'platform_down:city')).toBe(false);
    // Claimed while the link is not registered yet: the outage goes on as its incident, closed once it registers.
    next.adoptPlatform('city', () => false);
    await next.flush();
    expect(nextBoard.isFiring(null, 'platform_down:city')).toBe(true);
    nextBoard.resolve(null, 'platform_down:city');
    await next.flush();
    expect(await store.platformOutages.openOnes()).toEqual([]);
    await store.close();
  });

  it('adoptPlatform closes at once an outage of a link that is registered already', async () => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    await store.platformOutages.open({
      platform: 'city',
      kind: 'platform_down:city',
      cause: 'x',
      startedAt: '2026-11-01T10:00:00.000Z',
      details: {},
    });
    const board = new IncidentBoard(quiet);
    const ledger = new OutageLedger({ store, board, logger: quiet, platformGuard: { write: (_p, work) => work(store.platformOutages) } });
    await ledger.start();
    ledger.adoptPlatform('city', () => true);
    await ledger.flush();
    expect(board.isFiring(null, 'platform_down:city')).toBe(false);
    expect(await store.platformOutages.openOnes()).toEqual([]);
    await store.close();
  });
});
