import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../src/domain/index.js';
import {
  ChainLedger,
  ChainSigner,
  DAY_MS,
  WitnessDir,
  buildKeyRing,
  checkpointMessage,
  readWitnesses,
  rotateSigningKey,
  segmentRelPath,
  sha256File,
  signingKeyPath,
  verifyRecordings,
  type KeyRing,
} from '../../../src/recording/index.js';
import { NOW, recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

describe('verify: deletions, chained checkpoints, pinned keys, witnesses', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await recordingFixture();
  });
  afterEach(async () => f.cleanup());

  const kinds = async (extra = {}) => (await f.verify(extra)).findings.map((x) => [x.kind, x.seq]);
  const sql = (statement: string, ...params: unknown[]) => {
    const db = new Database(join(f.root, 'psvgw.db'));
    try {
      db.prepare(statement).run(...params);
    } finally {
      db.close();
    }
  };

  /** Verifies without signing the heads first (the fixture's `verify` does, as a running gateway would). */
  const unsigned = (now: number, keys?: KeyRing) => {
    const pem = f.signer.publicPem();
    return verifyRecordings({
      store: f.store,
      dir: f.dir,
      keys: keys ?? buildKeyRing({ dataDirPems: [pem], rotations: [], pins: [] }),
      keyFilePublicPem: undefined,
      expectedPublicPem: undefined,
      checkpointIntervalMs: 300_000,
      now,
    });
  };

  /** A segment the recorder wrote with its retention, `daysAgo` before NOW. */
  async function retained(daysAgo: number, days: number): Promise<ChainEntry> {
    const endMs = NOW - daysAgo * DAY_MS;
    const path = segmentRelPath(f.cam.id, endMs - 60_000);
    mkdirSync(dirname(join(f.dir, path)), { recursive: true });
    writeFileSync(join(f.dir, path), `footage ${endMs}`);
    return f.ledger.append(f.cam.id, {
      kind: 'segment',
      path,
      startMs: endMs - 60_000,
      endMs,
      bytes: statSync(join(f.dir, path)).size,
      sha256: await sha256File(join(f.dir, path)),
      partial: false,
      detail: { retention: { days, profile: 'strict', rule: 'test', article: null } },
    });
  }

  /** What the sweeper does, with `detail` as given. */
  async function deletion(segment: ChainEntry, detail: Record<string, unknown>) {
    const entry = await f.ledger.append(f.cam.id, { ...segment, kind: 'deletion', detail }, (tx) =>
      tx.recordings.markDeleted(segment.cameraId, segment.seq, new Date(f.clock.now).toISOString()),
    );
    rmSync(join(f.dir, segment.path));
    return entry;
  }

  it('a row marked deleted without a deletion entry is deleted_unrecorded, and its file missing', async () => {
    const s = await f.segment(2);
    await f.segment(1);
    expect(await kinds()).toEqual([]);
    sql('UPDATE recording_entries SET deleted_at = ? WHERE seq = ?', new Date(NOW).toISOString(), s.seq);
    rmSync(join(f.dir, s.path));
    expect(await kinds()).toEqual([
      ['deleted_unrecorded', 1],
      ['missing', 1],
    ]);
  });

  it('judges each deletion by the retention written on the segment (or stated by the deletion), counting older ones', async () => {
    const legacy = await f.segment(50);
    const lawful = await retained(40, 30);
    const stated = await f.segment(20);
    const early = await retained(10, 30);
    await deletion(early, { deletedSeq: early.seq, reason: 'retention passed' });
    await deletion(lawful, { deletedSeq: lawful.seq, reason: 'retention passed' });
    await deletion(legacy, { deletedSeq: legacy.seq, reason: 'retention passed' });
    await deletion(stated, { deletedSeq: stated.seq, reason: 'retention passed', retentionDays: 30 });
    const report = await f.verify();
    expect(report.findings.map((x) => [x.kind, x.seq])).toEqual([
      ['deletion_unlawful', 5],
      ['deletion_unlawful', 8],
    ]);
    expect(report.findings[0]?.message).toMatch(/inside its 30-day retention until/);
    expect(report.deletions).toBe(4);
    expect(report.deletionsWithoutRetention).toBe(1);
  });

  it('a deletion naming no earlier segment, another file, or one already deleted is deletion_invalid', async () => {
    const s = await retained(40, 30);
    await deletion(s, { deletedSeq: s.seq });
    await f.ledger.append(f.cam.id, { ...s, kind: 'deletion', detail: { deletedSeq: s.seq } });
    await f.ledger.append(f.cam.id, { ...s, kind: 'deletion', detail: { deletedSeq: 99 } });
    await f.ledger.append(f.cam.id, { ...s, kind: 'deletion', detail: {} });
    expect(await kinds()).toEqual([
      ['deletion_invalid', 3],
      ['deletion_invalid', 4],
      ['deletion_invalid', 5],
    ]);
  });

  it('a deletion stamped after the checkpoint that signed it was moved in time', async () => {
    const s = await retained(10, 30);
    const d = await deletion(s, { deletedSeq: s.seq });
    await f.ledger.checkpointAll();
    sql('UPDATE recording_entries SET at = ? WHERE seq = ?', new Date(NOW + 30 * DAY_MS).toISOString(), d.seq);
    const report = await f.verify();
    expect(report.findings.map((x) => [x.kind, x.seq])).toEqual([['deletion_unlawful', 2]]);
    expect(report.findings[0]?.message).toMatch(/after the checkpoint .* that signed it/);
  });

  it('checkpoints chain: deleting one from the middle breaks the chain; all deleted is checkpoint_missing', async () => {
    for (const days of [3, 2, 1]) {
      await f.segment(days);
      await f.ledger.checkpointAll();
    }
    expect(await kinds()).toEqual([]);
    sql('DELETE FROM recording_checkpoints WHERE seq = 2');
    expect(await kinds()).toEqual([['checkpoint_chain_broken', 3]]);
    sql('DELETE FROM recording_checkpoints');
    const report = await unsigned(NOW);
    expect(report.findings.map((x) => [x.kind, x.seq])).toEqual([['checkpoint_missing', 1]]);
  });

  it('entries younger than two checkpoint intervals need no checkpoint yet; older ones do', async () => {
    await f.segment(0);
    expect((await unsigned(NOW + 599_000)).findings).toEqual([]);
    expect((await unsigned(NOW + 601_000)).findings.map((x) => x.kind)).toEqual(['checkpoint_missing']);
  });

  it('older unchained (v1) checkpoints stay valid and the next checkpoint chains from them', async () => {
    await f.segment(2);
    const head = (await f.store.recordings.head(f.cam.id))!;
    const v1 = {
      cameraId: f.cam.id,
      seq: head.seq,
      headHash: head.entryHash,
      signedAt: new Date(NOW).toISOString(),
      version: 1 as const,
      prevHash: null,
      keyFingerprint: null,
    };
    await f.store.recordings.addCheckpoint({ ...v1, signature: f.signer.signBytes(checkpointMessage(v1)) });
    expect(checkpointMessage(v1).toString()).toMatch(/^psvgw-checkpoint-v1\n/);
    await f.segment(1);
    expect(await kinds()).toEqual([]);
    expect((await f.store.recordings.checkpoints(f.cam.id)).map((c) => c.version)).toEqual([1, 2]);
  });

  it('with a pinned key, checkpoints by another key are untrusted_key; a rotation signed by the pinned key carries the pin over', async () => {
    await f.segment(2);
    await f.ledger.checkpointAll();
    const pinned = f.signer.fingerprint;
    const stranger = ChainSigner.generate().fingerprint;
    expect(await kinds({ keys: buildKeyRing({ dataDirPems: [f.signer.publicPem()], rotations: [], pins: [pinned] }) })).toEqual([]);
    const other = await f.verify({ keys: buildKeyRing({ dataDirPems: [f.signer.publicPem()], rotations: [], pins: [stranger] }) });
    expect(other.findings.map((x) => [x.kind, x.seq])).toEqual([
      ['untrusted_key', null],
      ['untrusted_key', 1],
    ]);

    const rotated = await rotateSigningKey(f.store, { dataDir: f.root, node: 'gw-test' }, new Date(NOW).toISOString());
    expect(rotated.old).toBe(pinned);
    const next = ChainSigner.load(f.root);
    expect(next.fingerprint).toBe(rotated.next);
    expect(statSync(signingKeyPath(f.root)).mode & 0o777).toBe(0o600);
    await f.segment(1);
    await new ChainLedger(f.store, next, f.logger, () => f.clock.now).checkpointAll();
    const keys = buildKeyRing({ dataDirPems: [next.publicPem()], rotations: await f.store.recordings.keyRotations(), pins: [pinned] });
    expect([...keys.trusted].sort()).toEqual([pinned, rotated.next].sort());
    expect((await unsigned(NOW, keys)).findings).toEqual([]);
    // A statement the old key did not sign is refused, and the new key is then not trusted.
    const [r] = await f.store.recordings.keyRotations();
    const forged = buildKeyRing({
      dataDirPems: [next.publicPem()],
      rotations: [{ ...r!, at: '2020-01-01T00:00:00.000Z' }],
      pins: [pinned],
    });
    expect(forged.badRotations).toHaveLength(1);
    expect(forged.trusted.has(rotated.next)).toBe(false);
  });

  it('each checkpoint is appended to the witness directory as an fsynced JSON line; verify names the first divergence', async () => {
    const witness = mkdtempSync(join(tmpdir(), 'psvgw-witness-'));
    try {
      f.ledger.addWitness(new WitnessDir(witness));
      await f.segment(2);
      await f.ledger.checkpointAll();
      await f.segment(1);
      await f.ledger.checkpointAll();
      const lines = readFileSync(join(witness, `${f.cam.id}.jsonl`), 'utf8')
        .trim()
        .split('\n');
      expect(lines).toHaveLength(2);
      expect(JSON.parse(lines[1]!)).toMatchObject({ cameraId: f.cam.id, seq: 2, version: 2, keyFingerprint: f.signer.fingerprint });
      const copies = await readWitnesses(witness);
      expect(await kinds({ witness: copies })).toEqual([]);
      sql('UPDATE recording_checkpoints SET signature = ? WHERE seq = 2', f.signer.signBytes(Buffer.from('other')));
      const report = await f.verify({ witness: copies });
      expect(report.findings.map((x) => [x.kind, x.seq])).toEqual([
        ['checkpoint_invalid', 2],
        ['witness_divergence', 2],
      ]);
      expect(report.findings[1]?.message).toMatch(/first divergence from the witness: the checkpoint of entry 2 differs in signature/);
    } finally {
      rmSync(witness, { recursive: true, force: true });
    }
  });

  it('the key file named by PSVGW_SIGNING_KEY_FILE: made 0600 in development, required in production', () => {
    const keyFile = join(f.root, 'elsewhere', 'signing.pem');
    expect(() => ChainSigner.loadOrCreate({ dataDir: f.root, keyFile, production: true })).toThrow(
      /PSVGW_SIGNING_KEY_FILE names .* which does not exist/,
    );
    expect(existsSync(keyFile)).toBe(false);
    const made = ChainSigner.loadOrCreate({ dataDir: f.root, keyFile });
    expect(made.created).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(ChainSigner.loadOrCreate({ dataDir: f.root, keyFile, production: true }).fingerprint).toBe(made.fingerprint);
  });
});
