import { randomUUID } from 'node:crypto';
import type { Principal } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { AuditEntry } from '../domain/index.js';
import type { Store, UserRecord } from '../store/index.js';
import { newSecret, secretDigest } from './apiKeys.js';
import type { LoginLockout } from './lockout.js';
import { verifyPassword } from './passwords.js';
import type { SessionTokens } from './sessionTokens.js';

export interface SessionGrant {
  token: string;
  expiresAt: string;
  refreshToken: string;
  refreshExpiresAt: string;
}

/** Who a bearer credential belongs to; `sessionId` when it is a session token (logout ends that session). */
export interface Authenticated {
  principal: Principal;
  sessionId?: string;
}

export interface LoginsOptions {
  store: Store;
  tokens: SessionTokens;
  lockout: LoginLockout;
  refreshSeconds: number;
  now?: () => Date;
}

/** How often an API key's last-used time is written at most. */
const TOUCH_INTERVAL_MS = 60_000;

const BAD_LOGIN = 'The username or password is wrong.';

/**
 * Logins, refresh, logout, and turning a bearer credential (session token or API key) into
 * a principal. Every login, refused or not, is audited with its source address; the
 * password never is. A refusal never says whether the user exists.
 */
export class Logins {
  readonly #o: LoginsOptions;
  readonly #now: () => Date;
  readonly #touched = new Map<string, number>();

