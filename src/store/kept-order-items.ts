/**
 * Order items this API process has read, kept so that a buyer's status poll (GET /orders/:id) needs
 * one DynamoDB request, the latest Events row, instead of two (SagaStore.read; issue 25, the poll).
 *
 * Why a kept item may be old and still give the exact answer: what the poll takes from the item
 * alone is the order's fixed fields (customer, event, items, number, event name, creation time),
 * written once by the create and never changed, and orders are never deleted. Where the saga
 * stands (status, state, total, updatedAt) comes from the latest Events row, the commit, read
 * strongly consistent on every poll, exactly as `SagaStore.load` reads it over a lagging item
 * (event-snapshot.ts exactSaga). A row the kept item cannot be read under (one an older build wrote
 * without a snapshot) sends the read back to the item (SagaStore.read).
 *
 * Bounded: least recently used, at most `maxEntries` items (lru-cache). The payment token is not
 * kept (tokens never leave the order item): the kept copy holds PAYMENT_TOKEN_REDACTED instead, and
 * what SagaStore.read returns never carries the saga's context.
 */
import { LRUCache } from 'lru-cache';
import { PAYMENT_TOKEN_REDACTED, withToken } from './event-snapshot';
import type { StoredSaga } from './stored-saga';

/** The default bound: 10,000 items of a few KB each, tens of MB at most (as the runtime's SnapshotCache). */
export const DEFAULT_KEPT_ORDER_ITEMS = 10_000;

export class KeptOrderItems {
  private readonly items: LRUCache<string, StoredSaga>;

  /** @throws RangeError when maxEntries is not a positive integer. */
  constructor(readonly maxEntries: number = DEFAULT_KEPT_ORDER_ITEMS) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.items = new LRUCache({ max: maxEntries });
  }

  /** The item kept for `orderId` (unpacked, its payment token redacted), marked most recently used. */
  get(orderId: string): StoredSaga | undefined {
    return this.items.get(orderId);
  }

  /** Keeps `item`, the order item as read (unpacked), without its payment token. */
  remember(item: StoredSaga): void {
    const context = item.saga.context;
    this.items.set(item.orderId, {
      ...item,
      saga: {
        ...item.saga,
        context: { ...context, paymentToken: PAYMENT_TOKEN_REDACTED },
        outbox: withToken(item.saga.outbox, PAYMENT_TOKEN_REDACTED),
      },
    });
  }

  /** Items kept. */
  get size(): number {
    return this.items.size;
  }
}
