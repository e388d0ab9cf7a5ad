import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../../../src/config/index.js';
import { ChainLedger, ChainSigner, DAY_MS, segmentRelPath } from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/index.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const CAMERA_ID = '44030500001320000001';
/** What the recorder writes into a segment's entry under the strict profile (see tests/unit/recording/segmentTimes.test.ts). */
const STRICT = { days: 30, profile: 'strict', rule: 'profile', article: PROFILES.strict.retentionDays.source };

interface Seeded {
  path: string;
  daysAgo: number;
}

/** Segments indexed through the chain ledger into the store and recordings directory the gateway will open, as strict footage. */
async function seed(dataDir: string, daysAgo: number[]): Promise<Seeded[]> {
  const store = new SqliteStore(join(dataDir, 'psvgw.db'));
  await store.migrate();
  const ledger = new ChainLedger(store, ChainSigner.loadOrCreate(dataDir), pino({ level: 'silent' }));
  const seeded: Seeded[] = [];
  for (const days of daysAgo) {
    const endMs = Date.now() - days * DAY_MS;
    const path = segmentRelPath(CAMERA_ID, endMs - 60_000);
    mkdirSync(dirname(join(dataDir, 'recordings', path)), { recursive: true });
    writeFileSync(join(dataDir, 'recordings', path), `footage ${days} days old`);
    await ledger.append(CAMERA_ID, {
      kind: 'segment',
      path,
      startMs: endMs - 60_000,
      endMs,
      bytes: 0,
      sha256: '0'.repeat(64),
      partial: false,
      detail: { retention: STRICT },
    });
    seeded.push({ path, daysAgo: days });
  }
  await store.close();
  return seeded;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The real gateway under libfaketime: its wall clock reads a file the test rewrites, its
 * monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC), as when NTP or an operator
 * steps the system clock. Footage recorded under strict (30 days); the gateway now runs hubei (15).
 */
describe('retention on the real gateway: profile switched to a shorter one, clock moved 60 days forward', () => {
  let root: string;
  let gw: GatewayProcess;
  let timeFile: string;
  let segments: Seeded[];
  const file = (s: Seeded) => join(root, 'data', 'recordings', s.path);

  beforeAll(async () => {
    if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: install it with apt-get install -y faketime`);
    root = mkdtempSync(join(tmpdir(), 'psvgw-test-clock-'));
    segments = await seed(join(root, 'data'), [40, 20, 2]);
    timeFile = join(root, 'faketime');
    writeFileSync(timeFile, '+0\n');
    gw = await GatewayProcess.start({
      dataDir: root,
      configYaml: 'profile: hubei\nrecording:\n  sweepSeconds: 1',
      env: {
        LD_PRELOAD: LIBFAKETIME,
        FAKETIME_TIMESTAMP_FILE: timeFile,
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    });
  });

  afterAll(async () => {
    await stopAllGateways();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps strict footage for its 30 days under hubei, pauses deletion on the jump, and resumes once confirmed', async () => {
    const [old, strict20, recent] = segments as [Seeded, Seeded, Seeded];
    // The first sweep deletes what is past 30 days and nothing recorded under strict that hubei's 15 would let go.
    await gw.waitForLog(/"msg":"retention sweep"/, 30_000);
    expect(existsSync(file(old))).toBe(false);
    expect(existsSync(file(strict20))).toBe(true);
    expect(existsSync(file(recent))).toBe(true);
    expect(await gw.metric('psvgw_retention_paused')).toBe(0);

    // The system clock steps 60 days ahead: everything seeded now looks past retention.
    writeFileSync(timeFile, '+60d\n');
    await until('psvgw_retention_paused 1', async () => (await gw.metric('psvgw_retention_paused')) === 1, 30_000);
    const incidents = await gw.api<{ items: Array<{ kind: string; severity: string; cameraId: string | null }> }>(
      'GET',
      '/api/v1/incidents',
    );
    expect(incidents.body.items).toContainEqual(expect.objectContaining({ kind: 'clock_jump', severity: 'critical', cameraId: null }));
    // Several sweeps later nothing inside retention has gone.
    const pausedSweeps = () => gw.log.lines.filter((l) => l.includes('retention sweep paused')).length;
    await until('three paused sweeps', () => pausedSweeps() >= 3, 30_000);
    expect(existsSync(file(strict20))).toBe(true);
    expect(existsSync(file(recent))).toBe(true);

    // The operator confirms the new time: deletion resumes on the confirmed clock.
    const confirmed = await gw.api<{ jumpMs: number | null; paused: boolean }>('POST', '/api/v1/recordings/clock/confirm');
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.jumpMs).toBeGreaterThan(59 * DAY_MS);
    await until('the confirmed sweep deleting the strict footage', () => !existsSync(file(strict20)) && !existsSync(file(recent)), 30_000);
    expect(await gw.metric('psvgw_retention_paused')).toBe(0);
    const after = await gw.api<{ items: Array<{ kind: string }> }>('GET', '/api/v1/incidents');
    expect(after.body.items.map((i) => i.kind)).not.toContain('clock_jump');
    // The confirmation is in the audit log.
    const store = new SqliteStore(join(root, 'data', 'psvgw.db'));
    try {
      expect(await store.audit.list()).toContainEqual(expect.objectContaining({ action: 'recordings.clock.confirm', outcome: 'ok' }));
    } finally {
      await store.close();
    }
  });
});
