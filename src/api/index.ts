export { createApiApp, type ApiDeps } from './server.js';
