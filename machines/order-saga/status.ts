import type { OrderStatus } from './types';

/** The order status a client sees for each saga state. */
export const ORDER_STATUS_BY_STATE = {
  reserving: 'PENDING',
  awaitingPayment: 'PROCESSING',
  releasingSeats: 'PROCESSING',
  settlingPayment: 'PROCESSING',
  refunding: 'PROCESSING',
  confirming: 'CONFIRMED',
  notifying: 'CONFIRMED',
  completed: 'COMPLETED',
  cancelled: 'CANCELLED',
  failed: 'FAILED',
} as const satisfies Record<string, OrderStatus>;

export type OrderSagaState = keyof typeof ORDER_STATUS_BY_STATE;

export const FINAL_STATES: readonly OrderSagaState[] = ['completed', 'cancelled', 'failed'];

/** Whether a saga in `state` (any string, e.g. read from the store) has ended. */
export function isFinalState(state: string): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}

/** The statuses of sagas still at work: what the sweeper and the stuck-saga listing look through. */
export const OPEN_ORDER_STATUSES: readonly OrderStatus[] = [
  ...new Set(
    (Object.keys(ORDER_STATUS_BY_STATE) as OrderSagaState[])
      .filter((s) => !FINAL_STATES.includes(s))
      .map((s) => ORDER_STATUS_BY_STATE[s]),
  ),
];

export function isOrderSagaState(value: unknown): value is OrderSagaState {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ORDER_STATUS_BY_STATE, value);
}

export function orderStatusOf(state: OrderSagaState): OrderStatus {
  return ORDER_STATUS_BY_STATE[state];
}
