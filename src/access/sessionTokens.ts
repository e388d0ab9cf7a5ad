import { randomBytes, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { CredentialBox } from '../cameras/index.js';
import type { SigningKeyRepository } from '../store/index.js';

const ISSUER = 'psv-gateway';
const AUDIENCE = 'psvgw-api';
/** The only algorithm accepted: a token with `alg: none` or any other algorithm is refused by jose before its signature is looked at. */
const ALGORITHM = 'HS256';

export interface SessionClaims {
  userId: string;
  sessionId: string;
}

export interface TokenTiming {
  sessionSeconds: number;
  signingKeyRotationSeconds: number;
}

interface LoadedKey {
  kid: string;
  secret: Uint8Array;
  createdAtMs: number;
}

/**
 * Short-lived session tokens (JWT, HS256) and the keys that sign them. The newest key
 * signs; a key is replaced once older than the rotation age, and an old key stays to
 * verify until every token it signed has expired (the session lifetime after it stopped
 * signing), then it is deleted. Keys are stored sealed with a key derived from the master
 * secret (the same AES-256-GCM box as camera credentials, under its own derived key).
 */
export class SessionTokens {
  #keys: LoadedKey[] = [];

  constructor(
    private readonly repo: SigningKeyRepository,
    private readonly box: CredentialBox,
    private readonly timing: TokenTiming,
    private readonly now: () => number = Date.now,
  ) {}

  /** Loads the stored keys, dropping the expired ones, and makes sure a current one exists. */
  async load(): Promise<void> {
    this.#keys = (await this.repo.list()).map((r) => {
      const opened = this.box.open(r.sealed);
      return { kid: r.kid, secret: Buffer.from(opened.password, 'base64url'), createdAtMs: Date.parse(r.createdAt) };
    });
    await this.#rotateIfDue();
  }

  /** A token for that session, valid `sessionSeconds`; its expiry as an ISO time. */
  async issue(claims: SessionClaims): Promise<{ token: string; expiresAt: string }> {
    await this.#rotateIfDue();
    const key = this.#current();
    const nowS = Math.floor(this.now() / 1000);
    const exp = nowS + this.timing.sessionSeconds;
    const token = await new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(claims.userId)
      .setJti(randomUUID())
      .setIssuedAt(nowS)
      .setExpirationTime(exp)
      .sign(key.secret);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The claims of a valid token, or a reason it is not valid (never the token itself). */
  async verify(token: string): Promise<SessionClaims | { refused: string }> {
    const keyFor: JWTVerifyGetKey = (header) => {
      const key = this.#keys.find((k) => k.kid === header.kid);
      if (!key) throw new joseErrors.JWSSignatureVerificationFailed('unknown signing key');
      return key.secret;
    };
    try {
      const { payload } = await jwtVerify(token, keyFor, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'sid', 'exp', 'jti'],
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return { refused: 'malformed claims' };
      return { userId: payload.sub, sessionId: payload.sid };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return { refused: 'expired' };
      if (err instanceof joseErrors.JOSEError) return { refused: err.code };
      return { refused: 'malformed' };
    }
  }

  #current(): LoadedKey {
    const key = this.#keys.at(-1);
    if (key === undefined) throw new Error('no session signing key loaded (SessionTokens.load was not awaited)');
    return key;
  }

  async #rotateIfDue(): Promise<void> {
    const now = this.now();
    const newest = this.#keys.at(-1);
    if (newest === undefined || now - newest.createdAtMs >= this.timing.signingKeyRotationSeconds * 1000) {
      const secret = randomBytes(32);
      const kid = randomUUID();
      const createdAt = new Date(now).toISOString();
      await this.repo.add({ kid, sealed: this.box.seal({ username: kid, password: secret.toString('base64url') }), createdAt });
      this.#keys.push({ kid, secret, createdAtMs: Date.parse(createdAt) });
    }
    // A key stopped signing when its successor was made; its last token expires a session lifetime later.
    const keep: LoadedKey[] = [];
    for (const [i, key] of this.#keys.entries()) {
      const successor = this.#keys[i + 1];
      if (successor !== undefined && now > successor.createdAtMs + this.timing.sessionSeconds * 1000 + 1000) {
        await this.repo.remove(key.kid);
      } else {
        keep.push(key);
      }
    }
    this.#keys = keep;
  }
}
