import type { Command } from 'commander';
import type { CameraView } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { callApi, resolveApiTarget } from './apiClient.js';
import { apiOptions, type ApiOptions } from './cameraCommands.js';
import { printJson } from './output.js';

interface DemoOptions extends ApiOptions {
  outage?: string;
  json?: boolean;
}

/** `psvgw demo [--outage N]`: a synthetic camera for a first look, and an outage of it on demand. */
export function registerDemoCommand(program: Command): void {
  apiOptions(
    program
      .command('demo')
      .description('add a demo camera fed by a built-in test picture (development mode), or stop it for a while with --outage')
      .option('--outage <seconds>', 'stop the demo source for this many seconds; it comes back by itself')
      .option('--json', 'print JSON'),
  ).action(async (o: DemoOptions) => {
    const target = resolveApiTarget(o);
    if (o.outage !== undefined) {
      const seconds = Number(o.outage);
      if (!Number.isInteger(seconds) || seconds < 1)
        throw new GatewayError('VALIDATION_FAILED', `--outage must be a whole number of seconds (got ${o.outage})`, {
          hint: 'e.g. psvgw demo --outage 10',
        });
      const outage = await callApi<{ cameraId: string; until: string }>(target, 'POST', '/api/v1/demo/outage', { seconds });
      if (o.json) printJson(outage);
      else console.log(`demo camera ${outage.cameraId}: source stopped until ${outage.until}; it comes back by itself`);
      return;
    }
    const camera = await callApi<CameraView>(target, 'POST', '/api/v1/demo');
    if (o.json) printJson(camera);
    else
      console.log(
        `demo camera ${camera.id} (${camera.name}) is on: watch it in the console's camera list or video wall; ` +
          '`psvgw demo --outage 10` shows an outage',
      );
  });
}
