import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainEntry } from '../domain/index.js';
import type { Store } from '../store/index.js';
import { checkChain } from './chain.js';
import type { Finding } from './findings.js';
import { checkCheckpoints, checkCoverage, checkDeletions, compareWitness } from './verifyProofs.js';
import { DAMAGED, INCOMING, daysBetween } from './layout.js';
import { sha256File } from './segmentFile.js';
import type { KeyRing } from './trust.js';
import type { WitnessedCheckpoint } from './witness.js';

export type { Finding, FindingKind } from './findings.js';

/** A segment indexed at start-up because the process writing it died first (not a finding). */
export interface RecoveredSegment {
  cameraId: string;
  seq: number;
  path: string;
}

export interface VerifyReport {
  ok: boolean;
  cameras: number;
  segments: number;
  bytes: number;
  findings: Finding[];
  /** Segments whose chain entry says `recovered` (the mark is covered by the entry hash). */
  recovered: RecoveredSegment[];
  /** Deletion entries checked; of them, those that state no retention (older data: lawfulness not checkable). */
  deletions: number;
  deletionsWithoutRetention: number;
  keys: KeyReport;
  /** Witness checkpoints compared (null: no witness given). */
  witnessed: number | null;
}

export interface KeyReport {
  /** Fingerprint(s) of the signing key the data directory holds. */
  dataDir: string[];
  /** Fingerprints whose signatures counted. */
  trusted: string[];
  /** False: the key was taken from the data directory, so whoever can write it could have re-signed everything. */
  pinned: boolean;
}

export interface VerifyOptions {
  store: Store;
  /** The recordings directory. */
  dir: string;
  keys: KeyRing;
  /** Public key PEM of the key file, when verify can read it (it may live off this machine). */
  keyFilePublicPem: string | undefined;
  /** Public key PEM recorded in the store when the key was made (a different key file is a finding). */
  expectedPublicPem: string | undefined;
  /** The gateway signs every chain head this often: older unsigned entries are findings. */
  checkpointIntervalMs: number;
  /** Witness copies of the checkpoints, by camera. */
  witness?: Map<string, WitnessedCheckpoint[]>;
  /** ms since the epoch; injectable for tests. */
  now?: number;
  cameraId?: string;
  fromMs?: number;
  toMs?: number;
  /** Bytes hashed so far of the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Proves the recordings are what the index says: each camera's chain is whole and its
 * hashes recompute, every signed checkpoint is genuine and still in the chain, every
 * segment file is present with its recorded SHA-256, and no file is there that the index
 * does not know. The chain is always checked whole; files only inside the time range.
 */
export async function verifyRecordings(opts: VerifyOptions): Promise<VerifyReport> {
  const from = opts.fromMs ?? 0;
  const to = opts.toMs ?? Number.MAX_SAFE_INTEGER;
  const inRange = (e: ChainEntry) => e.endMs >= from && e.startMs <= to;
  const now = opts.now ?? Date.now();
  const witnessCameras = opts.cameraId === undefined ? [...(opts.witness?.keys() ?? [])] : [];
  const cameraIds = new Set([...(await opts.store.recordings.cameraIds()), ...(await listDir(opts.dir)), ...witnessCameras]);
  const cameras = [...cameraIds].filter((c) => opts.cameraId === undefined || c === opts.cameraId).sort();
  const findings: Finding[] = [...keyFindings(opts)];

  const perCamera = await Promise.all(
    cameras.map(async (cameraId) => ({
      cameraId,
      entries: await opts.store.recordings.entries({ cameraId }),
      checkpoints: await opts.store.recordings.checkpoints(cameraId),
    })),
  );
  let deletions = 0;
  let deletionsWithoutRetention = 0;
  let witnessed: number | null = opts.witness === undefined ? null : 0;
  const live = new Map<string, ChainEntry[]>();
  for (const { cameraId, entries, checkpoints } of perCamera) {
    const d = checkDeletions(entries, checkpoints);
    deletions += d.deletions;
    deletionsWithoutRetention += d.withoutRetention;
    findings.push(...d.findings);
    live.set(
      cameraId,
      entries.filter((e) => e.kind === 'segment' && !d.deleted.has(e.seq)),
    );
  }
  const toCheck = [...live.values()].flatMap((entries) => entries.filter(inRange));
  const total = toCheck.reduce((n, e) => n + e.bytes, 0);
  let done = 0;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };

