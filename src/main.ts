/**
 * The service process: `npm start` (built) or `tsx src/main.ts`. SERVICE_MODE chooses the API,
 * the workers (with the sweeper), or both. SIGTERM/SIGINT stop it gracefully: no new requests
 * or receives, in-flight work finishes, then exit.
 */
import { ConfigError, loadConfig } from './config/config';
import { createLogger } from './observability/logger';
import { closeCore, createCore, createCoreSweeper, createCoreWorkers } from './service';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const core = await createCore(config, logger);
  const stops: Array<() => Promise<void>> = [];

  if (config.mode !== 'api') {
    const workers = createCoreWorkers(core);
    const sweeper = createCoreSweeper(core);
    workers.start();
    sweeper.start();
    stops.push(() => workers.stop(), () => sweeper.stop());
    logger.info('workers started', { prefix: config.resourcePrefix, endpoint: config.awsEndpoint ?? 'aws' });
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await Promise.allSettled(stops.map((stop) => stop()));
    closeCore(core);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
