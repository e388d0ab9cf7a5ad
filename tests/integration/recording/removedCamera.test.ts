import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainLedger, ChainSigner, segmentRelPath, sha256File } from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/index.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { recordingList } from '../../helpers/recordings.js';

/** A camera ID that was recorded and then removed: its chain and file remain, its camera row does not. */
const REMOVED = '34020000001320000099';

/**
 * Footage of a removed camera stays evidence: an evidence hold may name it and its
 * recordings are listed, through the API of a real gateway on a real SQLite file.
 */
describe('footage of a removed camera', () => {
  let gw: GatewayProcess;
  const keyDir = mkdtempSync(join(tmpdir(), 'psvgw-removed-key-'));
  const endMs = Date.now() - 3_600_000;
  const startMs = endMs - 60_000;

  beforeAll(async () => {
    // A first run creates and migrates the database; the segment is then indexed as the recorder would.
    const first = await GatewayProcess.start();
    await first.stop();
    const data = join(first.dataDir, 'data');
    const path = segmentRelPath(REMOVED, startMs);
    const file = join(data, 'recordings', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'segment of a removed camera');
    const store = new SqliteStore(join(data, 'psvgw.db'));
    await store.migrate();
    const ledger = new ChainLedger(store, ChainSigner.loadOrCreate(keyDir), pino({ level: 'silent' }));
    await ledger.append(REMOVED, {
      kind: 'segment',
      path,
      startMs,
      endMs,
      bytes: 27,
      sha256: await sha256File(file),
      partial: false,
      detail: {},
    });
    expect(await store.cameras.get(REMOVED)).toBeUndefined();
    await store.close();
    gw = await GatewayProcess.start({ dataDir: first.dataDir });
  });

  afterAll(async () => {
    await stopAllGateways();
    rmSync(keyDir, { recursive: true, force: true });
  });

  it('can be held', async () => {
    const res = await gw.api<{ id: number; cameraIds: string[] }>('POST', '/api/v1/holds', {
      cameraIds: [REMOVED],
      from: startMs,
      to: endMs,
      reason: 'case 2026-118: footage of the dismantled camera',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.cameraIds).toEqual([REMOVED]);
  });

  it('is listed', async () => {
    const list = await recordingList(gw, REMOVED);
    expect(list.cameraId).toBe(REMOVED);
    expect(list.segments.map((s) => [s.start, s.end])).toEqual([[new Date(startMs).toISOString(), new Date(endMs).toISOString()]]);
  });

  it('still refuses a hold or a listing for an ID that was never recorded', async () => {
    const hold = await gw.api('POST', '/api/v1/holds', { cameraIds: ['34020000001320000098'], from: startMs, to: endMs, reason: 'typo' });
    expect(hold.status).toBe(404);
    const list = await gw.api('GET', '/api/v1/cameras/34020000001320000098/recordings');
    expect(list.status).toBe(404);
  });
});
