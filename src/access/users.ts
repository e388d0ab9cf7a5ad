import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ROLES, type Principal, type Role } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { Store, UserChanges, UserRecord } from '../store/index.js';
import { apiKeyView, keyRoles, mintApiKey } from './apiKeys.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';

/** The user the gateway creates on start; it has no password and acts through PSVGW_ADMIN_TOKEN, its API key. */
export const BOOTSTRAP_ADMIN = 'admin';
const BOOTSTRAP_KEY_ID = 'bootstrap-admin';

const USERNAME = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/, { error: 'must be 2 to 64 letters, digits, dots, dashes or underscores' });
const ROLE_LIST = z.array(z.enum(ROLES)).min(1, { error: `needs at least one of ${ROLES.join(', ')}` });
const TEXT = z.string().trim().min(1).max(200);

const userCreateSchema = z.strictObject({
  username: USERNAME,
  password: z.string().optional(),
  displayName: TEXT.optional(),
  unit: TEXT.optional(),
  credentialNo: TEXT.optional(),
  roles: ROLE_LIST,
});
const userPatchSchema = z.strictObject({
  password: z.string().optional(),
  displayName: TEXT.nullable().optional(),
  unit: TEXT.nullable().optional(),
  credentialNo: TEXT.nullable().optional(),
  roles: ROLE_LIST.optional(),
  disabled: z.boolean().optional(),
});
const apiKeyCreateSchema = z.strictObject({
  username: USERNAME.optional(),
  name: TEXT.optional(),
  roles: z.array(z.enum(ROLES)).optional(),
});

/** A zod failure as a 400 naming each field; the values given are never echoed (they may be passwords). */
function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new GatewayError('VALIDATION_FAILED', `The ${what} is not valid: ${problems.join('; ')}.`, {
    hint: `Fields: ${Object.keys((schema as unknown as z.ZodObject).shape).join(', ')}; roles among ${ROLES.join(', ')}.`,
    details: { problems },
  });
}

/** What a user looks like to a caller: never the password hash. */
export function userView(u: UserRecord): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    unit: u.unit,
    credentialNo: u.credentialNo,
    roles: u.roles,
    disabled: u.disabled,
    hasPassword: u.passwordHash !== null,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

export interface UserAccountsOptions {
  store: Store;
  mode: 'development' | 'production';
  now?: () => Date;
}

/** Users and API keys: creation, changes and revocation, each audited with the acting user's name. */
export class UserAccounts {
  readonly #store: Store;
  readonly #mode: 'development' | 'production';
  readonly #now: () => Date;

  constructor(opts: UserAccountsOptions) {
    this.#store = opts.store;
    this.#mode = opts.mode;
    this.#now = opts.now ?? (() => new Date());
  }

