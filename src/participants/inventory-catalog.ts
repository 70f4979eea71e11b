/**
 * The ticket types a reserve prices and routes an order by, kept in the worker's memory (issue 25):
 * per event, each type's unit price, currency and shard count — never its seats. With a kept copy
 * the reserve skips its catalog Query and goes straight to its transaction.
 *
 * A kept copy may be stale (an admin PUT changed a price, added a type or raised the shard count
 * since). That is safe because the reserve's transaction is conditioned on exactly what it took from
 * here, on every shard it writes: the row exists, and its priceMinor and currency are the ones the
 * amount was computed from (src/participants/inventory.ts). A stale copy fails that condition, and
 * the reserve reads the rows again (and keeps them); a stale shard count only picks among fewer
 * shards (counts are raised, never lowered: inventory-shards.ts). Nothing is refused on a kept copy:
 * a type it does not know is read again too. So staleness costs a retry, never a wrong answer.
 *
 * Bounded: at most `maxEvents` events, least recently used first out; a copy older than `ttlMs` is
 * read again (a raised shard count reaches the blind picks within that time). lru-cache keeps both
 * bounds.
 */
import { LRUCache } from 'lru-cache';

/**
 * What a reserve needs of a ticket type before it writes, as on its inventory row (records.ts,
 * InventoryRow): not its seats, which the transaction's condition judges.
 */
export interface CatalogEntry {
  ticketType: string;
  /** The unit price in the currency's minor units. */
  priceMinor: number;
  currency: string;
  /** Absent = 1 (inventory-shards.ts, shardCountOf). */
  shardCount?: number;
}

/** The default bound: a few hundred bytes per event. */
export const DEFAULT_CATALOG_EVENTS = 1_000;
/** How long a kept catalog is used before it is read again, in milliseconds. */
export const DEFAULT_CATALOG_TTL_MS = 30_000;

export class InventoryCatalog {
  private readonly events: LRUCache<string, ReadonlyMap<string, CatalogEntry>>;

  /** @throws RangeError when maxEvents is not a positive integer or ttlMs is not a positive number. */
  constructor(
    readonly maxEvents: number = DEFAULT_CATALOG_EVENTS,
    readonly ttlMs: number = DEFAULT_CATALOG_TTL_MS,
    clock: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEvents) || maxEvents < 1)
      throw new RangeError(`maxEvents must be a positive integer, got ${maxEvents}`);
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    // The clock is lru-cache's `perf` so that tests can move time; ttlResolution 0 reads it on every get.
    this.events = new LRUCache({ max: maxEvents, ttl: ttlMs, ttlResolution: 0, perf: { now: clock } });
  }

  /** The event's ticket types as last read, no older than ttlMs; undefined when none is kept. */
  get(eventId: string): ReadonlyMap<string, CatalogEntry> | undefined {
    return this.events.get(eventId);
  }

  /**
   * Keeps the ticket types of rows just read (their prices, currencies and shard counts only). An
   * event read with no rows is not kept: an unknown event is always read again.
   */
  remember(eventId: string, rows: ReadonlyMap<string, CatalogEntry>): void {
    this.events.delete(eventId);
    if (rows.size === 0) return;
    const types = new Map<string, CatalogEntry>();
    for (const { ticketType, priceMinor, currency, shardCount } of rows.values()) {
      types.set(ticketType, { ticketType, priceMinor, currency, shardCount });
    }
    this.events.set(eventId, types);
  }
}
