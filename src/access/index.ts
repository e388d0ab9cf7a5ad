export { resolveSecretKey } from './secretKey.js';
export { setUpAdminToken, AdminTokenVerifier, deliverGeneratedToken, type AdminTokenSetup } from './adminToken.js';
export { ensurePrivateDir, ensurePrivateFile, writePrivateFile, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './privatePaths.js';
