import type { ChainProblemKind } from './chain.js';

export type FindingKind =
  | ChainProblemKind
  | 'modified'
  | 'missing'
  | 'unexpected'
  | 'checkpoint_invalid'
  | 'truncated'
  /** A segment row marked deleted with no deletion entry in the chain. */
  | 'deleted_unrecorded'
  /** A deletion entry that names no earlier segment of its camera, or one already deleted. */
  | 'deletion_invalid'
  /** A deletion before the segment's retention had passed. */
  | 'deletion_unlawful'
  /** A chain older than one checkpoint interval with no checkpoint at all. */
  | 'checkpoint_missing'
  /** Entries older than one checkpoint interval that no checkpoint covers. */
  | 'head_unsigned'
  /** A checkpoint that does not commit to the one before it (one was deleted or inserted). */
  | 'checkpoint_chain_broken'
  /** Signed by a key that is neither pinned nor reached from a pinned key by rotation. */
  | 'untrusted_key'
  | 'key_rotation_invalid'
  /** An entry or checkpoint naming a signing key that is not in the registry of the nodes' keys. */
  | 'unregistered_key'
  /** An entry or checkpoint whose key is registered to another node than the one it names, or that names none after entries that did. */
  | 'key_mismatch'
  /** The first place the data directory differs from a witness copy. */
  | 'witness_divergence'
  /** Cluster mode: a segment held by a node that cannot be reached now (not missing, not modified: not checked). */
  | 'unreachable';

export interface Finding {
  kind: FindingKind;
  cameraId: string;
  /** The chain entry concerned, when there is one. */
  seq: number | null;
  /** File relative to the recordings directory, when one is concerned. */
  path: string | null;
  message: string;
}
