import { createPublicKey } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainEntry } from '../domain/index.js';
import type { Store } from '../store/index.js';
import { checkChain } from './chain.js';
import type { Finding } from './findings.js';
import { checkCheckpoints, checkCoverage, checkDeletions, checkEntryKeys, compareWitness } from './verifyProofs.js';
import { DAMAGED, FENCED, INCOMING, daysBetween } from './layout.js';
import { sha256File } from './segmentFile.js';
import { keyFingerprint } from './signing.js';
import { segmentPlace, type HoldingNode } from './location.js';
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
  /**
   * How long a file written in the last two minutes may take to appear in the index (0: one
   * more read only). Set it when a gateway may be recording into the directory: its index
   * write can wait out another process's lock (the store's busy timeout is 5 s).
   */
  recentFileGraceMs?: number;
  /**
   * Cluster mode: segments whose entry names another node are checked through that node
   * (`hash` reads its copy's SHA-256); a node that is not alive, or does not answer, makes
   * them `unreachable` findings naming it, never `missing`.
   */
  held?: {
    self: string;
    nodes: readonly HoldingNode[];
    hash(entry: ChainEntry, apiUrl: string): Promise<{ sha256: string; bytes: number }>;
  };
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
    findings.push(...checkEntryKeys(opts.keys, entries));
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
      const copy = await readCopy(opts, e, progress);
      if ('unreachable' in copy) {
        const message = `segment ${e.seq} (${iso(e.startMs)}) is held by node ${copy.node}, which ${copy.unreachable}: unreachable, not missing; verify again once it is back`;
        findings.push({ kind: 'unreachable', cameraId, seq: e.seq, path: e.path, message });
        progress(e.bytes);
        continue;
      }
      if (copy.sha === null) {
        findings.push({ kind: 'missing', cameraId, seq: e.seq, path: e.path, message: `segment ${e.seq} (${iso(e.startMs)}) is missing` });
        progress(e.bytes);
        continue;
      }
      const { sha, size } = copy;
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
    const unindexed = (await filesOf(opts.dir, cameraId, days)).filter((rel) => !byPath.has(rel));
    // The recorder moves a finished segment into place just before it indexes it (verify may run
    // while the gateway records, and the index write may wait out another process's lock), so a
    // file the first read missed is looked up again; a file written lately is given the store's
    // busy wait to appear, an old one only one more read.
    const since = entries.reduce((latest, e) => Math.max(latest, e.startMs), 0);
    const missing = await stillUnindexed(opts.store, opts.dir, cameraId, since, unindexed, opts.recentFileGraceMs ?? 0);
    for (const rel of missing) findings.push({ kind: 'unexpected', cameraId, seq: null, path: rel, message: 'file is not in the index' });
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

/** A segment's SHA-256 and size, from this disk or through the node holding it (size null: no file). */
async function readCopy(
  opts: VerifyOptions,
  e: ChainEntry,
  progress: (n: number) => void,
): Promise<{ sha: string; size: number } | { sha: null; size: null } | { node: string; unreachable: string }> {
  const file = join(opts.dir, e.path);
  const size = await stat(file).then(
    (s) => s.size,
    () => null,
  );
  // A file on this disk is checked here, whichever node indexed it (storage the nodes share).
  const place = opts.held === undefined || size !== null ? ({ at: 'here' } as const) : segmentPlace(e, opts.held.self, opts.held.nodes);
  if (place.at === 'unreachable') return { node: place.node, unreachable: place.reason };
  if (place.at === 'node') {
    try {
      const { sha256, bytes } = await (opts.held as NonNullable<VerifyOptions['held']>).hash(e, place.apiUrl);
      progress(e.bytes);
      return { sha: sha256, size: bytes };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'NOT_FOUND') return { sha: null, size: null };
      return {
        node: place.node,
        unreachable: code === 'RECORDING_UNREACHABLE' ? 'did not answer' : `could not be read (${(err as Error).message})`,
      };
    }
  }
  if (size === null) return { sha: null, size: null };
  const sha = await sha256File(file, progress);
  progress(e.bytes - size);
  return { sha, size };
}

/** Key file against the store's record, the data directory's key against the pins, rotation statements. */
function keyFindings(opts: VerifyOptions): Finding[] {
  const out: Finding[] = [];
  const whole = { cameraId: '*', seq: null, path: null };
  // A node's own registered key may differ from the installation key the store names (cluster mode: one key per node).
  if (
    opts.expectedPublicPem !== undefined &&
    opts.keyFilePublicPem !== undefined &&
    opts.expectedPublicPem !== opts.keyFilePublicPem &&
    !opts.keys.registered.has(keyFingerprint(createPublicKey(opts.keyFilePublicPem)))
  ) {
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
const RECENT_FILE_AGE_MS = 120_000;

/** The files of `unindexed` that a fresh read of the index still lacks, re-read while one of them is recent. */
async function stillUnindexed(
  store: Store,
  dir: string,
  cameraId: string,
  since: number,
  unindexed: string[],
  graceMs: number,
): Promise<string[]> {
  if (unindexed.length === 0) return [];
  const deadline = Date.now() + graceMs;
  for (;;) {
    const indexed = new Set((await store.recordings.entries({ cameraId, kind: 'segment', fromMs: since })).map((e) => e.path));
    const missing = unindexed.filter((rel) => !indexed.has(rel));
    if (missing.length === 0 || Date.now() >= deadline) return missing;
    const ages = await Promise.all(missing.map(async (rel) => Date.now() - ((await stat(join(dir, rel)).catch(() => null))?.mtimeMs ?? 0)));
    if (!ages.some((age) => age < RECENT_FILE_AGE_MS)) return missing;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function filesOf(dir: string, cameraId: string, days: Set<string> | null): Promise<string[]> {
  const out: string[] = [];
  for (const name of await listDir(join(dir, cameraId))) {
    if (name === INCOMING || name === DAMAGED || name === FENCED) continue;
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
