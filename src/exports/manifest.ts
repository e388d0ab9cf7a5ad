/**
 * The signed manifest of an export: what the clip is (name, size, SHA-256), what it was cut
 * from (the request, camera, range, each source segment and its place in the recording
 * chain), the watermark text, and an Ed25519 signature by the gateway's recording key.
 *
 * The signature covers the canonical JSON (keys sorted at every depth, no whitespace) of
 * the manifest without its `signature` field: exactly what `jq -jcS 'del(.signature)'`
 * prints, so the openssl steps in the README need nothing but jq, base64 and openssl.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../hashChain.js';

export const MANIFEST_FORMAT = 'psvgw-export-manifest-v1';

export interface ManifestSegment {
  /** Relative to the recordings directory. */
  path: string;
  sha256: string;
  bytes: number;
  /** Its link in the camera's recording chain. */
  chainSeq: number;
  entryHash: string;
  start: string;
  end: string;
}

export interface ExportManifest {
  format: typeof MANIFEST_FORMAT;
  clip: { file: string; bytes: number; sha256: string };
  request: {
    id: string;
    kind: string;
    /** Name and unit of each officer (credential numbers stay in the gateway's register). */
    staff: Array<{ name: string; unit: string }>;
    purpose: string;
    destination: string;
    approvedBy: string | null;
    approvedAt: string | null;
  };
  cameraId: string;
  range: { from: string; to: string };
  segments: ManifestSegment[];
  exportedAt: string;
  exportedBy: string;
  watermark: string;
  signer: { fingerprint: string; publicKey: string };
  /** Base64 Ed25519 signature of `signedPayload(manifest)`. */
  signature: string;
}

export type UnsignedManifest = Omit<ExportManifest, 'signature'>;

/** The bytes the signature covers. */
export function signedPayload(manifest: UnsignedManifest | ExportManifest): Buffer {
  const { signature: _ignored, ...rest } = manifest as ExportManifest;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/** What signs a manifest: the gateway's recording key (see recording/signing.ts ChainSigner). */
export interface ManifestSigner {
  readonly fingerprint: string;
  readonly publicKey: KeyObject;
  signBytes(message: Buffer): string;
}

export function signManifest(unsigned: UnsignedManifest, signer: ManifestSigner): ExportManifest {
  return { ...unsigned, signature: signer.signBytes(signedPayload(unsigned)) };
}

/** The manifest file as written: pretty JSON (the signature does not depend on the layout). */
export function manifestText(manifest: ExportManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
