/**
 * Types and schemas that several modules share. This module imports nothing of the
 * gateway's own but the shared kernel (errors), so every other module may depend on it
 * without creating a cycle.
 */
export type { AuditEntry, CameraCredentials, CameraRecord, CameraView } from './camera.js';
export { DEMO_SOURCE_URL, isDemoSource } from './camera.js';
export { SITE_TYPES, SITE_TYPE_INFO, isSiteType, type SiteType, type SiteTypeInfo } from './siteTypes.js';
export {
  MASK_MODES,
  MAX_MASKS,
  MAX_POLYGON_POINTS,
  maskListSchema,
  validateMasks,
  polygonSelfIntersects,
  type Mask,
  type MaskMode,
} from './masks.js';
export {
  SHARED_ENCODER_LIMITS,
  X264_PRESETS,
  sharedEncoderFields,
  sharedEncoderOverrideSchema,
  withEncoderOverride,
  overrideKey,
  type SharedEncoderOverride,
} from './encoderSettings.js';
export type { OnvifDeviceRecord } from './onvif.js';
export type { PtzAction, PtzCapability, PtzOutcome } from './ptz.js';
export type { ChainEntry, ChainEntryKind, Checkpoint, EvidenceHold, KeyRotation, RecordingGap, RegisteredKey } from './recordings.js';
export { ROLES, isRole, type Principal, type Role } from './access.js';
export {
  ACCESS_DOCUMENT_FIELDS,
  ACCESS_REQUEST_KINDS,
  ACCESS_REQUEST_STATES,
  type AccessDocumentField,
  type AccessDocuments,
  type AccessRequest,
  type AccessRequestKind,
  type AccessRequestState,
  type AccessStaff,
} from './accessRequests.js';
export {
  GATEWAY_RECORDER,
  REGISTER_METHODS,
  type NewRegisterEntry,
  type RegisterEntry,
  type RegisterMethod,
  type RegisterRetriever,
} from './accessRegister.js';
export { EXPORT_JOB_STATES, type ExportJob, type ExportJobState } from './exports.js';
export {
  PENDING_CHANGE_KINDS,
  PENDING_CHANGE_STATES,
  type PendingChange,
  type PendingChangeKind,
  type PendingChangeState,
} from './pendingChanges.js';
export {
  PUBLIC_REQUEST_CATEGORIES,
  PUBLIC_REQUEST_DECISIONS,
  PUBLIC_REQUEST_RESULTS,
  PUBLIC_REQUEST_STATES,
  maskDocumentNumber,
  maskNumber,
  type PublicApplicant,
  type PublicRequest,
  type PublicRequestCategory,
  type PublicRequestDecision,
  type PublicRequestResult,
  type PublicRequestState,
} from './publicRequests.js';
export {
  DESENSITIZE_DEFAULTS,
  DESENSITIZE_FAIL_MODES,
  DESENSITIZE_LIMITS,
  desensitizeSchema,
  desensitizeWeakens,
  desensitizeWithDefaults,
  type DesensitizeFailMode,
  type DesensitizeSetting,
} from './desensitize.js';
