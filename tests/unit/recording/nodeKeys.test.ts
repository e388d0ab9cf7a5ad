import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainEntry, RegisteredKey } from '../../../src/domain/index.js';
import {
  ChainLedger,
  ChainSigner,
  GENESIS_CHECKPOINT,
  checkpointHash,
  entryHash,
  keyRegistration,
  buildKeyRing,
  registerNodeKey,
  rotateSigningKey,
  signAuditHead,
  verifyAuditLog,
} from '../../../src/recording/index.js';
import { sortKeys } from '../../../src/hashChain.js';
import { rewriteEntry } from '../../helpers/recordings.js';
import { recordingFixture } from './fixture.js';

type Fixture = Awaited<ReturnType<typeof recordingFixture>>;

const AT = '2026-12-01T00:00:00.000Z';

function row(node: string, signer: ChainSigner, retiredAt: string | null = null): RegisteredKey {
  return { fingerprint: signer.fingerprint, node, publicKeyPem: signer.publicPem(), createdAt: AT, retiredAt };
}

describe('keyRegistration (pure)', () => {
  const a = ChainSigner.generate();
  const b = ChainSigner.generate();

  it('registers a new key, knows its own, and lets one SQLite node keep its key under a new name', () => {
    expect(keyRegistration([], 'gw-1', a.fingerprint, { singleNode: false }).action).toBe('register');
    expect(keyRegistration([row('gw-1', a)], 'gw-1', a.fingerprint, { singleNode: false }).action).toBe('known');
    expect(keyRegistration([row('old-host', a)], 'new-host', a.fingerprint, { singleNode: true })).toEqual({
      action: 'rename',
      from: 'old-host',
    });
    // A retired key of the node does not stand in the way of its new one.
    expect(keyRegistration([row('gw-1', a, AT)], 'gw-1', b.fingerprint, { singleNode: false }).action).toBe('register');
  });

  it("refuses a node whose name has another key in service, another node's key, and a retired key", () => {
    const swapped = keyRegistration([row('gw-1', a)], 'gw-1', b.fingerprint, { singleNode: true });
    expect(swapped.action).toBe('refuse');
    if (swapped.action === 'refuse') {
      expect(swapped.error.message).toContain(
        `node gw-1 is registered with the signing key ${a.fingerprint}, but its key is ${b.fingerprint}`,
      );
      expect(swapped.error.hint).toContain(`psvgw keys retire ${a.fingerprint}`);
    }
    const shared = keyRegistration([row('gw-1', a)], 'gw-2', a.fingerprint, { singleNode: false });
    expect(shared.action === 'refuse' && shared.error.message).toContain(`is registered to node gw-1, not to gw-2`);
    const retired = keyRegistration([row('gw-1', a, AT)], 'gw-1', a.fingerprint, { singleNode: false });
    expect(retired.action === 'refuse' && retired.error.message).toContain(`was retired at ${AT}`);
  });
});

describe('entryHash with the writer', () => {
  it('hashes entries naming no writer as before, and commits to node and key when named', () => {
    const e = {
      cameraId: 'c1',
      seq: 1,
      kind: 'segment' as const,
      path: 'c1/2026-12-01/x.ts',
      startMs: 1,
      endMs: 2,
      bytes: 3,
      sha256: 'ab',
      partial: false,
      detail: { b: 1, a: 2 },
      prevHash: '0'.repeat(64),
    };
    // The formula of every chain written before per-node keys.
    const before = createHash('sha256')
      .update(
        JSON.stringify([
          e.cameraId,
          e.seq,
          e.kind,
          e.path,
          e.startMs,
          e.endMs,
          e.bytes,
          e.sha256,
          e.partial,
          sortKeys(e.detail),
          e.prevHash,
        ]),
      )
      .digest('hex');
    expect(entryHash(e)).toBe(before);
    expect(entryHash({ ...e, node: null, keyFingerprint: null })).toBe(before);
    const named = entryHash({ ...e, node: 'gw-1', keyFingerprint: 'SHA256:x' });
    expect(named).not.toBe(before);
    expect(entryHash({ ...e, node: 'gw-2', keyFingerprint: 'SHA256:x' })).not.toBe(named);
  });
});

