import { afterEach, describe, expect, it } from 'vitest';
import { SessionTokens } from '../../../src/access/sessionTokens.js';
import { CredentialBox } from '../../../src/cameras/index.js';
import { SqliteStore } from '../../../src/store/index.js';

const box = new CredentialBox(Buffer.alloc(32, 7));
const stores: SqliteStore[] = [];

async function setup(now: { ms: number }) {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  stores.push(store);
  const tokens = new SessionTokens(store.signingKeys, box, { sessionSeconds: 60, signingKeyRotationSeconds: 3600 }, () => now.ms);
  await tokens.load();
  return { store, tokens };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe('session tokens', () => {
  it('verify until they expire', async () => {
    const now = { ms: Date.parse('2026-12-01T00:00:00Z') };
    const { tokens } = await setup(now);
    const { token, expiresAt } = await tokens.issue({ userId: 'u1', sessionId: 's1' });
    expect(expiresAt).toBe('2026-12-01T00:01:00.000Z');
    expect(await tokens.verify(token)).toEqual({ userId: 'u1', sessionId: 's1' });
    now.ms += 61_000;
    expect(await tokens.verify(token)).toEqual({ refused: 'expired' });
  });

  it('rotate the signing key, keep the old one until its tokens have expired, then drop it', async () => {
    const now = { ms: Date.parse('2026-12-01T00:00:00Z') };
    const { store, tokens } = await setup(now);
    now.ms += 3600_000 - 30_000;
    const old = await tokens.issue({ userId: 'u1', sessionId: 's1' });
    now.ms += 30_000; // the key is now due for rotation: the next token gets a new one
    const fresh = await tokens.issue({ userId: 'u1', sessionId: 's2' });
    const kid = (t: string) => (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(kid(fresh.token)).not.toBe(kid(old.token));
    expect((await store.signingKeys.list()).length).toBe(2);
    expect(await tokens.verify(old.token)).toEqual({ userId: 'u1', sessionId: 's1' });
    now.ms += 62_000;
    await tokens.issue({ userId: 'u1', sessionId: 's3' });
    expect((await store.signingKeys.list()).map((k) => k.kid)).toEqual([kid(fresh.token)]);
    // Keys are stored sealed, never in clear.
    expect((await store.signingKeys.list())[0]!.sealed).toMatch(/^v1\./);
  });

  it('a restart keeps verifying the tokens it issued', async () => {
    const now = { ms: Date.now() };
    const { store, tokens } = await setup(now);
    const { token } = await tokens.issue({ userId: 'u1', sessionId: 's1' });
    const again = new SessionTokens(store.signingKeys, box, { sessionSeconds: 60, signingKeyRotationSeconds: 3600 }, () => now.ms);
    await again.load();
    expect(await again.verify(token)).toEqual({ userId: 'u1', sessionId: 's1' });
    const otherBox = new SessionTokens(store.signingKeys, new CredentialBox(Buffer.alloc(32, 8)), {
      sessionSeconds: 60,
      signingKeyRotationSeconds: 3600,
    });
    await expect(otherBox.load()).rejects.toThrow(/different key/);
  });
});
