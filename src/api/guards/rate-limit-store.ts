/**
 * The rate limiter's counters: in Redis (rate-limit-redis), so every API process counts against
 * the same limit, and in this process's memory while Redis is down. The limiter never sees a store
 * error, so a Redis outage never becomes a 500: each process then enforces the limit on its own
 * (a client spread over N processes may get up to N times the limit until Redis is back).
 */
import {
  MemoryStore,
  type ClientRateLimitInfo,
  type IncrementResponse,
  type Options,
  type Store,
} from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { RedisClient } from '../../cache/redis';
import type { Logger } from '../../observability/logger';

export class RedisOrLocalStore implements Store {
  readonly localKeys = false;
  private readonly memory = new MemoryStore();
  private readonly redisStore: RedisStore;
  private options: Options | undefined;
  /** Scripts loaded on the current connection; reset by any failure so they are loaded again. */
  private loaded: Promise<void> | undefined;
  private usingRedis = true;

  /** `prefix`: the Redis key prefix (per deployment and per limiter). */
  constructor(
    private readonly redis: RedisClient,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.redisStore = new RedisStore({
      prefix,
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    });
  }

  init(options: Options): void {
    this.options = options;
    this.memory.init(options);
  }

  async increment(key: string): Promise<IncrementResponse> {
    return (await this.viaRedis((s) => s.increment(key))) ?? this.memory.increment(key);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return (await this.viaRedis((s) => s.get(key))) ?? this.memory.get(key);
  }

  async decrement(key: string): Promise<void> {
    if ((await this.viaRedis(async (s) => (await s.decrement(key), true))) === undefined)
      await this.memory.decrement(key);
  }

  async resetKey(key: string): Promise<void> {
    await this.viaRedis(async (s) => (await s.resetKey(key), true));
    await this.memory.resetKey(key);
  }

  /** Stops the memory store's timer (the Redis connection belongs to the caller). */
  shutdown(): void {
    this.memory.shutdown();
  }

  /** The Redis answer, or undefined when Redis is down or failed (the caller falls back to memory). */
  private async viaRedis<T>(op: (store: RedisStore) => Promise<T>): Promise<T | undefined> {
    if (this.redis.status !== 'ready' || !this.options) return this.fallBack();
    try {
      this.loaded ??= this.redisStore.init(this.options);
      await this.loaded;
      const result = await op(this.redisStore);
      if (!this.usingRedis) this.logger.info('rate limits shared through Redis again', { prefix: this.prefix });
      this.usingRedis = true;
      return result;
    } catch (error) {
      this.loaded = undefined;
      return this.fallBack(error);
    }
  }

  private fallBack(error?: unknown): undefined {
    if (this.usingRedis) {
      this.logger.warn('rate limits counted per process: Redis is unavailable', {
        prefix: this.prefix,
        error: error instanceof Error ? error.message : this.redis.status,
      });
    }
    this.usingRedis = false;
    return undefined;
  }
}
