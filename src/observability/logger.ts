/** winston JSON logs; every line about an order carries its correlationId. */
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', service = 'eventticket'): Logger {
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
