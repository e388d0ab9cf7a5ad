export { resolveSecretKey } from './secretKey.js';
export { setUpAdminToken, AdminTokenVerifier, type AdminTokenSetup } from './adminToken.js';
