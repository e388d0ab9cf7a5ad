export { resolveSecretKey } from './secretKey.js';
export { setUpAdminToken, AdminTokenVerifier, deliverGeneratedToken, type AdminTokenSetup } from './adminToken.js';
export { ensurePrivateDir, ensurePrivateFile } from './privatePaths.js';
