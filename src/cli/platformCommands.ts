import type { Command } from 'commander';
import type { PendingChange } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { callApi, resolveApiTarget } from './apiClient.js';
import { apiOptions, type ApiOptions } from './cameraCommands.js';
import { printJson, printTable } from './output.js';
import { readPassword } from './userCommands.js';

interface PlatformView {
  id: string;
  state: string;
  registered: boolean;
  serverId: string;
  host: string;
  port: number;
  transport: string;
  deviceId: string;
  cameraIds: 'all' | string[];
  keepaliveMisses?: number;
  lastError?: string | null;
  sessions?: unknown[];
  pendingChangeId?: string | null;
}

interface AddOptions extends ApiOptions {
  name: string;
  serverId: string;
  serverDomain?: string;
  host: string;
  port: string;
  transport: string;
  deviceId: string;
  cameras: string;
  keepalive: string;
  expires: string;
  passwordFile?: string;
  json?: boolean;
}

const shared = (p: PlatformView) => (p.cameraIds === 'all' ? 'all' : String(p.cameraIds.length));

function number(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new GatewayError('VALIDATION_FAILED', `${name} must be a whole number (got ${text})`);
  return n;
}

/** `psvgw platforms list|show|add|remove`: the GB/T 28181 upper platforms the gateway registers with. */
export function registerPlatformCommands(program: Command): void {
  const platforms = program
    .command('platforms')
    .description('GB/T 28181 upper platforms (上级平台) that receive the masked shared tier of the cameras shared with them')
    .addHelpText(
      'after',
      `
The gateway registers with each upper platform as a lower platform (下级平台): REGISTER with
digest, keepalives, the catalog of the shared cameras, live play of their masked stream.
Platforms come from the config file (gb28181.platforms, passwords from
PSVGW_PLATFORM_<NAME>_PASSWORD) or from here. One added here sends footage outside the unit,
so it waits for a second admin: \`psvgw changes approve <id>\`; it registers at once then.

Examples:
  psvgw platforms list
  psvgw platforms add --name city --server-id 34020000002000000001 --host 10.1.2.3 --port 5060 \\
      --device-id 34020000001180000001 --cameras all --password-file city.pw
  psvgw platforms show city                    registered?, keepalive misses, sessions, last error
  psvgw platforms remove city                  unregisters (Expires 0) and forgets it`,
    );

  apiOptions(platforms.command('list').description('list the platforms and the state of each link').option('--json', 'print JSON')).action(
    async (o: ApiOptions & { json?: boolean }) => {
      const page = await callApi<{ items: PlatformView[] }>(resolveApiTarget(o), 'GET', '/api/v1/platforms');
      if (o.json) return printJson(page);
      printTable(
        page.items.map((p) => ({
          id: p.id,
          state: p.state,
          server: `${p.serverId}@${p.host}:${p.port}/${p.transport}`,
          deviceId: p.deviceId,
          cameras: shared(p),
          misses: p.keepaliveMisses === undefined ? '' : String(p.keepaliveMisses),
          sessions: p.sessions === undefined ? '' : String(p.sessions.length),
          lastError: p.lastError ?? (p.pendingChangeId ? `waits for approval: psvgw changes approve ${p.pendingChangeId}` : ''),
        })),
        ['id', 'state', 'server', 'deviceId', 'cameras', 'misses', 'sessions', 'lastError'],
      );
    },
  );

  apiOptions(
    platforms
      .command('show')
      .description("one platform's settings and link state (never its password)")
      .argument('<name>', 'the platform name (see platforms list)'),
  ).action(async (name: string, o: ApiOptions) => {
    printJson(await callApi<PlatformView>(resolveApiTarget(o), 'GET', `/api/v1/platforms/${encodeURIComponent(name)}`));
  });

  apiOptions(
    platforms
      .command('add')
      .description('add an upper platform; it waits for a second admin, then registers at once')
      .requiredOption('--name <name>', 'short name: letters, digits, - and _ (the API id and the metrics label)')
      .requiredOption('--server-id <id>', "the platform's 20-digit SIP server ID")
      .option('--server-domain <domain>', "the platform's 10-digit SIP domain (default: the server ID's first 10 digits)")
      .requiredOption('--host <host>', "address of the platform's SIP server")
      .option('--port <port>', 'its SIP port', '5060')
      .option('--transport <udp|tcp>', 'SIP transport', 'udp')
      .requiredOption('--device-id <id>', "the gateway's own 20-digit ID that the platform assigned")
      .option('--cameras <ids>', 'cameras to share: all, or camera IDs separated by commas', 'all')
      .option('--keepalive <seconds>', 'keepalive interval; 3 unanswered mark the link down', '60')
      .option('--expires <seconds>', 'REGISTER expiry, refreshed before it runs out', '3600')
      .option('--password-file <file>', 'file holding the digest password (default: stdin); never on the command line')
      .option('--json', 'print JSON'),
  ).action(async (o: AddOptions) => {
    const body = {
      kind: 'gb28181',
      name: o.name,
      serverId: o.serverId,
      serverDomain: o.serverDomain ?? o.serverId.slice(0, 10),
      host: o.host,
      port: number('--port', o.port),
      transport: o.transport,
      deviceId: o.deviceId,
      password: readPassword(o.passwordFile),
      cameraIds:
        o.cameras === 'all'
          ? 'all'
          : o.cameras
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== ''),
      keepaliveSeconds: number('--keepalive', o.keepalive),
      registerExpiresSeconds: number('--expires', o.expires),
    };
    const added = await callApi<PlatformView & { pendingChange: PendingChange }>(resolveApiTarget(o), 'POST', '/api/v1/platforms', body);
    if (o.json) return printJson(added);
    process.stdout.write(
      `platform ${added.id} is pending: another admin approves it with\n  psvgw changes approve ${added.pendingChange.id}\n` +
        `then it registers with ${added.serverId} at ${added.host}:${added.port} (see psvgw platforms show ${added.id})\n`,
    );
  });

  apiOptions(
    platforms
      .command('remove')
      .description('unregister from a platform (Expires 0) and forget it; config-file platforms are removed from the config')
      .argument('<name>', 'the platform name'),
  ).action(async (name: string, o: ApiOptions) => {
    await callApi(resolveApiTarget(o), 'DELETE', `/api/v1/platforms/${encodeURIComponent(name)}`);
    process.stdout.write(`platform ${name} removed\n`);
  });
}
