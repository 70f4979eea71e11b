/**
 * The service process: `npm start` (built) or `tsx src/main.ts`. SERVICE_MODE chooses the API,
 * the workers (with the sweeper), or both. SIGTERM/SIGINT stop it gracefully within
 * SHUTDOWN_TIMEOUT_MS: no new requests or receives, live streams and feeds told to reconnect,
 * in-flight work finishes or is handed back, then exit (docs/reliability.md, "Shutdown").
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
    logger.info('shutting down', { signal, timeoutMs: config.shutdownTimeoutMs });
    // The bound holds whatever hangs (a start still connecting, a stop step that never returns):
    // held SQS messages come back to their queue within one lease.
    setTimeout(() => {
      logger.warn('shutdown deadline passed: exiting', { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs + 500).unref();
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
