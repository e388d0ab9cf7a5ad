import { mkdir, open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checkpoint } from '../domain/index.js';
import { GatewayError } from '../errors.js';

/** A checkpoint as witnesses keep it: with the signing key's public half, so the copy proves itself. */
export interface WitnessedCheckpoint extends Checkpoint {
  /** SPKI DER of the signing key, base64. */
  publicKey: string;
}

/** Somewhere off the data volume that gets a copy of every signed checkpoint. */
export interface CheckpointWitness {
  readonly name: string;
  record(cp: WitnessedCheckpoint): Promise<void>;
}

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Appends each checkpoint as one JSON line to `<dir>/<cameraId>.jsonl` and fsyncs it
 * before the next. Meant for a directory on another volume (`recording.witnessDir`) that
 * whoever can write the data directory cannot rewrite.
 */
export class WitnessDir implements CheckpointWitness {
  readonly name: string;

  constructor(private readonly dir: string) {
    this.name = `witness directory ${dir}`;
  }

  async record(cp: WitnessedCheckpoint): Promise<void> {
    if (!SAFE_NAME.test(cp.cameraId)) throw new Error(`camera ID ${JSON.stringify(cp.cameraId)} cannot name a witness file`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = await open(join(this.dir, `${cp.cameraId}.jsonl`), 'a', 0o600);
    try {
      await file.appendFile(`${JSON.stringify(cp)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  }
}

/**
 * The checkpoints of a witness file, or of every `*.jsonl` file of a witness directory,
 * by camera in the order written. A line that is not a checkpoint is an error naming it
 * (a witness copy must be whole to be evidence); a torn last line, as a crash mid-append
 * leaves, is skipped.
 */
export async function readWitnesses(path: string): Promise<Map<string, WitnessedCheckpoint[]>> {
  const info = await stat(path).catch((err: unknown) => {
    throw new GatewayError('CONFIG_INVALID', `cannot read the witness ${path}`, {
      hint: 'Pass --witness the directory named by recording.witnessDir, or one of its .jsonl files.',
      cause: err,
    });
  });
  const files = info.isDirectory()
    ? (await readdir(path))
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const out = new Map<string, WitnessedCheckpoint[]>();
  for (const file of files) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    for (const [i, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const cp = parseLine(line);
      if (cp === null) {
        if (i === lines.length - 1) continue;
        throw new GatewayError('CONFIG_INVALID', `${file} line ${i + 1} is not a witnessed checkpoint`, {
          hint: 'Witness files hold one JSON checkpoint per line, as the gateway appends them; restore the file from its backup.',
        });
      }
      out.set(cp.cameraId, [...(out.get(cp.cameraId) ?? []), cp]);
    }
  }
  return out;
}

function parseLine(line: string): WitnessedCheckpoint | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const str = (k: string) => typeof o[k] === 'string';
  if (!str('cameraId') || typeof o.seq !== 'number' || !str('headHash') || !str('signedAt') || !str('signature') || !str('publicKey'))
    return null;
  return {
    cameraId: o.cameraId as string,
    seq: o.seq,
    headHash: o.headHash as string,
    signedAt: o.signedAt as string,
    version: o.version === 2 ? 2 : 1,
    prevHash: typeof o.prevHash === 'string' ? o.prevHash : null,
    keyFingerprint: typeof o.keyFingerprint === 'string' ? o.keyFingerprint : null,
    signature: o.signature as string,
    publicKey: o.publicKey as string,
  };
}
