/** winston JSON logs; every line about an order carries its correlationId. */
import winston from 'winston';

export type Logger = winston.Logger;

/**
 * A JSON logger to stderr at `level` (winston's: error, warn, info, debug). The level comes from
 * config (LOG_LEVEL, read by src/config/config.ts): the logger reads no environment itself.
 */
export function createLogger(level: string, service = 'eventticket'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
