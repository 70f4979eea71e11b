/**
 * Abuse limits (express-rate-limit, counters in Redis with a per-process fallback):
 * - requests per minute per principal, the limit of its most generous role; per IP (IPv6 by /56)
 *   for requests without a valid token (public paths, refused tokens);
 * - POST /orders per minute per customer, on top.
 * Over a limit: 429 problem+json with Retry-After (s) and the IETF RateLimit / RateLimit-Policy
 * headers (draft-ietf-httpapi-ratelimit-headers-08). Limits: config.security.rateLimits.
 */
import { ipKeyGenerator, rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { NextFunction, Request, Response } from 'express';
import type { RedisClient } from '../../cache/redis';
import type { RateLimitConfig } from '../../config/auth-config';
import type { Logger } from '../../observability/logger';
import { maybePrincipal, type Role } from '../../http/auth/principal';
import { ProblemError } from '../../http/problem';
import { RedisOrLocalStore } from './rate-limit-store';

const WINDOW_MS = 60_000;

export interface RateLimiters {
  /** Every request, before authentication is enforced. */
  requests: RateLimitRequestHandler;
  /** POST /orders only. */
  orders: RateLimitRequestHandler;
  /** Stops the per-process stores' timers. */
  close(): void;
}

function requestLimitOf(limits: RateLimitConfig, roles: ReadonlySet<Role> | undefined): number {
  if (!roles || roles.size === 0) return limits.anonymousPerMinute;
  const perRole: Record<Role, number> = {
    customer: limits.customerPerMinute,
    organizer: limits.organizerPerMinute,
    operator: limits.operatorPerMinute,
    'operator-repair': limits.operatorPerMinute,
  };
  return Math.max(...[...roles].map((role) => perRole[role]));
}

/** The counter's key: the verified sub, else the client's IP (IPv6 by /56, one household or host). */
function principalOrIp(req: Request, res: Response): string {
  const principal = maybePrincipal(res);
  return principal ? `sub:${principal.sub}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown', 56)}`;
}

function exceeded(what: string) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const retryAfter = Number(res.getHeader('Retry-After') ?? 60);
    next(new ProblemError('too-many-requests', `${what}; retry after ${retryAfter} s`, undefined, { retryAfter }));
  };
}

/** `keyPrefix`: per deployment (RESOURCE_PREFIX), so test runs sharing a Redis never share counters. */
export function createRateLimiters(
  limits: RateLimitConfig,
  redis: RedisClient,
  keyPrefix: string,
  logger: Logger,
): RateLimiters {
  const requestStore = new RedisOrLocalStore(redis, `${keyPrefix}rl:req:`, logger);
  const orderStore = new RedisOrLocalStore(redis, `${keyPrefix}rl:orders:`, logger);
  const common = {
    windowMs: WINDOW_MS,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Our own checks: the trust-proxy setting is config (TRUST_PROXY_HOPS), the stores are ours.
    validate: { xForwardedForHeader: false, trustProxy: false },
  } as const;
  const requests = rateLimit({
    ...common,
    store: requestStore,
    identifier: 'requests',
    limit: (_req, res) => requestLimitOf(limits, maybePrincipal(res)?.roles),
    keyGenerator: principalOrIp,
    handler: exceeded('too many requests'),
  });
  const orders = rateLimit({
    ...common,
    store: orderStore,
    identifier: 'orders',
    limit: limits.ordersPerMinute,
    // Only reached with a principal (authentication runs first).
    keyGenerator: principalOrIp,
    handler: exceeded('too many orders placed this minute'),
  });
  return {
    requests,
    orders,
    close: () => {
      requestStore.shutdown();
      orderStore.shutdown();
    },
  };
}
