/**
 * The dossier's manifest: every file with its SHA-256 and size, the period, who made it,
 * and the signer's key; `manifest.sig` is the Ed25519 signature over the manifest's exact
 * bytes. Checking needs nothing but the archive (and, to mean anything, a pinned fingerprint).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { keyFingerprint, verifySignature } from '../recording/index.js';
import type { TarFile } from './tar.js';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const PUBLIC_KEY_FILE = 'signer.pem';
export const CHECKSUMS_FILE = 'SHA256SUMS';
export const DOSSIER_FORMAT = 'psvgw-dossier/1';

export interface ManifestFile {
  path: string;
  /** The part the file belongs to (`signer` for the public key). */
  part: string;
  sha256: string;
  bytes: number;
}

export interface DossierIdentity {
  /** gateway.name of the config. */
  name: string;
  /** gateway.regionCode (中心编码): the unit's place in the GB/T 28181 numbering. */
  regionCode: string;
  profile: string;
  version: string;
}

export interface Manifest {
  format: typeof DOSSIER_FORMAT;
  createdAt: string;
  period: { from: string; to: string };
  gateway: DossierIdentity;
  signer: { fingerprint: string; publicKeyPem: string };
  parts: Array<{ name: string; title: string }>;
  files: ManifestFile[];
}

export type DossierProblemKind = 'changed' | 'missing' | 'extra' | 'bad_signature' | 'untrusted_key' | 'malformed';

export interface DossierProblem {
  kind: DossierProblemKind;
  /** The part concerned, when there is one. */
  part: string | null;
  path: string | null;
  message: string;
}

export interface DossierVerification {
  ok: boolean;
  problems: DossierProblem[];
  /** The signer's fingerprint as the manifest states it (null: no readable manifest). */
  fingerprint: string | null;
  /** Whether the signer was checked against --trust fingerprints. */
  pinned: boolean;
  period: Manifest['period'] | null;
  gateway: DossierIdentity | null;
  parts: string[];
  files: number;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function manifestEntry(path: string, part: string, data: Buffer): ManifestFile {
  return { path, part, sha256: sha256(data), bytes: data.length };
}

/** The manifest as stored: pretty JSON, so a person can read it and sha256sum lines up with it. */
export function manifestBytes(m: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

function parseManifest(bytes: Buffer): Manifest | string {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'manifest.json is not JSON';
  }
  const m = value as Partial<Manifest>;
  if (m.format !== DOSSIER_FORMAT) return `manifest.json is not a ${DOSSIER_FORMAT} manifest`;
  if (!Array.isArray(m.files) || !Array.isArray(m.parts) || typeof m.signer?.publicKeyPem !== 'string')
    return 'manifest.json lacks its files, parts or signer';
  return m as Manifest;
}

function publicKey(pem: string): KeyObject | undefined {
  try {
    return createPublicKey(pem);
  } catch {
    return undefined;
  }
}

/** A bundle that could not be checked at all (no archive, no manifest). */
export function dossierFailure(kind: DossierProblemKind, message: string, trust: readonly string[]): DossierVerification {
  return {
    ok: false,
    problems: [{ kind, part: null, path: null, message }],
    fingerprint: null,
    pinned: trust.length > 0,
    period: null,
    gateway: null,
    parts: [],
    files: 0,
  };
}

/**
 * Checks the files of an archive against its manifest: the signature over the manifest,
 * the signer against `trust` (fingerprints; empty: not pinned), then every file's hash
 * and size, naming the part of each file that changed, is missing or was slipped in.
 */
export function checkDossier(files: readonly TarFile[], trust: readonly string[]): DossierVerification {
  const problems: DossierProblem[] = [];
  const fail = (kind: DossierProblemKind, message: string) => dossierFailure(kind, message, trust);
  const byName = new Map<string, Buffer>();
  for (const f of files) {
    if (byName.has(f.name))
      problems.push({ kind: 'extra', part: null, path: f.name, message: `${f.name} is in the archive more than once` });
    byName.set(f.name, f.data);
  }
  const raw = byName.get(MANIFEST_FILE);
  const sig = byName.get(SIGNATURE_FILE);
  if (raw === undefined) return fail('missing', 'manifest.json is missing: nothing can be checked');
  const manifest = parseManifest(raw);
  if (typeof manifest === 'string') return fail('malformed', manifest);

  const key = publicKey(manifest.signer.publicKeyPem);
  const fingerprint = key === undefined ? null : keyFingerprint(key);
  if (key === undefined || fingerprint !== manifest.signer.fingerprint) {
    problems.push({
      kind: 'bad_signature',
      part: null,
      path: MANIFEST_FILE,
      message: 'the manifest names a signer key that does not match its fingerprint',
    });
  } else if (sig === undefined) {
    problems.push({ kind: 'missing', part: null, path: SIGNATURE_FILE, message: 'manifest.sig is missing: the manifest is unsigned' });
  } else if (!verifySignature(raw, key, sig.toString('base64'))) {
    problems.push({
      kind: 'bad_signature',
      part: null,
      path: SIGNATURE_FILE,
      message: `the signature over manifest.json does not verify with ${fingerprint}`,
    });
  }
  if (trust.length > 0 && (fingerprint === null || !trust.includes(fingerprint))) {
    problems.push({
      kind: 'untrusted_key',
      part: null,
      path: null,
      message: `signed by ${fingerprint ?? 'an unreadable key'}, which is not among the trusted ${trust.join(', ')}`,
    });
  }
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const data = byName.get(f.path);
    if (data === undefined) {
      problems.push({ kind: 'missing', part: f.part, path: f.path, message: `${f.path} of part ${f.part} is missing` });
    } else if (data.length !== f.bytes || sha256(data) !== f.sha256) {
      problems.push({
        kind: 'changed',
        part: f.part,
        path: f.path,
        message: `${f.path} of part ${f.part} changed: SHA-256 ${sha256(data).slice(0, 16)}… (${data.length} bytes), manifest ${f.sha256.slice(0, 16)}… (${f.bytes} bytes)`,
      });
    }
  }
  for (const name of byName.keys()) {
    if (name === MANIFEST_FILE || name === SIGNATURE_FILE || listed.has(name)) continue;
    problems.push({ kind: 'extra', part: null, path: name, message: `${name} is not in the manifest` });
  }
  return {
    ok: problems.length === 0,
    problems,
    fingerprint: manifest.signer.fingerprint,
    pinned: trust.length > 0,
    period: manifest.period,
    gateway: manifest.gateway,
    parts: manifest.parts.map((p) => p.name),
    files: manifest.files.length,
  };
}