  async create(body: unknown, actor: string): Promise<UserRecord> {
    const input = parse(userCreateSchema, body, 'user');
    const passwordHash =
      input.password === undefined ? null : await hashPassword(checkPasswordPolicy(input.password, input.username, this.#mode));
    const at = this.#now().toISOString();
    const user: UserRecord = {
      id: randomUUID(),
      username: input.username,
      displayName: input.displayName ?? null,
      unit: input.unit ?? null,
      credentialNo: input.credentialNo ?? null,
      roles: [...new Set(input.roles)],
      passwordHash,
      disabled: false,
      createdAt: at,
      updatedAt: at,
    };
    await this.#store.transaction(async (tx) => {
      await tx.users.insert(user);
      await tx.audit.append(this.#audit(actor, 'user.create', { username: user.username, roles: user.roles }, at));
    });
    return user;
  }

  list(): Promise<UserRecord[]> {
    return this.#store.users.list();
  }

  async get(username: string): Promise<UserRecord> {
    const user = await this.#store.users.byUsername(username);
    if (!user) throw new GatewayError('NOT_FOUND', `There is no user ${username}.`, { hint: 'List users with GET /api/v1/users.' });
    return user;
  }

  /** Changes a user; disabling or a new password ends the user's open sessions. */
  async update(username: string, body: unknown, actor: string): Promise<UserRecord> {
    const input = parse(userPatchSchema, body, 'user change');
    const user = await this.get(username);
    if (user.username === BOOTSTRAP_ADMIN && (input.disabled === true || (input.roles && !input.roles.includes('admin')))) {
      throw new GatewayError('FORBIDDEN', 'The bootstrap admin cannot be disabled or lose the admin role.', {
        hint: 'Revoke its API key by changing PSVGW_ADMIN_TOKEN instead.',
      });
    }
    const changes: UserChanges = {};
    if (input.displayName !== undefined) changes.displayName = input.displayName;
    if (input.unit !== undefined) changes.unit = input.unit;
    if (input.credentialNo !== undefined) changes.credentialNo = input.credentialNo;
    if (input.roles !== undefined) changes.roles = [...new Set(input.roles)];
    if (input.disabled !== undefined) changes.disabled = input.disabled;
    if (input.password !== undefined) changes.passwordHash = await hashPassword(checkPasswordPolicy(input.password, username, this.#mode));
    const at = this.#now().toISOString();
    // Which fields changed is audited, never their values when they are secrets.
    const fields = Object.keys(changes).map((k) => (k === 'passwordHash' ? 'password' : k));
    return this.#store.transaction(async (tx) => {
      const updated = await tx.users.update(user.id, changes, at);
      if (changes.disabled === true || changes.passwordHash !== undefined) await tx.sessions.revokeAllOf(user.id, at);
      await tx.audit.append(
        this.#audit(actor, 'user.update', { username, fields, ...(changes.roles ? { roles: changes.roles } : {}) }, at),
      );
      return updated ?? user;
    });
  }

  /** A new API key for `username` (the caller by default); the secret is returned once. */
  async createApiKey(body: unknown, caller: Principal): Promise<{ key: Record<string, unknown>; secret: string }> {
    const input = parse(apiKeyCreateSchema, body, 'API key');
    const owner = await this.get(input.username ?? caller.username);
    if (owner.disabled) throw new GatewayError('VALIDATION_FAILED', `User ${owner.username} is disabled; it cannot get an API key.`);
    const roles = keyRoles(input.roles ?? owner.roles, owner.roles, owner.username);
    const at = this.#now().toISOString();
    const minted = mintApiKey({ userId: owner.id, name: input.name ?? `key of ${owner.username}`, roles, createdBy: caller.username, at });
    await this.#store.transaction(async (tx) => {
      await tx.apiKeys.insert(minted.record);
      await tx.audit.append(
        this.#audit(caller.username, 'apikey.create', { keyId: minted.record.id, username: owner.username, roles }, at),
      );
    });
    return { key: apiKeyView(minted.record, owner.username), secret: minted.secret };
  }

  /** Keys of one user, or of all users (`username` undefined). */
  async listApiKeys(username: string | undefined): Promise<Record<string, unknown>[]> {
    const users = new Map((await this.#store.users.list()).map((u) => [u.id, u.username]));
    const userId = username === undefined ? undefined : (await this.get(username)).id;
    const keys = await this.#store.apiKeys.list(userId === undefined ? {} : { userId });
    return keys.map((k) => apiKeyView(k, users.get(k.userId) ?? '?'));
  }

  /** The owner's username of a key (to decide who may revoke it). */
  async apiKeyOwner(id: string): Promise<string> {
    const key = await this.#store.apiKeys.get(id);
    const owner = key === undefined ? undefined : await this.#store.users.get(key.userId);
    if (!key || !owner) throw new GatewayError('NOT_FOUND', `There is no API key ${id}.`, { hint: 'List keys with GET /api/v1/api-keys.' });
    return owner.username;
  }

  async revokeApiKey(id: string, actor: string): Promise<void> {
    const owner = await this.apiKeyOwner(id);
    const at = this.#now().toISOString();
    await this.#store.transaction(async (tx) => {
      const revoked = await tx.apiKeys.revoke(id, at);
      await tx.audit.append(this.#audit(actor, 'apikey.revoke', { keyId: id, username: owner, alreadyRevoked: !revoked }, at));
    });
  }

  /**
   * The bootstrap admin exists (created without a password when missing) and its API key
   * is the admin token whose SHA-256 is given (PSVGW_ADMIN_TOKEN, or the digest an older
   * gateway stored).
   */
  async ensureBootstrapAdmin(adminTokenSha256: string): Promise<void> {
    const at = this.#now().toISOString();
    await this.#store.transaction(async (tx) => {
      let admin = await tx.users.byUsername(BOOTSTRAP_ADMIN);
      if (!admin) {
        admin = {
          id: randomUUID(),
          username: BOOTSTRAP_ADMIN,
          displayName: 'Bootstrap administrator',
          unit: null,
          credentialNo: null,
          roles: ['admin'],
          passwordHash: null,
          disabled: false,
          createdAt: at,
          updatedAt: at,
        };
        await tx.users.insert(admin);
        await tx.audit.append(this.#audit('system', 'user.create', { username: BOOTSTRAP_ADMIN, roles: admin.roles, bootstrap: true }, at));
      }
      const current = await tx.apiKeys.get(BOOTSTRAP_KEY_ID);
      if (current?.keySha256 === adminTokenSha256 && current.revokedAt === null) return;
      await tx.apiKeys.upsert({
        id: BOOTSTRAP_KEY_ID,
        userId: admin.id,
        name: 'PSVGW_ADMIN_TOKEN',
        keySha256: adminTokenSha256,
        roles: ['admin'] satisfies Role[],
        createdBy: 'system',
        createdAt: at,
        lastUsedAt: null,
        revokedAt: null,
      });
      await tx.audit.append(
        this.#audit('system', current ? 'apikey.replace' : 'apikey.create', { keyId: BOOTSTRAP_KEY_ID, username: BOOTSTRAP_ADMIN }, at),
      );
    });
  }

  #audit(actor: string, action: string, details: Record<string, unknown>, at: string) {
    return { at, actor, action, cameraId: null, outcome: 'ok' as const, details };
  }
}
