import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SettingsRepository } from '../store/index.js';
import { ensurePrivateDir, writePrivateFile } from './privatePaths.js';

const SETTING = 'admin_token_sha256';

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export interface AdminTokenSetup {
  /** The token in clear, only when it was generated now and must be shown once. */
  generated: string | null;
}

/**
 * The administrator's bearer token. Only its SHA-256 is stored. PSVGW_ADMIN_TOKEN, when
 * set, is the token (and replaces a stored one); otherwise the first start generates one
 * and the caller prints it once. Production never generates: the token must be given.
 */
export async function setUpAdminToken(
  settings: SettingsRepository,
  fromEnv: string | undefined,
  mode: 'development' | 'production',
): Promise<AdminTokenSetup> {
  if (fromEnv) {
    await settings.set(SETTING, digest(fromEnv).toString('hex'));
    return { generated: null };
  }
  if (await settings.get(SETTING)) return { generated: null };
  if (mode === 'production') {
    throw new GatewayError('ADMIN_TOKEN_MISSING', 'PSVGW_ADMIN_TOKEN is not set, and production mode has no default credentials.', {
      hint: 'Generate one with `openssl rand -base64 32` and set PSVGW_ADMIN_TOKEN.',
    });
  }
  const token = randomBytes(24).toString('base64url');
  await settings.set(SETTING, digest(token).toString('hex'));
  return { generated: token };
}

/**
 * The SHA-256 (hex) of the admin token, as set up by setUpAdminToken: it becomes the
 * bootstrap admin's API key. A data directory from before users existed stored only this
 * setting, so its token keeps working unchanged.
 */
export async function adminTokenDigest(settings: SettingsRepository): Promise<string> {
  const hex = await settings.get(SETTING);
  if (!hex) throw new Error('the admin token digest is missing: setUpAdminToken must run first');
  return hex;
}

/**
 * Hands a token generated in development mode to the person starting the gateway, never
 * to the log: printed once when stderr is a terminal; otherwise (a service, a container,
 * output piped to a log collector) written to `<dataDir>/keys/admin.token` (0600), and
 * only that file's path is logged.
 */
export function deliverGeneratedToken(opts: {
  token: string;
  dataDir: string;
  terminal: NodeJS.WritableStream & { isTTY?: boolean };
  logger: Logger;
}): void {
  if (opts.terminal.isTTY === true) {
    opts.terminal.write(`\n  Admin API token (shown only now; set PSVGW_ADMIN_TOKEN to choose your own):\n\n    ${opts.token}\n\n`);
    return;
  }
  const dir = join(opts.dataDir, 'keys');
  ensurePrivateDir(dir, 'keys directory', opts.logger);
  const file = join(dir, 'admin.token');
  writePrivateFile(file, `${opts.token}\n`);
  opts.logger.warn(
    { file },
    'development mode: generated an admin token into this file (output is not a terminal); read it, then delete the file, or set PSVGW_ADMIN_TOKEN',
  );
}
