import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../../src/access/passwords.js';

function refusal(password: unknown, username: string, mode: 'development' | 'production'): string {
  try {
    checkPasswordPolicy(password, username, mode);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
}

describe('password policy', () => {
  it.each([
    ['', 'production', /it is missing/],
    ['short-pw-11', 'production', /at least 12 characters long in production/],
    ['short-7', 'development', /at least 8 characters long in development/],
    ['my-LiWei-password', 'production', /must not contain the username/],
    ['aaaaaaaaaaaaaaaa', 'production', /at least 4 different characters/],
    ['x'.repeat(257), 'production', /at most 256/],
  ] as const)('refuses %j in %s mode, naming the rule', (password, mode, rule) => {
    const message = refusal(password, 'liwei', mode);
    expect(message).toMatch(rule);
    if (password.length > 0) expect(message).not.toContain(password);
  });

  it('accepts a passphrase', () => {
    expect(refusal('correct horse battery', 'liwei', 'production')).toBe('accepted');
    expect(refusal('8 chars!', 'liwei', 'development')).toBe('accepted');
    // Counted in characters, not bytes: 12 Chinese characters are 12.
    expect(refusal('天下大势分久必合合久必分', 'liwei', 'production')).toBe('accepted');
  });
});

describe('password hashing', () => {
  it('hashes with argon2id and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(hash, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse batterz')).toBe(false);
    expect(await verifyPassword(null, 'anything')).toBe(false);
    expect(await verifyPassword('not a hash', 'anything')).toBe(false);
  });
});
