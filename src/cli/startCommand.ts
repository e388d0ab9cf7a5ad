import { resolve } from 'node:path';
import { deliverGeneratedToken } from '../access/index.js';
import { startGateway } from '../app.js';
import { dropGatewayVariables } from '../childEnv.js';
import { ENV_OVERRIDES, loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';

/**
 * `psvgw start`: load and validate the config, start the gateway, hand a generated admin
 * token over once (never to the log), and stop everything on SIGTERM/SIGINT before exiting.
 */
export async function runStart(configFile: string | undefined): Promise<void> {
  // Whatever the gateway and its ffmpegs write (segments, WAL, mask images) is its user's alone.
  process.umask(0o077);
  const config = loadConfig(configFile === undefined ? {} : { file: configFile });
  // The config now holds what they said; no child started from here on can inherit them.
  dropGatewayVariables(ENV_OVERRIDES.map((o) => o.name));
  const logger = createLogger({ level: config.logging.level, format: config.logging.format });
  const gateway = await startGateway(config, logger);
  if (gateway.generatedAdminToken) {
    const token = gateway.generatedAdminToken;
    deliverGeneratedToken({ token, dataDir: resolve(config.dataDir), terminal: process.stderr, logger });
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping psv-gateway');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 15 s; exiting anyway');
      process.exit(1);
    }, 15_000);
    force.unref();
    void gateway.close().then(() => {
      logger.info('psv-gateway stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
