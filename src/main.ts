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
  const service = await startService(config, logger);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await service.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
