import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * What the gateway keeps for itself (footage, keys, database) is readable by its own user
 * only. Modes are set explicitly on what it creates, so the result does not depend on the
 * umask it was started under; what already exists is the operator's and only warned about.
 */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

function warnIfOpen(path: string, what: string, logger: Logger): void {
  const stat = statSync(path);
  if ((stat.mode & 0o077) === 0) return;
  const [key, fix] = stat.isDirectory() ? ['dir', 'chmod 700'] : ['file', 'chmod 600'];
  logger.warn(
    { [key]: path, mode: octal(stat.mode), hint: `${fix} ${path} (the gateway changes the mode only of what it creates)` },
    `${what} is readable by other users`,
  );
}

/**
 * Creates `dir` and its missing parents 0700, or warns when the existing `dir` is open to
 * group or others. `what` names it in the warning (e.g. "data directory").
 */
export function ensurePrivateDir(dir: string, what: string, logger: Logger): void {
  const target = resolve(dir);
  let first: string | undefined;
  try {
    first = mkdirSync(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (err) {
    throw new GatewayError('CONFIG_INVALID', `cannot create the ${what} ${target}: ${(err as Error).message}`, {
      hint: 'Point it (dataDir / PSVGW_DATA_DIR, recording.dir, store.sqlitePath) at a place the gateway user may write.',
      cause: err,
    });
  }
  if (first === undefined) {
    warnIfOpen(target, what, logger);
    return;
  }
  // mkdir's mode is reduced by the umask: set it on every directory made now.
  for (let p = target; ; p = dirname(p)) {
    chmodSync(p, PRIVATE_DIR_MODE);
    if (p === resolve(first) || p === dirname(p)) break;
  }
}

/** Creates an empty `file` 0600 (its missing directories 0700), or warns when the existing one is open to others. */
export function ensurePrivateFile(file: string, what: string, logger: Logger): void {
  ensurePrivateDir(dirname(resolve(file)), `directory of the ${what}`, logger);
  let fd: number;
  try {
    fd = openSync(file, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    warnIfOpen(file, what, logger);
    return;
  }
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Writes `content` to `file` (replacing it), mode 0600 whatever the umask or the old file's mode. */
export function writePrivateFile(file: string, content: string): void {
  const fd = openSync(file, 'w', PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}
