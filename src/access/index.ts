export { resolveSecretKey } from './secretKey.js';
export { setUpAdminToken, adminTokenDigest, deliverGeneratedToken, type AdminTokenSetup } from './adminToken.js';
export { ensurePrivateDir, ensurePrivateFile } from './privatePaths.js';
export { LoginLockout, type LockoutSettings } from './lockout.js';
export { SessionTokens, type TokenTiming } from './sessionTokens.js';
export { Logins, type Authenticated, type SessionGrant } from './logins.js';
export { UserAccounts, userView, BOOTSTRAP_ADMIN } from './users.js';
export { checkPasswordPolicy } from './passwords.js';
export {
  ACTIONS,
  FOOTAGE_ACTIONS,
  KIND_OF_ACTION,
  coveringAmong,
  decide,
  fourEyesConflict,
  isAction,
  type Action,
  type CoveringCandidate,
  type Decision,
  type DecidedRequest,
  type FootageAction,
  type PolicyContext,
} from './policy.js';
export { GATEWAY_MIN_STAFF, requiredDocumentFields, requiredStaff, validateAccessRequest, type MissingField } from './requests.js';
export { AccessRequestService, DEFAULT_WINDOW_MS, MAX_WINDOW_MS, candidateOf, type CoverQuery } from './requestsService.js';
export { ActiveRequests } from './activeRequests.js';
export {
  AccessRegister,
  type AccessRegisterOptions,
  type LivePlay,
  type OngoingEntry,
  type OpenRetrieval,
  type RetrievalRecord,
} from './accessRegister.js';
export { PublicRequestService, type TextSealer } from './publicRequests.js';
export { CATEGORY_ARTICLES, validateDecision, validatePublicRequest, validateResult } from './publicRequestInput.js';
