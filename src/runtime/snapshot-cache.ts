/**
 * The sagas this worker wrote last (issue 25, decision 4): the next event for the same saga on the
 * same worker starts from the copy kept here instead of a strongly consistent GetItem.
 *
 * A kept copy may be stale (another worker stepped the saga since). That is safe because the
 * runtime uses a kept copy only to commit on: the commit is conditional on the copy's version, so
 * a stale copy fails it (VersionConflictError) and the runtime reloads the exact saga. Any other
 * outcome decided on a kept copy (duplicate, ignored, a version wait) is decided again on an exact
 * read, since a stale copy could ignore an event the saga now expects (src/runtime/saga-runtime.ts).
 *
 * Bounded: least recently used, at most `maxEntries` sagas (lru-cache); ended sagas are not kept.
 */
import { LRUCache } from 'lru-cache';
import type { StoredSaga } from '../store/saga-store';

/** The default bound: 10,000 sagas of a few KB each, tens of MB at most. */
export const DEFAULT_SNAPSHOT_CACHE_ENTRIES = 10_000;

export class SnapshotCache {
  private readonly entries: LRUCache<string, StoredSaga>;
  private hitCount = 0;
  private missCount = 0;

  /** @throws RangeError when maxEntries is not a positive integer. */
  constructor(readonly maxEntries: number = DEFAULT_SNAPSHOT_CACHE_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.entries = new LRUCache({ max: maxEntries });
  }

  /** The copy kept for `orderId`, marked most recently used; undefined when none. */
  get(orderId: string): StoredSaga | undefined {
    const saga = this.entries.get(orderId);
    if (!saga) {
      this.missCount += 1;
      return undefined;
    }
    this.hitCount += 1;
    return saga;
  }

  /** Keeps `saga` as written (replacing an older copy); evicts the least recently used past the bound. */
  remember(saga: StoredSaga): void {
    this.entries.set(saga.orderId, saga);
  }

  forget(orderId: string): void {
    this.entries.delete(orderId);
  }

  /** Sagas kept, and lookups answered (hits) or not (misses) since start. */
  stats(): { size: number; hits: number; misses: number } {
    return { size: this.entries.size, hits: this.hitCount, misses: this.missCount };
  }
}
