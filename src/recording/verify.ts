import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainEntry } from '../domain/index.js';
import type { Store } from '../store/index.js';
import { checkChain, type ChainProblemKind } from './chain.js';
import { DAMAGED, INCOMING, daysBetween } from './layout.js';
import { sha256File } from './segmentFile.js';
import type { ChainSigner } from './signing.js';

export type FindingKind = ChainProblemKind | 'modified' | 'missing' | 'unexpected' | 'checkpoint_invalid' | 'truncated';

export interface Finding {
  kind: FindingKind;
  cameraId: string;
  /** The chain entry concerned, when there is one. */
  seq: number | null;
  /** File relative to the recordings directory, when one is concerned. */
  path: string | null;
  message: string;
}

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
}

export interface VerifyOptions {
  store: Store;
  /** The recordings directory. */
  dir: string;
  signer: ChainSigner;
  /** Public key PEM recorded in the store when the key was made (a different key file is a finding). */
  expectedPublicPem: string | undefined;
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
  const cameraIds = new Set([...(await opts.store.recordings.cameraIds()), ...(await listDir(opts.dir))]);
  const cameras = [...cameraIds].filter((c) => opts.cameraId === undefined || c === opts.cameraId).sort();
  const findings: Finding[] = [];
  const keyMismatch = opts.expectedPublicPem !== undefined && opts.expectedPublicPem !== opts.signer.publicPem();
  if (keyMismatch) {
    findings.push({
      kind: 'checkpoint_invalid',
      cameraId: '*',
      seq: null,
      path: null,
      message: 'the signing key in the data directory is not the one the gateway made',
    });
  }

  const perCamera = await Promise.all(
    cameras.map(async (cameraId) => ({ cameraId, entries: await opts.store.recordings.entries({ cameraId }) })),
  );
  const toCheck = perCamera.flatMap(({ entries }) => entries.filter((e) => e.kind === 'segment' && e.deletedAt === null && inRange(e)));
  const total = toCheck.reduce((n, e) => n + e.bytes, 0);
  let done = 0;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };

  for (const { cameraId, entries } of perCamera) {
    findings.push(...checkChain(entries).map((p) => ({ ...p, path: entries.find((e) => e.seq === p.seq)?.path ?? null })));
    if (!keyMismatch) findings.push(...(await checkCheckpoints(opts, cameraId, entries)));
    const live = entries.filter((e) => e.kind === 'segment' && e.deletedAt === null);
    const byPath = new Map(live.map((e) => [e.path, e]));
    const byHash = new Map(live.map((e) => [e.sha256, e]));
    for (const e of live.filter(inRange)) {
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
    const days = opts.fromMs === undefined && opts.toMs === undefined ? null : daysBetween(from, Math.min(to, Date.now() + 86_400_000));
    for (const rel of await filesOf(opts.dir, cameraId, days)) {
      if (!byPath.has(rel)) findings.push({ kind: 'unexpected', cameraId, seq: null, path: rel, message: 'file is not in the index' });
    }
  }
  const recovered = perCamera.flatMap(({ entries }) =>
    entries
      .filter((e) => e.kind === 'segment' && e.detail.recovered === true)
      .map((e) => ({ cameraId: e.cameraId, seq: e.seq, path: e.path })),
  );
  return { ok: findings.length === 0, cameras: cameras.length, segments: toCheck.length, bytes: total, findings, recovered };
}

async function checkCheckpoints(opts: VerifyOptions, cameraId: string, entries: readonly ChainEntry[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const headSeq = entries.at(-1)?.seq ?? 0;
  for (const cp of await opts.store.recordings.checkpoints(cameraId)) {
    const base = { cameraId, seq: cp.seq, path: null };
    if (!opts.signer.verify(cp)) {
      findings.push({ ...base, kind: 'checkpoint_invalid', message: `checkpoint of ${cp.signedAt} has a bad signature` });
    } else if (cp.seq > headSeq) {
      findings.push({
        ...base,
        kind: 'truncated',
        message: `the chain ends at entry ${headSeq}, but a checkpoint signed ${cp.signedAt} covers entry ${cp.seq}`,
      });
    } else if (bySeq.get(cp.seq)?.entryHash !== cp.headHash) {
      findings.push({ ...base, kind: 'chain_broken', message: `entry ${cp.seq} differs from the one signed at ${cp.signedAt}` });
    }
  }
  return findings;
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
