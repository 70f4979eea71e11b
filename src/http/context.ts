/**
 * Per-request context: the correlation id (from a well-formed X-Correlation-Id, else a new UUID),
 * echoed in the response and carried by a child logger, so every log line of the request has it.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../observability/logger';

export const CORRELATION_HEADER = 'X-Correlation-Id';
const CORRELATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface RequestContext {
  correlationId: string;
  log: Logger;
  startedAt: number;
}

export function correlationIdFrom(header: string | undefined): string {
  return header !== undefined && CORRELATION_ID.test(header) ? header : randomUUID();
}

export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const correlationId = correlationIdFrom(req.get(CORRELATION_HEADER));
    const ctx: RequestContext = { correlationId, log: logger.child({ correlationId }), startedAt: Date.now() };
    res.locals.ctx = ctx;
    res.setHeader(CORRELATION_HEADER, correlationId);
    res.on('finish', () => {
      const status = res.statusCode;
      const line = {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status,
        durationMs: Date.now() - ctx.startedAt,
      };
      if (status >= 500) ctx.log.warn('http request', line);
      else ctx.log.info('http request', line);
    });
    next();
  };
}

export function ctxOf(res: Response): RequestContext {
  return res.locals.ctx as RequestContext;
}
