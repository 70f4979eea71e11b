/** Cache-aside reads: the cache first, the source of truth on a miss, then fill the cache. */
import type { CacheStatus, JsonCache } from './json-cache';

export interface CachedValue<T> {
  value: T | undefined;
  cache: CacheStatus;
}

/**
 * Reads `key` through the cache. Absent values (`load` returns undefined) are not cached, so a
 * newly created entity is visible at once. A fill that fails still answers (status BYPASS).
 */
export async function readThrough<T>(
  cache: JsonCache,
  key: string,
  ttlSeconds: number,
  load: () => Promise<T | undefined>,
): Promise<CachedValue<T>> {
  const cached = await cache.get<T>(key);
  if (cached.status === 'HIT') return { value: cached.value, cache: 'HIT' };
  const value = await load();
  if (cached.status === 'BYPASS') return { value, cache: 'BYPASS' };
  if (value !== undefined) {
    const stored = await cache.set(key, value, ttlSeconds);
    if (!stored) return { value, cache: 'BYPASS' };
  }
  return { value, cache: 'MISS' };
}