describe('two nodes writing one chain, each with its registered key', () => {
  let f: Fixture;
  let other: ChainSigner;
  let otherLedger: ChainLedger;

  beforeEach(async () => {
    f = await recordingFixture();
    other = ChainSigner.generate();
    await registerNodeKey(f.store, 'gw-1', f.signer, { singleNode: false, at: AT });
    await registerNodeKey(f.store, 'gw-2', other, { singleNode: false, at: AT });
    otherLedger = new ChainLedger(f.store, other, f.logger, () => f.clock.now);
    // As in cluster mode: the chain grows on both nodes, so each checkpoint reads the last one afresh.
    const everyCamera = { mayWrite: () => true, fence: () => Promise.resolve(true), refused: () => undefined };
    for (const [ledger, node] of [
      [f.ledger, 'gw-1'],
      [otherLedger, 'gw-2'],
    ] as const) {
      ledger.writeAs(node);
      ledger.guardWith(everyCamera);
    }
  });
  afterEach(async () => f.cleanup());

  /** Segments 1–2 by gw-1, a checkpoint by gw-1; gw-2 takes the camera over: segments 3–4, a checkpoint by gw-2. */
  async function handOver(): Promise<ChainEntry[]> {
    await f.segment(4);
    await f.segment(3);
    await f.ledger.checkpointAll();
    await f.segment(2, 60, {}, otherLedger);
    await f.segment(1, 60, {}, otherLedger);
    await otherLedger.checkpointAll();
    return f.store.recordings.entries({ cameraId: f.cam.id });
  }

  it("names each entry's node and key, and verifies", async () => {
    const entries = await handOver();
    expect(entries.map((e) => [e.seq, e.node, e.keyFingerprint])).toEqual([
      [1, 'gw-1', f.signer.fingerprint],
      [2, 'gw-1', f.signer.fingerprint],
      [3, 'gw-2', other.fingerprint],
      [4, 'gw-2', other.fingerprint],
    ]);
    const cps = await f.store.recordings.checkpoints(f.cam.id);
    expect(cps.map((c) => [c.seq, c.node, c.keyFingerprint])).toEqual([
      [2, 'gw-1', f.signer.fingerprint],
      [4, 'gw-2', other.fingerprint],
    ]);
    const report = await f.verify();
    expect(report.findings).toEqual([]);
  });

  it('an entry rewritten and re-signed with an unregistered key: unregistered_key naming the entry and the key', async () => {
    const entries = await handOver();
    const forger = ChainSigner.generate();
    // The forger rewrites entry 3 as its own, rehashes the chain from there and re-signs every checkpoint as gw-2.
    await rewrite(rewriteEntry(entries, 3, { keyFingerprint: forger.fingerprint }), forger, 'gw-2');
    const report = await f.verify();
    const kinds = report.findings.map((x) => [x.kind, x.seq]);
    expect(kinds).toContainEqual(['unregistered_key', 3]);
    const finding = report.findings.find((x) => x.kind === 'unregistered_key' && x.seq === 3)!;
    expect(finding.message).toContain(
      `entry 3 (segment ${entries[2]!.path}) names node gw-2 and key ${forger.fingerprint}, which is not a registered key`,
    );
    expect(finding.path).toBe(entries[2]!.path);
    // Its checkpoints name gw-2 but carry the forger's key: reported too.
    expect(kinds).toContainEqual(['unregistered_key', 4]);
    expect(report.ok).toBe(false);
  });

  it("an entry naming gw-1 with gw-2's key, and a checkpoint naming no node after named ones: key_mismatch", async () => {
    const entries = await handOver();
    await rewrite(rewriteEntry(entries, 3, { node: 'gw-1' }), other, null);
    const report = await f.verify();
    const byKind = report.findings.map((x) => [x.kind, x.seq, x.message]);
    expect(byKind).toContainEqual([
      'key_mismatch',
      3,
      `entry 3 (segment ${entries[2]!.path}) names node gw-1, but key ${other.fingerprint} is registered to node gw-2`,
    ]);
    expect(report.findings.filter((x) => x.kind === 'key_mismatch' && x.message.includes('names no node after checkpoints'))).toHaveLength(
      1,
    );
  });

  it('old entries and checkpoints naming no node still verify with the installation key', async () => {
    const plain = new ChainLedger(f.store, f.signer, f.logger, () => f.clock.now);
    await f.segment(5, 60, {}, plain);
    await plain.checkpointAll();
    expect((await f.store.recordings.entries({ cameraId: f.cam.id }))[0]).not.toHaveProperty('node');
    expect((await f.verify()).findings).toEqual([]);
  });

  it('a swapped key file is refused at registration; psvgw keys rotate retires the old key and registers the new one', async () => {
    const swapped = ChainSigner.generate();
    await expect(registerNodeKey(f.store, 'gw-1', swapped, { singleNode: true, at: AT })).rejects.toThrow(
      `node gw-1 is registered with the signing key ${f.signer.fingerprint}`,
    );
    expect((await f.store.recordings.signingKeys()).map((k) => k.node).sort()).toEqual(['gw-1', 'gw-2']);
    const r = await rotateSigningKey(f.store, { dataDir: f.root, node: 'gw-1' }, AT);
    const keys = await f.store.recordings.signingKeys();
    expect(keys.find((k) => k.fingerprint === r.old)?.retiredAt).toBe(AT);
    expect(keys.find((k) => k.fingerprint === r.next)).toMatchObject({ node: 'gw-1', retiredAt: null });
    expect(await registerNodeKey(f.store, 'gw-1', ChainSigner.load(f.root), { singleNode: true, at: AT })).toBe('known');
  });

  /** Replaces the camera's chain with `entries` and its checkpoints with gw-1's over entry 2 and one over entry 4 by `signer`, naming `node`. */
  async function rewrite(entries: ChainEntry[], signer: ChainSigner, node: string | null) {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${f.root}/psvgw.db`);
    db.prepare('DELETE FROM recording_entries WHERE camera_id = ?').run(f.cam.id);
    db.prepare('DELETE FROM recording_checkpoints WHERE camera_id = ?').run(f.cam.id);
    db.close();
    for (const e of entries) await f.store.recordings.append(e);
    let prev = GENESIS_CHECKPOINT;
    const heads = entries.filter((e) => e.seq === 2 || e.seq === 4);
    for (const [i, e] of heads.entries()) {
      const by = i === 0 ? f.signer : signer;
      const cp = by.sign({ cameraId: f.cam.id, seq: e.seq, headHash: e.entryHash, signedAt: AT, prevHash: prev });
      const named = i === 0 ? { ...cp, node: 'gw-1' } : node === null ? cp : { ...cp, node };
      await f.store.recordings.addCheckpoint(named);
      prev = checkpointHash(named);
    }
  }
});

describe("the audit chain's head signed by two nodes at once", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await recordingFixture();
  });
  afterEach(async () => f.cleanup());

  it('keeps one checkpoint per head: the later signer sees the other node got there first', async () => {
    const other = ChainSigner.generate();
    await registerNodeKey(f.store, 'gw-1', f.signer, { singleNode: false, at: AT });
    await registerNodeKey(f.store, 'gw-2', other, { singleNode: false, at: AT });
    for (let round = 0; round < 5; round++) {
      await f.store.audit.append({ at: AT, actor: 'test', action: 'camera.create', cameraId: null, outcome: 'ok', details: { round } });
      await Promise.all([signAuditHead(f.store, f.signer, AT), signAuditHead(f.store, other, AT)]);
    }
    const keys = buildKeyRing({ dataDirPems: [], rotations: [], pins: [], registered: await f.store.recordings.signingKeys() });
    const report = await verifyAuditLog({ store: f.store, keys, nowMs: Date.parse(AT), maxUnsignedMs: 60_000 });
    expect(report.problems).toEqual([]);
    expect(report.checkpoints).toBe(5);
  });
});
