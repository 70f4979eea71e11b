/**
 * Sold-out flags: one Redis key per (event, ticket type) that says "no seat left in any shard",
 * so POST /orders can answer 409 `sold-out` before starting a saga. The store stays the truth:
 *
 * - set only by the inventory participant after a consistent read found 0 seats left, and then
 *   checked again against the store (set, then verify, delete if seats are back). A release that
 *   commits before the verify is seen by it; one that commits after deletes the flag itself.
 *   So a flag never outlives returned seats by more than a verify.
 * - deleted when seats come back: a release or expiry, a larger total, new shards (the
 *   participant and the admin call `seatsReturned` after their write commits).
 * - it expires (SOLD_OUT_TTL_SECONDS) so a flag left by a crash between set and verify heals.
 *
 * Redis down: every call is a no-op and no order is refused; the sagas find sold-out themselves.
 */
import type { JsonCache } from './json-cache';

/** How long a flag lives without being set again: bounds a stale flag (a crash mid-verify). */
export const SOLD_OUT_TTL_SECONDS = 120;

export function soldOutKey(eventId: string, ticketType: string): string {
  return `sold-out:${eventId}/${ticketType}`;
}

/** Which of these ticket types have no seat left, read from the store (consistent). */
export type SoldOutTruth = (eventId: string, ticketTypes: readonly string[]) => Promise<string[]>;

/**
 * The flags. Fits the inventory participant's SoldOutHooks (src/participants/deps.ts) by shape: the
 * cache does not import the participants; the service wires one into the other.
 */
export class SoldOutFlags {
  constructor(
    private readonly cache: JsonCache,
    private readonly truth: SoldOutTruth,
    private readonly ttlSeconds = SOLD_OUT_TTL_SECONDS,
  ) {}

  async soldOut(eventId: string, ticketTypes: readonly string[]): Promise<void> {
    if (ticketTypes.length === 0 || !this.cache.available) return;
    const at = new Date().toISOString();
    for (const t of ticketTypes) await this.cache.set(soldOutKey(eventId, t), { at }, this.ttlSeconds);
    // Verify after setting: a release that committed meanwhile is seen here.
    const still = new Set(await this.truth(eventId, ticketTypes));
    for (const t of ticketTypes) if (!still.has(t)) await this.cache.del(soldOutKey(eventId, t));
  }

  async seatsReturned(eventId: string, ticketTypes: readonly string[]): Promise<void> {
    for (const t of ticketTypes) await this.cache.del(soldOutKey(eventId, t));
  }

  /** The ticket types among these flagged sold out; none when Redis is down. */
  async flagged(eventId: string, ticketTypes: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const t of ticketTypes) {
      if ((await this.cache.get(soldOutKey(eventId, t))).status === 'HIT') found.push(t);
    }
    return found;
  }
}
