export {
  CameraRegistry,
  toView,
  type CameraEvents,
  type CameraRegistryDeps,
  type CameraWriteOptions,
  type SiteGuardVerdict,
} from './registry.js';
export { cameraCreateSchema, cameraPatchSchema, parseCameraInput, type CameraCreateInput, type CameraPatchInput } from './cameraInput.js';
export { CredentialBox, deriveKey, KEY_PURPOSES, TextBox } from './credentialBox.js';
export {
  CAMERA_TYPE_CODES,
  GB_ID_MAX_SERIAL,
  PROVINCE_CODES,
  formatGbId,
  gbIdPrefix,
  nextGbId,
  parseGbId,
  validateGbId,
  type GbIdParseResult,
  type GbIdParts,
  type GbIdPrefix,
} from './gbId.js';
export { normalizeRtspUrl, withCredentials, type NormalizedRtspUrl } from './rtspUrl.js';
export { allCameras, redactedView, restoreRedactedTargets } from './listing.js';
