import dotenv from 'dotenv';
import { ConfigError, loadConfig, type Config } from './config/config';
import { createLogger } from './logger';
import { startService } from './service';

/** Entry point: .env → config → service; SIGTERM/SIGINT shut down cleanly and exit 0. */
async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable.\n`);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  const service = await startService(config, logger);

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`gitops-rollback-webhook failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
