/**
 * Users, their login sessions, their API keys and the keys that sign session tokens, over
 * the shared SQL executor. Secrets are never stored here in clear: passwords as argon2id
 * hashes, refresh tokens and API keys as SHA-256, signing keys sealed with the master secret.
 */
import { isRole, type Role } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { textOrNull, type SqlExecutor, type SqlValue } from './sqlRepositories.js';
import type {
  ApiKeyRecord,
  ApiKeyRepository,
  SessionRecord,
  SessionRepository,
  SigningKeyRecord,
  SigningKeyRepository,
  UserChanges,
  UserRecord,
  UserRepository,
} from './store.js';

function parseRoles(v: unknown): Role[] {
  try {
    const parsed: unknown = JSON.parse(String(v ?? '[]'));
    return Array.isArray(parsed) ? parsed.filter(isRole) : [];
  } catch {
    return [];
  }
}

const USER_COLUMNS = 'id, username, display_name, unit, credential_no, roles, password_hash, disabled, created_at, updated_at';

function rowToUser(r: Record<string, unknown>): UserRecord {
  return {
    id: String(r.id),
    username: String(r.username),
    displayName: textOrNull(r.display_name),
    unit: textOrNull(r.unit),
    credentialNo: textOrNull(r.credential_no),
    roles: parseRoles(r.roles),
    passwordHash: textOrNull(r.password_hash),
    disabled: Number(r.disabled) === 1,
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

/** Column of each changeable field, and how its value is stored. */
const USER_CHANGE_COLUMNS: { [K in keyof Required<UserChanges>]: [string, (v: UserChanges[K]) => SqlValue] } = {
  displayName: ['display_name', (v) => v ?? null],
  unit: ['unit', (v) => v ?? null],
  credentialNo: ['credential_no', (v) => v ?? null],
  roles: ['roles', (v) => JSON.stringify(v ?? [])],
  passwordHash: ['password_hash', (v) => v ?? null],
  disabled: ['disabled', (v) => (v === true ? 1 : 0)],
};

export class SqlUserRepository implements UserRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(u: UserRecord): Promise<void> {
    try {
      await this.db.run(`INSERT INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        u.id,
        u.username,
        u.displayName,
        u.unit,
        u.credentialNo,
        JSON.stringify(u.roles),
        u.passwordHash,
        u.disabled ? 1 : 0,
        u.createdAt,
        u.updatedAt,
      ]);
    } catch (err) {
      if (this.db.isUniqueViolation(err)) {
        throw new GatewayError('USER_EXISTS', `a user named ${u.username} already exists`, {
          hint: 'Choose another username, or change the existing user with PATCH /api/v1/users/:username.',
          cause: err,
        });
      }
      throw err;
    }
  }

  async get(id: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
    return row ? rowToUser(row) : undefined;
  }

  async byUsername(username: string): Promise<UserRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`, [username]);
    return row ? rowToUser(row) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.all(`SELECT ${USER_COLUMNS} FROM users ORDER BY username`)).map(rowToUser);
  }

  async update(id: string, changes: UserChanges, at: string): Promise<UserRecord | undefined> {
    const sets: string[] = ['updated_at = ?'];
    const params: SqlValue[] = [at];
    for (const [field, [column, toValue]] of Object.entries(USER_CHANGE_COLUMNS)) {
      const value = changes[field as keyof UserChanges];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      params.push((toValue as (v: unknown) => SqlValue)(value));
    }
    await this.db.run(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return this.get(id);
  }
}

const SESSION_COLUMNS = 'id, user_id, refresh_sha256, source_address, created_at, expires_at, revoked_at';

function rowToSession(r: Record<string, unknown>): SessionRecord {
  return {
    id: String(r.id),
    userId: String(r.user_id),
    refreshSha256: String(r.refresh_sha256),
    sourceAddress: textOrNull(r.source_address),
    createdAt: String(r.created_at),
    expiresAt: String(r.expires_at),
    revokedAt: textOrNull(r.revoked_at),
  };
}

export class SqlSessionRepository implements SessionRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(s: SessionRecord): Promise<void> {
    await this.db.run(`INSERT INTO auth_sessions (${SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
      s.id,
      s.userId,
      s.refreshSha256,
      s.sourceAddress,
      s.createdAt,
      s.expiresAt,
      s.revokedAt,
    ]);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${SESSION_COLUMNS} FROM auth_sessions WHERE id = ?`, [id]);
    return row ? rowToSession(row) : undefined;
  }

  async byRefreshDigest(sha256: string): Promise<SessionRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${SESSION_COLUMNS} FROM auth_sessions WHERE refresh_sha256 = ?`, [sha256]);
    return row ? rowToSession(row) : undefined;
  }

  async rotateRefresh(id: string, oldSha256: string, newSha256: string, expiresAt: string): Promise<boolean> {
    const changed = await this.db.run(
      'UPDATE auth_sessions SET refresh_sha256 = ?, expires_at = ? WHERE id = ? AND refresh_sha256 = ? AND revoked_at IS NULL',
      [newSha256, expiresAt, id, oldSha256],
    );
    return changed === 1;
  }

  async revoke(id: string, at: string): Promise<boolean> {
    return (await this.db.run('UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) === 1;
  }

  async revokeAllOf(userId: string, at: string): Promise<number> {
    return this.db.run('UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL', [at, userId]);
  }
}

const API_KEY_COLUMNS = 'id, user_id, name, key_sha256, roles, created_by, created_at, last_used_at, revoked_at';

function rowToApiKey(r: Record<string, unknown>): ApiKeyRecord {
  return {
    id: String(r.id),
    userId: String(r.user_id),
    name: String(r.name),
    keySha256: String(r.key_sha256),
    roles: parseRoles(r.roles),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
    lastUsedAt: textOrNull(r.last_used_at),
    revokedAt: textOrNull(r.revoked_at),
  };
}

function apiKeyRow(k: ApiKeyRecord): SqlValue[] {
  return [k.id, k.userId, k.name, k.keySha256, JSON.stringify(k.roles), k.createdBy, k.createdAt, k.lastUsedAt, k.revokedAt];
}

const INSERT_API_KEY = `INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

export class SqlApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: SqlExecutor) {}

  async insert(k: ApiKeyRecord): Promise<void> {
    await this.db.run(INSERT_API_KEY, apiKeyRow(k));
  }

  async upsert(k: ApiKeyRecord): Promise<void> {
    const changed = await this.db.run('UPDATE api_keys SET key_sha256 = ?, roles = ?, name = ?, revoked_at = NULL WHERE id = ?', [
      k.keySha256,
      JSON.stringify(k.roles),
      k.name,
      k.id,
    ]);
    if (changed === 0) await this.insert(k);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`, [id]);
    return row ? rowToApiKey(row) : undefined;
  }

  async byDigest(sha256: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.all(`SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_sha256 = ?`, [sha256]);
    return row ? rowToApiKey(row) : undefined;
  }

  async list(query: { userId?: string } = {}): Promise<ApiKeyRecord[]> {
    const where = query.userId === undefined ? '' : ' WHERE user_id = ?';
    const params = query.userId === undefined ? [] : [query.userId];
    return (await this.db.all(`SELECT ${API_KEY_COLUMNS} FROM api_keys${where} ORDER BY created_at DESC, id`, params)).map(rowToApiKey);
  }

  async touch(id: string, at: string, minIntervalMs: number): Promise<void> {
    const before = new Date(Date.parse(at) - minIntervalMs).toISOString();
    await this.db.run('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)', [at, id, before]);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    return (await this.db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) === 1;
  }
}

export class SqlSigningKeyRepository implements SigningKeyRepository {
  constructor(private readonly db: SqlExecutor) {}

  async add(k: SigningKeyRecord): Promise<void> {
    await this.db.run('INSERT INTO auth_signing_keys (kid, sealed, created_at) VALUES (?, ?, ?)', [k.kid, k.sealed, k.createdAt]);
  }

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.all('SELECT kid, sealed, created_at FROM auth_signing_keys ORDER BY created_at, kid');
    return rows.map((r) => ({ kid: String(r.kid), sealed: String(r.sealed), createdAt: String(r.created_at) }));
  }

  async remove(kid: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM auth_signing_keys WHERE kid = ?', [kid])) === 1;
  }
}