  for (const { cameraId, entries, checkpoints } of perCamera) {
    findings.push(...checkChain(entries).map((p) => ({ ...p, path: entries.find((e) => e.seq === p.seq)?.path ?? null })));
    findings.push(...checkCheckpoints(opts.keys, cameraId, entries, checkpoints));
    findings.push(...checkCoverage(cameraId, entries, checkpoints, opts.checkpointIntervalMs, now));
    if (opts.witness !== undefined) {
      const w = compareWitness(cameraId, entries, checkpoints, opts.witness.get(cameraId) ?? []);
      witnessed = (witnessed ?? 0) + w.compared;
      findings.push(...w.findings);
    }
    const segments = live.get(cameraId) ?? [];
    const byPath = new Map(segments.map((e) => [e.path, e]));
    const byHash = new Map(segments.map((e) => [e.sha256, e]));
    for (const e of segments) {
      if (e.deletedAt === null) continue;
      findings.push({
        kind: 'deleted_unrecorded',
        cameraId,
        seq: e.seq,
        path: e.path,
        message: `segment ${e.seq} (${iso(e.startMs)}) is marked deleted at ${e.deletedAt}, but the chain records no deletion of it`,
      });
    }
    for (const e of segments.filter(inRange)) {
      const file = join(opts.dir, e.path);
      const size = await stat(file).then(
        (s) => s.size,
        () => null,
      );
      if (size === null) {
        findings.push({ kind: 'missing', cameraId, seq: e.seq, path: e.path, message: `segment ${e.seq} (${iso(e.startMs)}) is missing` });
        progress(e.bytes);
        continue;
      }
      const sha = await sha256File(file, progress);
      progress(e.bytes - size);
      if (sha === e.sha256) continue;
      const other = byHash.get(sha);
      findings.push(
        other
          ? { kind: 'reordered', cameraId, seq: e.seq, path: e.path, message: `holds the content of segment ${other.seq} (${other.path})` }
          : {
              kind: 'modified',
              cameraId,
              seq: e.seq,
              path: e.path,
              message: `content changed: SHA-256 ${sha.slice(0, 16)}… (${size} bytes), recorded ${e.sha256.slice(0, 16)}… (${e.bytes} bytes)`,
            },
      );
    }
    const days = opts.fromMs === undefined && opts.toMs === undefined ? null : daysBetween(from, Math.min(to, now + 86_400_000));
    for (const rel of await filesOf(opts.dir, cameraId, days)) {
      if (!byPath.has(rel)) findings.push({ kind: 'unexpected', cameraId, seq: null, path: rel, message: 'file is not in the index' });
    }
  }
  const recovered = perCamera.flatMap(({ entries }) =>
    entries
      .filter((e) => e.kind === 'segment' && e.detail.recovered === true)
      .map((e) => ({ cameraId: e.cameraId, seq: e.seq, path: e.path })),
  );
  return {
    ok: findings.length === 0,
    cameras: cameras.length,
    segments: toCheck.length,
    bytes: total,
    findings,
    recovered,
    deletions,
    deletionsWithoutRetention,
    keys: { dataDir: opts.keys.dataDirKeys, trusted: [...opts.keys.trusted].sort(), pinned: opts.keys.pinned },
    witnessed,
  };
}

/** Key file against the store's record, the data directory's key against the pins, rotation statements. */
function keyFindings(opts: VerifyOptions): Finding[] {
  const out: Finding[] = [];
  const whole = { cameraId: '*', seq: null, path: null };
  if (opts.expectedPublicPem !== undefined && opts.keyFilePublicPem !== undefined && opts.expectedPublicPem !== opts.keyFilePublicPem) {
    out.push({ ...whole, kind: 'checkpoint_invalid', message: 'the signing key in the data directory is not the one the gateway made' });
  }
  for (const fp of opts.keys.dataDirKeys) {
    if (opts.keys.pinned && !opts.keys.trusted.has(fp)) {
      out.push({
        ...whole,
        kind: 'untrusted_key',
        message: `the data directory's signing key ${fp} is not pinned and no pinned key handed over to it`,
      });
    }
  }
  for (const r of opts.keys.badRotations) {
    out.push({ ...whole, kind: 'key_rotation_invalid', message: `the key rotation of ${r.at} is not signed by the key it retires` });
  }
  return out;
}

/** Footage files of a camera relative to the recordings directory (only the given days, when set). */
async function filesOf(dir: string, cameraId: string, days: Set<string> | null): Promise<string[]> {
  const out: string[] = [];
  for (const name of await listDir(join(dir, cameraId))) {
    if (name === INCOMING || name === DAMAGED) continue;
    const full = join(dir, cameraId, name);
    const info = await stat(full).catch(() => null);
    if (info?.isDirectory()) {
      if (days !== null && !days.has(name)) continue;
      for (const file of await listDir(full)) out.push(join(cameraId, name, file));
    } else if (info && days === null) {
      out.push(join(cameraId, name));
    }
  }
  return out.sort();
}

async function listDir(path: string): Promise<string[]> {
  return readdir(path).catch(() => []);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
