import type { Command } from 'commander';
import type { NodeView } from '../cluster/index.js';
import { GatewayError } from '../errors.js';
import { callApi, resolveApiTarget } from './apiClient.js';
import { apiOptions, type ApiOptions } from './cameraCommands.js';
import { printJson, printTable } from './output.js';

interface DrainOptions extends ApiOptions {
  wait?: boolean;
  timeout: string;
  json?: boolean;
}

const flags = (n: NodeView) =>
  [n.alive ? 'alive' : 'silent', n.cordoned ? 'cordoned' : '', n.draining ? 'draining' : ''].filter(Boolean).join(',');

/** `psvgw node list|drain|cordon|uncordon`: the nodes of a cluster sharing one PostgreSQL store. */
export function registerNodeCommands(program: Command): void {
  const node = program
    .command('node')
    .description('nodes of a cluster (gateways sharing one PostgreSQL store): which cameras each runs; drain, cordon')
    .addHelpText(
      'after',
      `
Each camera runs on the one live node holding its lease. A cordoned node takes no new
camera and keeps its own; a drained node also hands its cameras to the others, one at a
time (each camera's gap is about one restart), so it can be stopped with nothing lost;
uncordon puts it back in the placement (it takes its share again). Any node answers.

Examples:
  psvgw node list
  psvgw node drain gw-2          waits until gw-2 runs no camera (--no-wait: return at once)
  psvgw node uncordon gw-2`,
    );

  apiOptions(node.command('list').description('the nodes, alive or not, and the cameras each runs').option('--json', 'print JSON')).action(
    async (o: ApiOptions & { json?: boolean }) => {
      const page = await callApi<{ items: NodeView[] }>(resolveApiTarget(o), 'GET', '/api/v1/nodes');
      if (o.json) return printJson(page);
      printTable(
        page.items.map((n) => ({
          name: n.name,
          state: flags(n),
          cameras: String(n.cameraIds.length),
          lastSeen: n.lastSeen ?? '',
          weight: n.weight === undefined ? '' : String(n.weight),
        })),
        ['name', 'state', 'cameras', 'lastSeen', 'weight'],
      );
    },
  );

  apiOptions(
    node
      .command('drain')
      .description("hand the node's cameras to the others, one at a time, and take it out of the placement")
      .argument('<name>', 'the node name (see node list)')
      .option('--no-wait', 'return once the drain is asked for, without waiting for the cameras to move')
      .option('--timeout <seconds>', 'how long to wait for the node to run no camera', '300')
      .option('--json', 'print JSON'),
  ).action(async (name: string, o: DrainOptions) => {
    const target = resolveApiTarget(o);
    let view = await callApi<NodeView>(target, 'POST', `/api/v1/nodes/${encodeURIComponent(name)}/drain`);
    const seconds = Number(o.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new GatewayError('VALIDATION_FAILED', `--timeout must be a positive number of seconds (got ${o.timeout})`);
    }
    const deadline = Date.now() + seconds * 1000;
    while (o.wait !== false && view.cameraIds.length > 0) {
      if (Date.now() > deadline) {
        throw new GatewayError('VALIDATION_FAILED', `node ${name} still runs ${view.cameraIds.length} camera(s) after ${seconds} s`, {
          hint: 'Check that other nodes are alive and not cordoned (psvgw node list), then wait or drain again.',
        });
      }
      await new Promise((r) => setTimeout(r, 500));
      const page = await callApi<{ items: NodeView[] }>(target, 'GET', '/api/v1/nodes');
      view = page.items.find((n) => n.name === name) ?? { ...view, cameraIds: [] };
    }
    if (o.json) return printJson(view);
    process.stdout.write(`node ${name} drained${o.wait === false ? ' (asked; cameras move one at a time)' : ': it runs no camera'}\n`);
  });

  for (const action of ['cordon', 'uncordon'] as const) {
    apiOptions(
      node
        .command(action)
        .description(action === 'cordon' ? 'the node takes no new camera (it keeps its own)' : 'the node takes its share of cameras again')
        .argument('<name>', 'the node name (see node list)')
        .option('--json', 'print JSON'),
    ).action(async (name: string, o: ApiOptions & { json?: boolean }) => {
      const view = await callApi<NodeView>(resolveApiTarget(o), 'POST', `/api/v1/nodes/${encodeURIComponent(name)}/${action}`);
      if (o.json) return printJson(view);
      process.stdout.write(`node ${name}: ${flags(view)}\n`);
    });
  }
}
