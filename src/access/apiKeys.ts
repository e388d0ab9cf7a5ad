import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { ApiKeyRecord } from '../store/index.js';

/** Prefix of generated keys, so a leaked one is recognisable (secret scanners, logs). */
const KEY_PREFIX = 'psvgw_';

/** SHA-256 (hex) of a bearer secret: what is stored for API keys and refresh tokens. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new random secret: 32 bytes, base64url, with the gateway's prefix. */
export function newSecret(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** The roles a key may carry: a non-empty subset of its owner's. */
export function keyRoles(requested: readonly Role[], ownerRoles: readonly Role[], owner: string): Role[] {
  if (requested.length === 0) {
    throw new GatewayError('VALIDATION_FAILED', 'An API key needs at least one role.', {
      hint: `Give roles, a subset of ${owner}'s: ${ownerRoles.join(', ')}.`,
    });
  }
  const extra = requested.filter((r) => !ownerRoles.includes(r));
  if (extra.length > 0) {
    throw new GatewayError(
      'VALIDATION_FAILED',
      `An API key of ${owner} cannot have the role(s) ${extra.join(', ')}: ${owner} does not have them.`,
      {
        hint: `Choose among ${owner}'s roles: ${ownerRoles.join(', ')}.`,
      },
    );
  }
  return [...new Set(requested)];
}

/** A new key record and its secret (shown once, never stored). */
export function mintApiKey(opts: { userId: string; name: string; roles: Role[]; createdBy: string; at: string }): {
  record: ApiKeyRecord;
  secret: string;
} {
  const secret = newSecret();
  return {
    secret,
    record: {
      id: randomUUID(),
      userId: opts.userId,
      name: opts.name,
      keySha256: secretDigest(secret),
      roles: opts.roles,
      createdBy: opts.createdBy,
      createdAt: opts.at,
      lastUsedAt: null,
      revokedAt: null,
    },
  };
}

/** What an API key looks like to a caller: never its digest. */
export function apiKeyView(k: ApiKeyRecord, username: string): Record<string, unknown> {
  return {
    id: k.id,
    username,
    name: k.name,
    roles: k.roles,
    createdBy: k.createdBy,
    createdAt: k.createdAt,
    lastUsedAt: k.lastUsedAt,
    revokedAt: k.revokedAt,
  };
}
