import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import {
  ChainLedger,
  ChainSigner,
  DAY_MS,
  buildKeyRing,
  segmentRelPath,
  sha256File,
  verifyRecordings,
  type VerifyOptions,
} from '../../../src/recording/index.js';
import { SqliteStore } from '../../../src/store/index.js';
import { camera } from '../store/storeContract.js';

export const NOW = Date.parse('2026-12-01T00:00:00Z');

/** A real SQLite store, signing key and recordings directory in a temp dir, on a clock the test moves. */
export async function recordingFixture() {
  const root = mkdtempSync(join(tmpdir(), 'psvgw-rec-'));
  const dir = join(root, 'recordings');
  const store = new SqliteStore(join(root, 'psvgw.db'));
  await store.migrate();
  const cam = camera(1);
  await store.cameras.insert(cam);
  const clock = { now: NOW };
  const logger = pino({ level: 'silent' });
  const signer = ChainSigner.loadOrCreate(root);
  const ledger = new ChainLedger(store, signer, logger, () => clock.now);

  /** Writes a real segment file of `seconds` ending `daysAgo` before NOW and indexes it (with `detail`) through `by`. */
  async function segment(daysAgo: number, seconds = 60, detail: Record<string, unknown> = {}, by: ChainLedger = ledger) {
    const endMs = NOW - daysAgo * DAY_MS;
    const startMs = endMs - seconds * 1000;
    const path = segmentRelPath(cam.id, startMs);
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), `segment of ${cam.id} at ${startMs}`);
    const bytes = Buffer.byteLength(`segment of ${cam.id} at ${startMs}`);
    return by.append(cam.id, {
      kind: 'segment',
      path,
      startMs,
      endMs,
      bytes,
      sha256: await sha256File(join(dir, path)),
      partial: false,
      detail,
    });
  }

  /** Signs the heads as the running gateway would, then verifies at the fixture's clock. */
  async function verify(extra: Partial<VerifyOptions> = {}) {
    await ledger.checkpointAll();
    const pem = signer.publicPem();
    return verifyRecordings({
      store,
      dir,
      keys: buildKeyRing({
        dataDirPems: [pem],
        rotations: await store.recordings.keyRotations(),
        pins: [],
        registered: await store.recordings.signingKeys(),
      }),
      keyFilePublicPem: pem,
      expectedPublicPem: pem,
      checkpointIntervalMs: 300_000,
      now: clock.now,
      ...extra,
    });
  }

  return {
    root,
    dir,
    store,
    cam,
    clock,
    logger,
    signer,
    ledger,
    segment,
    verify,
    async cleanup() {
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
