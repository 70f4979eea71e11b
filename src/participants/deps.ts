/** What every participant needs, injected so tests can control the clock, sleeps and jitter. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResourceNames } from '../infra/resources';
import type { Logger } from '../observability/logger';
import type { InventoryCatalog } from './inventory-catalog';

export interface ParticipantDeps {
  doc: DynamoDBDocumentClient;
  tables: ResourceNames['tables'];
  logger: Logger;
  now?: () => Date;
  /** Cache invalidation after stock moved; best effort (errors are logged, never thrown). */
  onInventoryChanged?: (eventId: string) => Promise<void>;
  /** The sold-out flags (src/cache/sold-out.ts); best effort, absent in tests that do not need them. */
  soldOut?: SoldOutHooks;
  /**
   * The ticket types' prices kept in this worker (./inventory-catalog.ts): a reserve with a kept copy
   * skips its catalog Query. Absent: every reserve reads the rows.
   */
  catalog?: InventoryCatalog;
  /** How long the simulated gateway takes for `tok_slow`. */
  paymentSlowMs: number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); for backoff jitter. */
  random?: () => number;
}

/**
 * What the inventory participant tells the sold-out cache. Both are best effort: the store stays
 * the truth (a wrong flag is corrected by its expiry, or by the next saga's read).
 */
export interface SoldOutHooks {
  /** A read found no seat left in any shard of these ticket types. */
  soldOut(eventId: string, ticketTypes: readonly string[]): Promise<void>;
  /** Seats came back (release, expiry, a larger total, new shards): the flags must go. */
  seatsReturned(eventId: string, ticketTypes: readonly string[]): Promise<void>;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function nowIso(deps: Pick<ParticipantDeps, 'now'>): string {
  return (deps.now?.() ?? new Date()).toISOString();
}

export async function inventoryChanged(
  deps: Pick<ParticipantDeps, 'onInventoryChanged' | 'logger'>,
  eventId: string,
): Promise<void> {
  if (!deps.onInventoryChanged) return;
  try {
    await deps.onInventoryChanged(eventId);
  } catch (error) {
    deps.logger.warn('inventory change hook failed', { eventId, error });
  }
}

/** Calls a sold-out hook; a failure is logged, never thrown (the store is the truth). */
export async function tellSoldOut(
  deps: Pick<ParticipantDeps, 'soldOut' | 'logger'>,
  what: 'soldOut' | 'seatsReturned',
  eventId: string,
  ticketTypes: readonly string[],
): Promise<void> {
  if (!deps.soldOut || ticketTypes.length === 0) return;
  try {
    await deps.soldOut[what](eventId, ticketTypes);
  } catch (error) {
    deps.logger.warn('sold-out hook failed', { eventId, what, error });
  }
}
