/**
 * A JSON cache over Redis that never breaks a request: every Redis error (down, timeout, bad
 * payload) becomes a miss on read and a no-op on write, reported as BYPASS so responses can say
 * the cache was not used.
 */
import type { Logger } from '../observability/logger';
import type { RedisClient } from './redis';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

export type CacheRead<T> = { status: 'HIT'; value: T } | { status: 'MISS' | 'BYPASS'; value?: undefined };

export interface JsonCacheOptions {
  /** Prepended to every key (the resource prefix), so test suites sharing a Redis stay apart. */
  keyPrefix?: string;
}

export class JsonCache {
  private readonly keyPrefix: string;
  private failing = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    options: JsonCacheOptions = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? '';
  }

  /** Whether the connection is usable right now (no command is tried otherwise). */
  get available(): boolean {
    return this.redis.status === 'ready';
  }

  async get<T>(key: string): Promise<CacheRead<T>> {
    if (!this.available) return { status: 'BYPASS' };
    let raw: string | null;
    try {
      raw = await this.redis.get(this.keyPrefix + key);
      this.recovered();
    } catch (error) {
      this.failed('get', key, error);
      return { status: 'BYPASS' };
    }
    if (raw === null) return { status: 'MISS' };
    try {
      return { status: 'HIT', value: JSON.parse(raw) as T };
    } catch {
      await this.del(key);
      return { status: 'MISS' };
    }
  }

  /** Stores `value` for `ttlSeconds`. Returns false when the cache was bypassed. */
  async set(key: string, value: unknown, ttlSeconds: number): Promise<boolean> {
    if (!this.available) return false;
    try {
      await this.redis.set(
        this.keyPrefix + key,
        JSON.stringify(value),
        'PX',
        Math.max(1, Math.round(ttlSeconds * 1000)),
      );
      this.recovered();
      return true;
    } catch (error) {
      this.failed('set', key, error);
      return false;
    }
  }

  /** Removes `key`. Returns false when the cache was bypassed. */
  async del(key: string): Promise<boolean> {
    if (!this.available) return false;
    try {
      await this.redis.del(this.keyPrefix + key);
      this.recovered();
      return true;
    } catch (error) {
      this.failed('del', key, error);
      return false;
    }
  }

  private failed(op: string, key: string, error: unknown): void {
    if (!this.failing) {
      this.logger.warn('cache operation failed; bypassing the cache', {
        op,
        key,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) this.logger.info('cache operations succeed again');
    this.failing = false;
  }
}
