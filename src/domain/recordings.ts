/** The recording index as every module sees it: chain links, signed checkpoints, gaps, evidence holds. */

export type ChainEntryKind = 'segment' | 'deletion';

/** One link of a camera's chain. Everything but `deletedAt` is covered by `entryHash`. */
export interface ChainEntry {
  cameraId: string;
  /** 1, 2, 3 … per camera, without holes. */
  seq: number;
  kind: ChainEntryKind;
  /** Segment file relative to the recordings directory (for a deletion: the file deleted). */
  path: string;
  /** Wall-clock ms of the first and last instant the segment covers. */
  startMs: number;
  endMs: number;
  bytes: number;
  /** Hex SHA-256 of the segment file (for a deletion: of the file deleted). */
  sha256: string;
  /** Cut short (the ingest died or the disk filled mid-segment). */
  partial: boolean;
  /** Kind-specific facts, e.g. `{deletedSeq, reason}` of a deletion. */
  detail: Record<string, unknown>;
  prevHash: string;
  entryHash: string;
  /** ISO time the entry was appended. */
  at: string;
  /** ISO time the segment was swept (set on the segment entry; a deletion entry records it in the chain). */
  deletedAt: string | null;
  /**
   * The node that wrote the entry and the fingerprint of its signing key (in the entry hash
   * when set). On a segment entry the node is also where the file lies (its recorder wrote it). Absent or null on entries from before per-node keys: the installation key's.
   */
  node?: string | null;
  keyFingerprint?: string | null;
}

export interface Checkpoint {
  cameraId: string;
  seq: number;
  headHash: string;
  signedAt: string;
  /** 1: older, unchained; 2: also signs `prevHash` and `keyFingerprint`. */
  version: 1 | 2;
  /** v2: `checkpointHash` of the camera's previous checkpoint (zeros for the first); null for v1. */
  prevHash: string | null;
  /** v2: fingerprint of the signing key; null for v1. */
  keyFingerprint: string | null;
  /** Base64 Ed25519 signature of `checkpointMessage(...)`. */
  signature: string;
  /** The node whose registered key signed it (null or absent: from before per-node keys). */
  node?: string | null;
}

/** A node's signing key in the registry (migration 27): the keys whose signatures verify accepts. */
export interface RegisteredKey {
  /** `keyFingerprint` of the public key: SHA256: and unpadded base64 of the SPKI DER's SHA-256. */
  fingerprint: string;
  node: string;
  /** PEM of the public key. */
  publicKeyPem: string;
  createdAt: string;
  /** Set by `psvgw keys retire` or a rotation: the node may register another key; what it signed before still verifies. */
  retiredAt: string | null;
}

/** A signed statement by the old signing key naming its successor (`rotationMessage`). */
export interface KeyRotation {
  /** SPKI DER of the old and the new public key, base64. */
  oldPublicKey: string;
  newPublicKey: string;
  at: string;
  /** Base64 Ed25519 signature by the old key. */
  signature: string;
}

export interface RecordingGap {
  id: number;
  cameraId: string;
  startMs: number;
  /** Null while the gap is still open (nothing recorded since). */
  endMs: number | null;
  cause: string;
}

export interface EvidenceHold {
  id: number;
  cameraIds: string[];
  startMs: number;
  endMs: number;
  reason: string;
  createdBy: string;
  createdAt: string;
  liftedBy: string | null;
  liftedAt: string | null;
  liftReason: string | null;
}
