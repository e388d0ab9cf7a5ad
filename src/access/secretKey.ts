import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import { ensurePrivateDir } from './privatePaths.js';

/**
 * The gateway's master secret (PSVGW_SECRET_KEY): camera credentials are encrypted and
 * playback tokens signed with keys derived from it. Production requires it from the
 * environment; development generates one into the data directory (mode 0600) once.
 */
export function resolveSecretKey(opts: {
  fromEnv: string | undefined;
  mode: 'development' | 'production';
  dataDir: string;
  logger: Logger;
}): string {
  if (opts.fromEnv) return opts.fromEnv;
  if (opts.mode === 'production') {
    throw new GatewayError('SECRET_KEY_MISSING', 'PSVGW_SECRET_KEY is not set, and production mode has no default secrets.', {
      hint: 'Generate one with `openssl rand -hex 32` and set PSVGW_SECRET_KEY; keep it: camera credentials cannot be decrypted without it.',
    });
  }
  const file = join(opts.dataDir, 'keys', 'secret.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  ensurePrivateDir(dirname(file), 'keys directory', opts.logger);
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  opts.logger.warn({ file }, 'development mode: generated a secret key in the data directory; set PSVGW_SECRET_KEY in production');
  return key;
}
