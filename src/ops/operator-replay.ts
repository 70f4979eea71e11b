/**
 * Idempotency-Key on operator actions (retry, compensate): the action's Events row gets an id derived
 * from the operator, the action, the saga and the key, so a repeated request (a lost response, a
 * double click) finds its row and is answered with what the first one got, instead of acting twice
 * or being refused because the saga has moved on.
 */
import { createHash } from 'node:crypto';
import { orderStatusOf, isOrderSagaState, type OrderSagaState, type OrderStatus } from '../../machines/order-saga';
import type { SagaHistoryEntry, SagaStore } from '../store/saga-store';

export type OperatorAction = 'retry' | 'compensate';

/** `operator:<32 hex>`: sha256 of operator, action, order id and key (unique per key and operator). */
export function operatorActionEventId(by: string, action: OperatorAction, orderId: string, key: string): string {
  return `operator:${createHash('sha256').update(`${by}\n${action}\n${orderId}\n${key}`).digest('hex').slice(0, 32)}`;
}

/** What the first request with a key was answered, rebuilt from the Events row it wrote. */
export interface RecordedAction {
  orderId: string;
  state: OrderSagaState;
  status: OrderStatus;
  version: number;
  reason: string | undefined;
  payload: Record<string, unknown>;
}

/** The Events row an earlier request with this event id wrote, as its answer; undefined if none. */
export async function findRecordedAction(
  store: SagaStore,
  orderId: string,
  eventId: string,
): Promise<RecordedAction | undefined> {
  const row: SagaHistoryEntry | undefined = (await store.history(orderId)).find((h) => h.eventId === eventId);
  if (!row || !isOrderSagaState(row.toState)) return undefined;
  const reason = typeof row.payload.reason === 'string' ? row.payload.reason : undefined;
  return {
    orderId,
    state: row.toState,
    status: orderStatusOf(row.toState),
    version: row.version,
    reason,
    payload: row.payload,
  };
}
