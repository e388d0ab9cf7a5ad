export { resolveSecretKey } from './secretKey.js';
export { setUpAdminToken, adminTokenDigest, deliverGeneratedToken, type AdminTokenSetup } from './adminToken.js';
export { ensurePrivateDir, ensurePrivateFile } from './privatePaths.js';
export { LoginLockout, type LockoutSettings } from './lockout.js';
export { SessionTokens, type TokenTiming } from './sessionTokens.js';
export { Logins, type Authenticated, type SessionGrant } from './logins.js';
export { UserAccounts, userView, BOOTSTRAP_ADMIN } from './users.js';
export { checkPasswordPolicy } from './passwords.js';
