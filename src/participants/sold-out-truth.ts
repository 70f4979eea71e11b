/**
 * The store's answer for the sold-out flags (src/cache/sold-out.ts): which ticket types have no seat left in any shard.
 */
import type { ParticipantDeps } from './deps';
import { getEventInventory } from './inventory-admin';

/** Reads the event's inventory (consistent, summed over shards); returns the given types with 0 available. */
export function soldOutTruth(deps: Pick<ParticipantDeps, 'doc' | 'tables'>) {
  return async (eventId: string, ticketTypes: readonly string[]): Promise<string[]> => {
    const inventory = await getEventInventory(deps, eventId);
    const available = new Map((inventory?.ticketTypes ?? []).map((t) => [t.ticketType, t.availableQuantity]));
    return ticketTypes.filter((t) => available.get(t) === 0);
  };
}
