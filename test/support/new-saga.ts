/**
 * A fresh saga written through the store's own create (the machine's first decision, an
 * ORDER_PLACED row): what the store-level tests start from. Real engines only (`store` is a
 * SagaStore on the test's tables).
 */
import { randomUUID } from 'node:crypto';
import { startSaga } from '../../machines/order-saga';
import type { SagaStore, StoredSaga } from '../../src/store/saga-store';

/** The order a test saga is placed for; each field has a plain default. */
export interface TestOrder {
  customerId?: string;
  eventId?: string;
  /** Seats of ticket type GA (default 1). */
  quantity?: number;
}

/** Creates a saga for a new random order id on `store` and returns it as stored (version 1). */
export async function createTestSaga(store: SagaStore, order: TestOrder = {}): Promise<StoredSaga> {
  const orderId = randomUUID();
  const customerId = order.customerId ?? 'c';
  const eventId = order.eventId ?? 'e';
  const items = [{ ticketType: 'GA', quantity: order.quantity ?? 1 }];
  const decision = startSaga({ orderId, customerId, eventId, items, paymentToken: 'tok_success', holdSeconds: 60 });
  const now = new Date().toISOString();
  return store.create(
    {
      orderId,
      customerId,
      eventId,
      items,
      status: decision.status,
      totalAmountMinor: null,
      currency: null,
      createdAt: now,
      updatedAt: now,
      correlationId: 'corr',
      requestHash: 'h',
    },
    decision.saga,
    { eventId: `${orderId}:ORDER_PLACED`, eventType: 'ORDER_PLACED', payload: {} },
    now,
  );
}
