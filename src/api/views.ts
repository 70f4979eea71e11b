/** What the API shows of an order and of its saga. Payment tokens never leave the service. */
import type { OrderSagaContext, OrderSagaState, OrderStatus, SagaCommand } from '../../machines/order-saga';
import type { OrderSummary } from '../store/order-queries';
import type { OrderRecord, SagaHistoryEntry, SagaReading, StoredSaga } from '../store/saga-store';
import type { Entry } from '../orders/waiting-room-port';
import { decimalAmount } from './amounts';

export interface OrderLinks {
  self: string;
  saga: string;
  cancel: string;
}

/**
 * The stored order's public fields (not its correlation id or request hash), its state, its links.
 * `totalAmount` is decimal, in major units of `currency` (docs/api.md, "Money"); null until priced.
 */
export type OrderView = Pick<
  OrderRecord,
  'orderId' | 'customerId' | 'eventId' | 'items' | 'status' | 'currency' | 'createdAt' | 'updatedAt'
> & {
  totalAmount: number | null;
  orderNumber: string | null;
  eventName: string | null;
  sagaState: OrderSagaState;
  links: OrderLinks;
};

/** An order as a listing shows it: its summary with the total in major units, and its links. */
export type OrderSummaryView = Omit<OrderSummary, 'totalAmountMinor'> & {
  totalAmount: number | null;
  links: OrderLinks;
};

export interface SagaView {
  orderId: string;
  orderNumber: string | null;
  eventName: string | null;
  state: OrderSagaState;
  status: OrderStatus;
  version: number;
  machineVersion: string;
  context: OrderSagaContext;
  /** The commands the saga waits on in its current state. */
  outbox: SagaCommand[];
  stateEnteredAt: string;
  updatedAt: string;
  history: SagaHistoryEntry[];
}

export const REDACTED = '[redacted]';

export function orderLinks(orderId: string): OrderLinks {
  return { self: `/orders/${orderId}`, saga: `/sagas/${orderId}`, cancel: `/orders/${orderId}/cancel` };
}

/** GET /orders/:id's answer for an order as read (SagaStore.read). */
export function orderView(saga: SagaReading): OrderView {
  return {
    orderId: saga.orderId,
    orderNumber: saga.orderNumber ?? null,
    eventName: saga.eventName ?? null,
    customerId: saga.customerId,
    eventId: saga.eventId,
    items: saga.items,
    status: saga.status,
    totalAmount: decimalAmount(saga.totalAmountMinor, saga.currency),
    currency: saga.currency ?? null,
    createdAt: saga.createdAt,
    updatedAt: saga.updatedAt,
    sagaState: saga.sagaState,
    links: orderLinks(saga.orderId),
  };
}

export function orderSummaryView(summary: OrderSummary): OrderSummaryView {
  const { totalAmountMinor, ...rest } = summary;
  return {
    ...rest,
    totalAmount: decimalAmount(totalAmountMinor, summary.currency),
    links: orderLinks(summary.orderId),
  };
}

export function sagaView(saga: StoredSaga, history: SagaHistoryEntry[]): SagaView {
  return {
    orderId: saga.orderId,
    orderNumber: saga.orderNumber ?? null,
    eventName: saga.eventName ?? null,
    state: saga.sagaState,
    status: saga.status,
    version: saga.sagaVersion,
    machineVersion: saga.saga.machineVersion,
    context: { ...saga.saga.context, paymentToken: REDACTED },
    outbox: saga.saga.outbox.map((c) => (c.kind === 'ChargePayment' ? { ...c, paymentToken: REDACTED } : c)),
    stateEnteredAt: saga.stateEnteredAt,
    updatedAt: saga.updatedAt,
    history,
  };
}

/** The 202 body of a queued order. */
export function queuedView(orderId: string, entry: Extract<Entry, { admitted: false }>) {
  return {
    orderId,
    status: 'QUEUED',
    position: entry.position,
    estimatedWaitSeconds: entry.estimatedWaitSeconds,
    links: { self: `/orders/${orderId}`, queue: `/orders/${orderId}/queue`, cancel: `/orders/${orderId}/cancel` },
  };
}
