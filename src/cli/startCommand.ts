import { startGateway } from '../app.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';

/**
 * `psvgw start`: load and validate the config, start the gateway, print a generated
 * admin token once, and stop everything on SIGTERM/SIGINT before exiting.
 */
export async function runStart(configFile: string | undefined): Promise<void> {
  const config = loadConfig(configFile === undefined ? {} : { file: configFile });
  const logger = createLogger({ level: config.logging.level });
  const gateway = await startGateway(config, logger);
  if (gateway.generatedAdminToken) {
    // Shown once on the terminal, never logged: only its hash is stored.
    process.stderr.write(
      `\n  Admin API token (shown only now; set PSVGW_ADMIN_TOKEN to choose your own):\n\n    ${gateway.generatedAdminToken}\n\n`,
    );
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
