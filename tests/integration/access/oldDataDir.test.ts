import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CameraRecord, ChainEntry } from '../../../src/domain/index.js';
import { ChainSigner, nextEntry, segmentRelPath, sha256File } from '../../../src/recording/index.js';
import { MIGRATIONS, SqliteStore } from '../../../src/store/index.js';
import { CAMERA_COLUMNS, cameraToRow } from '../../../src/store/sqlRepositories.js';
import { cameraRecord } from '../../helpers/cameraRecords.js';
import { runCli } from '../../helpers/cli.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';

/** The admin token of a gateway from before users existed: only its SHA-256 was stored, as the setting admin_token_sha256. */
const OLD_TOKEN = 'old-admin-token-from-an-earlier-release-42';
const CAMERA = '44030500001320000007';
/** The schema as it was before users, sessions and API keys (migration 10). */
const OLD_MIGRATIONS = MIGRATIONS.filter((m) => m.version <= 9);

/** Writes the camera row with only the columns the version-9 table has (later migrations add more). */
function insertWithOldColumns(dbPath: string, camera: CameraRecord): void {
  const db = new Database(dbPath);
  try {
    const present = new Set(
      db
        .prepare('PRAGMA table_info(cameras)')
        .all()
        .map((c) => (c as { name: string }).name),
    );
    const values = cameraToRow(camera);
    const kept = CAMERA_COLUMNS.map((name, i) => [name, values[i]] as const).filter(([name]) => present.has(name));
    db.prepare(`INSERT INTO cameras (${kept.map(([n]) => n).join(', ')}) VALUES (${kept.map(() => '?').join(', ')})`).run(
      ...kept.map(([, v]) => v),
    );
  } finally {
    db.close();
  }
}

function oldCamera(at: string): CameraRecord {
  return cameraRecord(CAMERA, {
    name: 'North gate (recorded before the upgrade)',
    // Nothing listens there: the camera stays registered, its pipeline just retries.
    rtspUrl: 'rtsp://127.0.0.1:9/Streaming/Channels/101',
    siteType: 'road',
    createdAt: at,
    updatedAt: at,
  });
}

/** Writes a chain entry with the columns the version-9 table has (migration 27 adds the writer's node and key). */
function insertOldEntry(dbPath: string, e: ChainEntry): void {
  const db = new Database(dbPath);
  try {
    db.prepare(
      'INSERT INTO recording_entries (camera_id, seq, kind, path, start_ms, end_ms, bytes, sha256, partial, detail, prev_hash, entry_hash, at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(e.cameraId, e.seq, e.kind, e.path, e.startMs, e.endMs, e.bytes, e.sha256, 0, '{}', e.prevHash, e.entryHash, e.at, null);
  } finally {
    db.close();
  }
}

/**
 * A data directory written by the gateway as it was before users and roles: schema at
 * version 9, the admin token's digest in the settings, a camera and one recorded,
 * chained segment. The gateway of this build starts on it, keeps all of it, and the old
 * admin token is the bootstrap admin's key.
 */
describe('a data directory from before users and roles', () => {
  let gw: GatewayProcess;
  let oldFingerprint: string;
  const endMs = Date.now() - 3_600_000;
  const startMs = endMs - 60_000;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'psvgw-olddata-'));
    const data = join(root, 'data');
    mkdirSync(data, { recursive: true, mode: 0o700 });
    chmodSync(data, 0o700);
    const store = new SqliteStore(join(data, 'psvgw.db'), { migrations: OLD_MIGRATIONS });
    await store.migrate();
    await store.settings.set('admin_token_sha256', createHash('sha256').update(OLD_TOKEN).digest('hex'));
    // A second connection beside the store's (WAL): the repository would write today's columns.
    insertWithOldColumns(join(data, 'psvgw.db'), oldCamera(new Date(startMs).toISOString()));
    const path = segmentRelPath(CAMERA, startMs);
    const file = join(data, 'recordings', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'one minute of footage from before the upgrade');
    // Chained and signed as the gateway of then did, with the columns the version-9 table has (no node, no key).
    const signer = ChainSigner.loadOrCreate(data);
    const entry = nextEntry(
      undefined,
      { cameraId: CAMERA, kind: 'segment', path, startMs, endMs, bytes: 46, sha256: await sha256File(file), partial: false, detail: {} },
      new Date(endMs).toISOString(),
    );
    insertOldEntry(join(data, 'psvgw.db'), entry);
    oldFingerprint = signer.fingerprint;
    await store.close();
    // The old token is not given to the new gateway: only the stored digest knows it.
    gw = await GatewayProcess.start({ dataDir: root, env: { PSVGW_ADMIN_TOKEN: '' } });
  });

  afterAll(stopAllGateways);

  it('the old admin token works as the bootstrap admin', async () => {
    const me = await gw.api<Record<string, unknown>>('GET', '/api/v1/auth/me', undefined, OLD_TOKEN);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'admin', roles: ['admin'], kind: 'apiKey' });
    expect((await gw.api('GET', '/api/v1/auth/me', undefined, 'not-the-old-token')).status).toBe(401);
  });

  it('keeps its cameras', async () => {
    const page = await gw.api<{ items: Array<{ id: string; name: string }>; total: number }>(
      'GET',
      '/api/v1/cameras',
      undefined,
      OLD_TOKEN,
    );
    expect(page.status).toBe(200);
    expect(page.body.items.map((c) => [c.id, c.name])).toEqual([[CAMERA, 'North gate (recorded before the upgrade)']]);
  });

  it('keeps its recordings', async () => {
    const res = await gw.api<{ segments: Array<{ start: string; end: string; bytes: number }> }>(
      'GET',
      `/api/v1/cameras/${CAMERA}/recordings?from=${startMs - 1000}&to=${endMs + 1000}`,
      undefined,
      OLD_TOKEN,
    );
    expect(res.status).toBe(200);
    expect(res.body.segments.map((s) => [s.start, s.end, s.bytes])).toEqual([
      [new Date(startMs).toISOString(), new Date(endMs).toISOString(), 46],
    ]);
  });

  it('a user created now logs in beside it', async () => {
    const created = await gw.api(
      'POST',
      '/api/v1/users',
      { username: 'li.wei', password: 'a long enough passphrase', roles: ['police'] },
      OLD_TOKEN,
    );
    expect(created.status).toBe(201);
    const login = await gw.api<{ token: string }>(
      'POST',
      '/api/v1/auth/login',
      { username: 'li.wei', password: 'a long enough passphrase' },
      null,
    );
    expect(login.status).toBe(200);
    expect((await gw.api('GET', '/api/v1/auth/me', undefined, login.body.token)).status).toBe(200);
  });

  it("its key is registered as this node's, and its recording (an entry naming no node) verifies with it", async () => {
    expect(await gw.stop()).toBe(0);
    const env = { PSVGW_DATA_DIR: join(gw.dataDir, 'data') };
    const keys = await runCli(['keys', 'list', '--json'], { env });
    expect(keys.status).toBe(0);
    const items = (JSON.parse(keys.stdout) as { items: Array<{ fingerprint: string; retiredAt: string | null }> }).items;
    expect(items.map((k) => [k.fingerprint, k.retiredAt])).toEqual([[oldFingerprint, null]]);
    const verify = await runCli(['verify', '--json'], { env });
    const report = JSON.parse(verify.stdout) as { findings: unknown[]; segments: number; keys: { dataDir: string[] } };
    expect(report.findings).toEqual([]);
    expect(report.segments).toBe(1);
    expect(report.keys.dataDir).toEqual([oldFingerprint]);
    expect(verify.status).toBe(0);
  });
});
