/**
 * Where an event's inventory view is cached, and how it is dropped. Reservations move seats all
 * the time, so the TTL is short; every write to an event's inventory (the admin PUT, a
 * reservation, a confirm, a release) invalidates the key, and the TTL bounds what a read racing
 * an invalidation can leave behind.
 */
import type { JsonCache } from './json-cache';

export const INVENTORY_TTL_SECONDS = 5;

export function inventoryKey(eventId: string): string {
  return `inventory:${eventId}`;
}

/**
 * Where an event's catalog is cached: its name, and each ticket type with its currency — what
 * POST /orders checks an order against (src/api/routes/orders.ts). Seats moving do not change it,
 * so only the admin PUT invalidates this key (CachedInventory.put); the same TTL as the full view
 * bounds what a read racing that invalidation can leave behind. Kept apart from inventoryKey,
 * which every reservation drops: with one key, under load nearly every POST missed and read the
 * event's rows (a DynamoDB Query) again (issue 25, service CPU).
 */
export function inventoryCatalogKey(eventId: string): string {
  return `inventory-catalog:${eventId}`;
}

/**
 * The invalidation hook for the inventory participant (ParticipantDeps.onInventoryChanged) and the
 * admin endpoint. Never throws: with Redis down there is nothing to invalidate.
 */
export function createInventoryInvalidator(cache: JsonCache): (eventId: string) => Promise<void> {
  return async (eventId: string): Promise<void> => {
    await cache.del(inventoryKey(eventId));
  };
}
