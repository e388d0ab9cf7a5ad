import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GatewayError } from '../errors.js';
import { callApi, resolveApiTarget } from './apiClient.js';
import { apiOptions, dropUndefined, type ApiOptions } from './cameraCommands.js';
import { printJson, printTable } from './output.js';

interface UserView {
  username: string;
  displayName: string | null;
  unit: string | null;
  roles: string[];
  disabled: boolean;
  hasPassword: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * The password of `users add` (and `platforms add`): from --password-file, else from stdin (piped, or typed and
 * ended with Ctrl-D), never from the command line where the shell history and `ps` would show it.
 */
export function readPassword(file: string | undefined): string {
  let text: string;
  try {
    text = readFileSync(file ?? 0, 'utf8');
  } catch (err) {
    throw new GatewayError(
      'VALIDATION_FAILED',
      `Cannot read the password ${file ? `file ${file}` : 'from stdin'}: ${(err as Error).message}`,
      {
        hint: 'Pass --password-file FILE, or pipe the password on stdin.',
      },
    );
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') {
    throw new GatewayError('VALIDATION_FAILED', 'The password is empty.', {
      hint: 'Pass --password-file FILE, or pipe the password on stdin.',
    });
  }
  return password;
}

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage the people who may use the gateway (admin only)');

  apiOptions(
    users
      .command('add')
      .description('create a user; the password is read from --password-file or stdin')
      .requiredOption('--username <name>', 'login name')
      .requiredOption('--role <role>', 'admin, maintainer, operator, police, agency, approver or auditor (repeat for more)', collect)
      .option('--display-name <text>', 'the person’s name')
      .option('--unit <text>', 'the person’s unit (单位)')
      .option('--credential-no <text>', 'police or staff credential number')
      .option('--password-file <file>', 'file holding the password (default: stdin)')
      .option('--no-password', 'create without a password (the user acts only through API keys)')
      .option('--json', 'print the user as JSON'),
  ).action(async (o: ApiOptions & Record<string, unknown>) => {
    const body = dropUndefined({
      username: o.username,
      roles: o.role,
      displayName: o.displayName,
      unit: o.unit,
      credentialNo: o.credentialNo,
      password: o.password === false ? undefined : readPassword(o.passwordFile as string | undefined),
    });
    const user = await callApi<UserView>(resolveApiTarget(o), 'POST', '/api/v1/users', body);
    if (o.json) printJson(user);
    else process.stdout.write(`created user ${user.username} (${user.roles.join(', ')})\n`);
  });

  apiOptions(users.command('list').description('list users').option('--json', 'print JSON')).action(
    async (o: ApiOptions & { json?: boolean }) => {
      const page = await callApi<{ items: UserView[] }>(resolveApiTarget(o), 'GET', '/api/v1/users');
      if (o.json) return printJson(page);
      printTable(
        page.items.map((u) => ({
          username: u.username,
          name: u.displayName ?? '',
          unit: u.unit ?? '',
          roles: u.roles.join(','),
          state: u.disabled ? 'disabled' : 'active',
        })),
        ['username', 'name', 'unit', 'roles', 'state'],
      );
    },
  );

  apiOptions(users.command('disable').description('disable a user and end their sessions').argument('<username>')).action(
    async (username: string, o: ApiOptions) => {
      await callApi(resolveApiTarget(o), 'PATCH', `/api/v1/users/${encodeURIComponent(username)}`, { disabled: true });
      process.stdout.write(`disabled ${username}\n`);
    },
  );

  const keys = program.command('api-keys').description('API keys for machines (shown once, stored hashed)');
  apiOptions(
    keys
      .command('create')
      .description('create an API key for a user, with a subset of that user’s roles; prints the key once')
      .requiredOption('--user <username>', 'the user the key acts for')
      .option('--role <role>', 'a role of the key (repeat for more; default: all the user’s roles)', collect)
      .option('--name <text>', 'what the key is for, e.g. "NVR sync"')
      .option('--json', 'print JSON'),
  ).action(async (o: ApiOptions & { user: string; role?: string[]; name?: string; json?: boolean }) => {
    const created = await callApi<{ id: string; key: string; roles: string[] }>(
      resolveApiTarget(o),
      'POST',
      '/api/v1/api-keys',
      dropUndefined({ username: o.user, roles: o.role, name: o.name }),
    );
    if (o.json) return printJson(created);
    process.stdout.write(`API key ${created.id} for ${o.user} (${created.roles.join(', ')}), shown only now:\n\n  ${created.key}\n\n`);
  });
  apiOptions(keys.command('list').description('list API keys (never the keys themselves)').option('--json', 'print JSON')).action(
    async (o: ApiOptions & { json?: boolean }) => {
      const page = await callApi<{ items: Array<Record<string, string | null | string[]>> }>(
        resolveApiTarget(o),
        'GET',
        '/api/v1/api-keys',
      );
      if (o.json) return printJson(page);
      printTable(
        page.items.map((k) => ({
          id: String(k.id),
          user: String(k.username),
          roles: (k.roles as string[]).join(','),
          name: String(k.name),
          lastUsed: String(k.lastUsedAt ?? ''),
          revoked: String(k.revokedAt ?? ''),
        })),
        ['id', 'user', 'roles', 'name', 'lastUsed', 'revoked'],
      );
    },
  );
  apiOptions(keys.command('revoke').description('revoke an API key').argument('<id>')).action(async (id: string, o: ApiOptions) => {
    await callApi(resolveApiTarget(o), 'DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`);
    process.stdout.write(`revoked ${id}\n`);
  });
}
