export {
  RecordingSystem,
  startRecording,
  recordingsDir,
  retentionPolicy,
  PUBLIC_KEY_SETTING,
  type RecordingEvents,
  type RecordingSystemOptions,
} from './system.js';
export { Recorder, type RecorderOptions, type IngestChange } from './recorder.js';
export { ChainLedger, FencedWriteError, type ChainGuard } from './ledger.js';
export {
  ChainSigner,
  signingKeyPath,
  keyFingerprint,
  checkpointHash,
  checkpointMessage,
  publicKeyBase64,
  publicKeyFromBase64,
  verifySignature,
  GENESIS_CHECKPOINT,
} from './signing.js';
export { buildKeyRing, rotationStatement, parseFingerprint, type KeyRing } from './trust.js';
export { gatewayKeyRing } from './keyRing.js';
export { keyRegistration, registerNodeKey, type KeyRegistration } from './nodeKeys.js';
export { WitnessDir, readWitnesses, type CheckpointWitness, type WitnessedCheckpoint } from './witness.js';
export { RetentionSweeper, type SweepResult, type SweeperOptions } from './sweeper.js';
export { HolderSweep, filesToRemove, segmentFile, type HolderSweepOptions, type HolderSweepResult } from './holderSweep.js';
export {
  retentionVerdict,
  holdsCovering,
  segmentRetentionDays,
  writtenRetention,
  type RetentionPolicy,
  type RetentionRule,
  type RetentionVerdict,
} from './retention.js';
export { DiskMonitor, type DiskStatus } from './disk.js';
export { EvidenceHolds, parseRange, parseTime, requireCameraOrFootage, view as holdView } from './holds.js';
export {
  verifyRecordings,
  type Finding,
  type FindingKind,
  type RecoveredSegment,
  type VerifyOptions,
  type VerifyReport,
} from './verify.js';
export { hlsPlaylist } from './playlist.js';
export { entryHash, checkChain, nextEntry, GENESIS_HASH } from './chain.js';
export { segmentRelPath, DAY_MS } from './layout.js';
export { sha256File, sha256Stream } from './segmentFile.js';
export { ClockGuard, CLOCK_JUMP, type ClockGuardOptions, type ClockVerdict, type ClockSyncState } from './clockGuard.js';
export { rotateSigningKey } from './rotation.js';
export { signAuditHead, verifyAuditLog, type AuditLogVerification } from './auditCheckpoints.js';
export {
  segmentPlace,
  unreachableSpans,
  recordingUnreachable,
  type HoldingNode,
  type SegmentPlace,
  type UnreachableSpan,
} from './location.js';
