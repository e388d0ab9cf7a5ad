/** Four eyes on changes that weaken protection (issue 12): pending changes, their rules, the config guard. */
export {
  PendingChanges,
  CONFIG_FILE_PROPOSER,
  DEFAULT_PENDING_DAYS,
  type ChangeApplier,
  type Proposal,
  type PendingChangesOptions,
} from './pendingChanges.js';
export { masksWeaken, uncoveredMasks, retentionWeakens, profileWeakens, newPushTargets } from './weakening.js';
export {
  guardConfig,
  judgeConfig,
  approvedValuesOf,
  registerConfigAppliers,
  pushTargetDigest,
  APPROVED_CONFIG_SETTING,
  DEFAULT_RETENTION,
  type ApprovedConfig,
  type ConfigVerdict,
} from './configGuard.js';
export { FourEyes, type MaskedCameras, type LiftableHolds } from './fourEyes.js';
