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
export { ChainLedger } from './ledger.js';
export { ChainSigner, signingKeyPath } from './signing.js';
export { RetentionSweeper, type SweepResult, type SweeperOptions } from './sweeper.js';
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
export { verifyRecordings, type Finding, type FindingKind, type RecoveredSegment, type VerifyReport } from './verify.js';
export { hlsPlaylist } from './playlist.js';
export { entryHash, checkChain, nextEntry, GENESIS_HASH } from './chain.js';
export { segmentRelPath, DAY_MS } from './layout.js';
export { sha256File } from './segmentFile.js';
export { ClockGuard, CLOCK_JUMP, type ClockGuardOptions, type ClockVerdict, type ClockSyncState } from './clockGuard.js';
