import { hash, verify } from '@node-rs/argon2';
import { GatewayError } from '../errors.js';

/** Longest password accepted: argon2 takes any length, but a megabyte "password" is an attack on the CPU. */
const MAX_LENGTH = 256;
const MIN_LENGTH = { production: 12, development: 8 } as const;

/**
 * The password rules; a refusal names the rule broken and how to meet it. The password
 * itself never appears in the message.
 */
export function checkPasswordPolicy(password: unknown, username: string, mode: 'development' | 'production'): string {
  const refuse = (rule: string, hint: string) =>
    new GatewayError('VALIDATION_FAILED', `The password is refused: ${rule}.`, { hint, details: { field: 'password', rule } });
  if (typeof password !== 'string' || password.length === 0) {
    throw refuse('it is missing', 'Give a password (on stdin or with --password-file for the CLI).');
  }
  const min = MIN_LENGTH[mode];
  if ([...password].length < min) {
    throw refuse(`it must be at least ${min} characters long in ${mode} mode`, 'Use a longer passphrase, e.g. four unrelated words.');
  }
  if (password.length > MAX_LENGTH) throw refuse(`it must be at most ${MAX_LENGTH} characters long`, 'Use a shorter passphrase.');
  if (username !== '' && password.toLowerCase().includes(username.toLowerCase())) {
    throw refuse('it must not contain the username', 'Choose a password that has nothing to do with the username.');
  }
  if (new Set(password).size < 4) {
    throw refuse('it must have at least 4 different characters', 'Choose a password that is not one character repeated.');
  }
  return password;
}

/** argon2id (the library's default algorithm) with its default cost. */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** A hash no password matches, verified when the user does not exist so that a login takes as long either way. */
let decoy: Promise<string> | null = null;

/** True when the password matches; a missing hash (no such user, or no password) still costs one verification. */
export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (storedHash === null) {
    decoy ??= hash('decoy password that nobody has');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(storedHash, password).catch(() => false);
}
