/**
 * The service process: `npm start` (built) or `tsx src/main.ts`. SERVICE_MODE chooses the API,
 * the workers (with the sweeper), or both. SIGTERM/SIGINT stop it gracefully: no new requests
 * or receives, in-flight work finishes, then exit.
 */
import { ConfigError, loadConfig } from './config/config';
import { createLogger } from './observability/logger';
import { startService } from './service';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // Handlers first: a SIGTERM that arrives while starting still ends in a graceful stop.
  let stopping = false;
  const starting = startService(config, logger);
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await (await starting).stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await starting;
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
