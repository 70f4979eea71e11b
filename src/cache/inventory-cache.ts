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
 * The invalidation hook for the inventory participant (ParticipantDeps.onInventoryChanged) and the
 * admin endpoint. Never throws: with Redis down there is nothing to invalidate.
 */
export function createInventoryInvalidator(cache: JsonCache): (eventId: string) => Promise<void> {
  return async (eventId: string): Promise<void> => {
    await cache.del(inventoryKey(eventId));
  };
}