  constructor(opts: LoginsOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => new Date());
  }

  async login(body: unknown, address: string): Promise<SessionGrant> {
    const { username, password } = (body ?? {}) as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || username === '' || typeof password !== 'string' || password === '') {
      throw new GatewayError('VALIDATION_FAILED', 'A login needs a username and a password.', {
        hint: 'POST {"username": "...", "password": "..."} as JSON.',
      });
    }
    const wait = this.#o.lockout.retryAfterSeconds(username, address);
    if (wait > 0) {
      await this.#audit(username, 'auth.login', 'refused', { sourceAddress: address, reason: 'locked', lockedSeconds: wait });
      throw locked(wait);
    }
    const user = await this.#o.store.users.byUsername(username);
    const ok = await verifyPassword(user?.passwordHash ?? null, password);
    if (!ok || !user || user.disabled) {
      const reason = !ok ? 'bad credentials' : 'user disabled';
      const lockedFor = this.#o.lockout.failed(username, address);
      await this.#audit(username, 'auth.login', 'refused', {
        sourceAddress: address,
        reason,
        ...(lockedFor > 0 ? { lockedSeconds: lockedFor } : {}),
      });
      if (lockedFor > 0) throw locked(lockedFor);
      throw new GatewayError('UNAUTHORIZED', BAD_LOGIN, {
        hint: 'Check the username and password; an administrator can reset the password.',
      });
    }
    this.#o.lockout.succeeded(username, address);
    const grant = await this.#open(user, address);
    await this.#audit(username, 'auth.login', 'ok', { sourceAddress: address });
    return grant;
  }

  /** A new session token and a new refresh token for a refresh token; the old refresh token stops working. */
  async refresh(body: unknown, address: string): Promise<SessionGrant> {
    const { refreshToken } = (body ?? {}) as { refreshToken?: unknown };
    if (typeof refreshToken !== 'string' || refreshToken === '') {
      throw new GatewayError('VALIDATION_FAILED', 'A refresh needs the refreshToken given at login.', {
        hint: 'POST {"refreshToken": "..."}.',
      });
    }
    const digest = secretDigest(refreshToken);
    const session = await this.#o.store.sessions.byRefreshDigest(digest);
    const now = this.#now();
    const user = session === undefined ? undefined : await this.#o.store.users.get(session.userId);
    if (!session || !user || user.disabled || session.revokedAt !== null || Date.parse(session.expiresAt) <= now.getTime()) {
      await this.#audit(user?.username ?? 'unknown', 'auth.refresh', 'refused', { sourceAddress: address });
      throw new GatewayError('UNAUTHORIZED', 'The refresh token is not valid (expired, used already, or the session ended).', {
        hint: 'Log in again with POST /api/v1/auth/login.',
      });
    }
    const refreshToken2 = newSecret();
    const refreshExpiresAt = new Date(now.getTime() + this.#o.refreshSeconds * 1000).toISOString();
    if (!(await this.#o.store.sessions.rotateRefresh(session.id, digest, secretDigest(refreshToken2), refreshExpiresAt))) {
      throw new GatewayError('UNAUTHORIZED', 'The refresh token was used already.', { hint: 'Log in again with POST /api/v1/auth/login.' });
    }
    const { token, expiresAt } = await this.#o.tokens.issue({ userId: user.id, sessionId: session.id });
    await this.#audit(user.username, 'auth.refresh', 'ok', { sourceAddress: address });
    return { token, expiresAt, refreshToken: refreshToken2, refreshExpiresAt };
  }

  /** Ends a session: its session tokens and its refresh token stop working at once. */
  async logout(sessionId: string | undefined, principal: Principal, address: string): Promise<void> {
    if (sessionId === undefined) {
      throw new GatewayError('VALIDATION_FAILED', 'Logout ends a login session; this call was made with an API key.', {
        hint: 'Revoke an API key with DELETE /api/v1/api-keys/:id instead.',
      });
    }
    await this.#o.store.sessions.revoke(sessionId, this.#now().toISOString());
    await this.#audit(principal.username, 'auth.logout', 'ok', { sourceAddress: address });
  }

  /** The principal of a bearer credential, or null when it is not valid (expired, forged, revoked, disabled, unknown). */
  async authenticate(bearer: string): Promise<Authenticated | null> {
    return looksLikeJwt(bearer) ? this.#session(bearer) : this.#apiKey(bearer);
  }

  async #session(token: string): Promise<Authenticated | null> {
    const claims = await this.#o.tokens.verify(token);
    if ('refused' in claims) return null;
    const session = await this.#o.store.sessions.get(claims.sessionId);
    if (!session || session.revokedAt !== null || session.userId !== claims.userId) return null;
    const user = await this.#o.store.users.get(claims.userId);
    if (!user || user.disabled) return null;
    return { principal: principalOf(user, 'user', user.roles), sessionId: session.id };
  }

  async #apiKey(secret: string): Promise<Authenticated | null> {
    const key = await this.#o.store.apiKeys.byDigest(secretDigest(secret));
    if (!key || key.revokedAt !== null) return null;
    const user = await this.#o.store.users.get(key.userId);
    if (!user || user.disabled) return null;
    await this.#touch(key.id);
    // A key never has more than its owner has now: a role taken from the user is taken from the key.
    const roles = key.roles.filter((r) => user.roles.includes(r));
    return { principal: { ...principalOf(user, 'apiKey', roles), apiKeyId: key.id } };
  }

  /** Records a key's use at most once a minute, so an API call does not cost a database write. */
  async #touch(keyId: string): Promise<void> {
    const now = this.#now();
    if (now.getTime() - (this.#touched.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.#touched.set(keyId, now.getTime());
    await this.#o.store.apiKeys.touch(keyId, now.toISOString(), TOUCH_INTERVAL_MS);
  }

  async #open(user: UserRecord, address: string): Promise<SessionGrant> {
    const now = this.#now();
    const refreshToken = newSecret();
    const refreshExpiresAt = new Date(now.getTime() + this.#o.refreshSeconds * 1000).toISOString();
    const sessionId = randomUUID();
    await this.#o.store.sessions.insert({
      id: sessionId,
      userId: user.id,
      refreshSha256: secretDigest(refreshToken),
      sourceAddress: address,
      createdAt: now.toISOString(),
      expiresAt: refreshExpiresAt,
      revokedAt: null,
    });
    const { token, expiresAt } = await this.#o.tokens.issue({ userId: user.id, sessionId });
    return { token, expiresAt, refreshToken, refreshExpiresAt };
  }

  async #audit(actor: string, action: string, outcome: AuditEntry['outcome'], details: Record<string, unknown>): Promise<void> {
    await this.#o.store.audit.append({ at: this.#now().toISOString(), actor, action, cameraId: null, outcome, details });
  }
}

function principalOf(user: UserRecord, kind: Principal['kind'], roles: Principal['roles']): Principal {
  return {
    kind,
    userId: user.id,
    username: user.username,
    roles,
    ...(user.credentialNo === null ? {} : { credentialNo: user.credentialNo }),
  };
}

function looksLikeJwt(bearer: string): boolean {
  return bearer.split('.').length === 3 && bearer.startsWith('eyJ');
}

/** The same answer whether the user exists or not; `retryAfterSeconds` becomes the Retry-After header. */
function locked(seconds: number): GatewayError {
  return new GatewayError('TOO_MANY_ATTEMPTS', `Too many failed logins for this account or from this address; try again in ${seconds} s.`, {
    hint: 'Wait, then log in with the right password; an administrator can reset a forgotten password.',
    details: { retryAfterSeconds: seconds },
  });
}
