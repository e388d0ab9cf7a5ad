/**
 * Offline check of an export: the clip against the manifest, the manifest against its
 * signature, the signer against the keys the caller trusts. Needs no gateway and no store.
 * A signature can only say that *something* in the manifest changed; the clip's own
 * facts (name, size, hash) are compared one by one, so those are named.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { keyFingerprint, publicKeyFromBase64, verifySignature } from '../recording/index.js';
import { MANIFEST_FORMAT, signedPayload, type ExportManifest } from './manifest.js';

export type ExportFindingKind = 'malformed' | 'clip_changed' | 'field_changed' | 'signature_invalid' | 'key_mismatch' | 'untrusted_key';

export interface ExportFinding {
  kind: ExportFindingKind;
  /** The manifest field concerned, where it can be named. */
  field?: string;
  message: string;
}

export interface ExportVerification {
  ok: boolean;
  clip: string;
  manifest: string;
  fingerprint: string | null;
  /** Whether the signer's fingerprint is among the trusted ones (null: none given). */
  trusted: boolean | null;
  findings: ExportFinding[];
}

export interface ClipFacts {
  name: string;
  bytes: number;
  sha256: string;
}

export function clipFacts(path: string): ClipFacts {
  const data = readFileSync(path);
  return { name: basename(path), bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Pure: the findings of a parsed manifest against the clip's facts and the trusted fingerprints. */
export function checkExport(
  manifest: unknown,
  clip: ClipFacts,
  trusted: readonly string[],
): { findings: ExportFinding[]; fingerprint: string | null } {
  const m = manifest as Partial<ExportManifest> | null;
  if (m === null || typeof m !== 'object' || m.format !== MANIFEST_FORMAT || typeof m.clip !== 'object' || typeof m.signer !== 'object') {
    return { findings: [{ kind: 'malformed', message: `not an export manifest (format ${MANIFEST_FORMAT})` }], fingerprint: null };
  }
  const findings: ExportFinding[] = [];
  const signed = m.clip;
  if (signed.sha256 !== clip.sha256) {
    findings.push({
      kind: 'clip_changed',
      field: 'clip.sha256',
      message: `clip changed: its SHA-256 is ${clip.sha256}, the manifest says ${String(signed.sha256)}`,
    });
  }
  if (signed.bytes !== clip.bytes) {
    findings.push({
      kind: 'field_changed',
      field: 'clip.bytes',
      message: `clip.bytes: the manifest says ${String(signed.bytes)} bytes, the clip has ${clip.bytes}`,
    });
  }
  if (signed.file !== clip.name) {
    findings.push({
      kind: 'field_changed',
      field: 'clip.file',
      message: `clip.file: the manifest names ${String(signed.file)}, the clip is ${clip.name}`,
    });
  }
  let fingerprint: string | null = null;
  try {
    const key = publicKeyFromBase64(String(m.signer.publicKey));
    fingerprint = keyFingerprint(key);
    if (fingerprint !== m.signer.fingerprint) {
      findings.push({
        kind: 'key_mismatch',
        field: 'signer.fingerprint',
        message: `signer.fingerprint ${String(m.signer.fingerprint)} is not that of the manifest's public key (${fingerprint})`,
      });
    }
    if (!verifySignature(signedPayload(m as ExportManifest), key, String(m.signature))) {
      findings.push({
        kind: 'signature_invalid',
        field: 'signature',
        message: 'signature invalid: a manifest field was changed after signing (or the signature was)',
      });
    }
  } catch {
    findings.push({
      kind: 'malformed',
      field: 'signer.publicKey',
      message: 'signer.publicKey is not an Ed25519 public key (base64 SPKI DER)',
    });
  }
  if (fingerprint !== null && trusted.length > 0 && !trusted.includes(fingerprint)) {
    findings.push({
      kind: 'untrusted_key',
      field: 'signer',
      message: `signed by ${fingerprint}, which is not among the trusted keys (${trusted.join(', ')})`,
    });
  }
  return { findings, fingerprint };
}

/** Reads the two files and checks them. */
export function verifyExport(clipPath: string, manifestPath: string, trusted: readonly string[] = []): ExportVerification {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    manifest = null;
    if ((err as NodeJS.ErrnoException).code !== undefined) throw err;
  }
  const { findings, fingerprint } = checkExport(manifest, clipFacts(clipPath), trusted);
  return {
    ok: findings.length === 0,
    clip: clipPath,
    manifest: manifestPath,
    fingerprint,
    trusted: trusted.length === 0 || fingerprint === null ? null : trusted.includes(fingerprint),
    findings,
  };
}
