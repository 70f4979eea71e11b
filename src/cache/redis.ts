/**
 * The Redis connection. Redis is an optimisation here, never a dependency: commands fail fast
 * (no offline queue, one retry, a short timeout) so a request never waits on a Redis that is down,
 * and the client reconnects quietly in the background. Connection trouble is logged once per
 * change of state (up -> down, down -> up), not once per retry.
 */
import Redis from 'ioredis';
import type { Logger } from '../observability/logger';

export interface RedisOptions {
  /** Longest a command may take before it counts as a failure (ms). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Upper bound of the reconnect backoff (ms). */
  maxReconnectDelayMs?: number;
}

export type RedisClient = Redis;

export function createRedis(url: string, logger: Logger, options: RedisOptions = {}): RedisClient {
  const maxDelay = options.maxReconnectDelayMs ?? 5000;
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 200,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    // How long disconnect() waits for a socket to close before destroying it.
    disconnectTimeout: 200,
    // Quiet backoff: 100 ms, 200 ms, ... capped; never gives up.
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 10), maxDelay),
    // Without an offline queue nothing waits for the connection to come back.
    autoResendUnfulfilledCommands: false,
  });

  let state: 'unknown' | 'up' | 'down' = 'unknown';
  const target = safeUrl(url);
  redis.on('ready', () => {
    if (state !== 'up') logger.info('redis connected', { redis: target });
    state = 'up';
  });
  // An 'error' listener is required: without one ioredis prints every failed reconnect.
  redis.on('error', (error: Error) => {
    if (state !== 'down')
      logger.warn('redis unavailable; serving without the cache', { redis: target, error: error.message });
    state = 'down';
  });
  redis.on('end', () => {
    state = 'down';
  });
  // lazyConnect only keeps the constructor from throwing; connect now and let the retry strategy
  // take over if Redis is not there.
  redis.connect().catch(() => {
    /* reported by the 'error' listener */
  });
  return redis;
}

/** Closes the connection and stops reconnecting. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      /* fall through to disconnect */
    }
  }
  redis.disconnect(false);
}

function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.username = '';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}
