/**
 * How a saga sits on its TicketOrders item, byte for byte. DynamoDB bills a write per started KB
 * (1 WRU, 2 inside a transaction, and every saga step is one), so the item keeps under 1 KB
 * through a completed order by storing nothing twice:
 * - the saga's own event ids are `<orderId>:<step>`; the item remembers `:<step>`;
 * - the snapshot omits the context fields the item holds at its top level with the same value
 *   (orderId, customerId, eventId, items), the reservation's id when it is the order's (the
 *   inventory participant names a reservation after its order), and the reservation's amount and
 *   currency when they are the order's total;
 * - `stateEnteredAt` is omitted when it equals `updatedAt` (the step moved the state).
 * `unpackOrderItem` puts all of it back; items written whole (format 'full', and every item written
 * before this) read the same. Everything that reads or writes the order's saga goes through this
 * file and SagaStore.
 */
import type { PersistedSaga } from '../../machines/order-saga';
import type { StoredSaga } from './stored-saga';

/**
 * How a build writes the order item. Every build since this one reads both.
 * - 'full' (the default): as every earlier build wrote it, and reads it: whole event ids, the whole
 *   snapshot, `stateEnteredAt` always. A build older than this one misreads a packed item (a
 *   snapshot without its order id issues commands for `undefined`), so packing is switched on only
 *   once no such build runs any more: the expand/contract rule of a rolling deploy.
 * - 'packed': nothing stored twice, as described above (ORDER_ITEM_FORMAT=packed).
 */
export type OrderItemFormat = 'full' | 'packed';

/** How many applied event ids a saga remembers to recognise a redelivery. */
export const REMEMBERED_EVENT_IDS = 25;

/**
 * An applied event id as the order item remembers it: `:<step>` for the saga's own ids
 * (`<orderId>:<step>`: a participant's reply, a timer, ORDER_PLACED), other ids (a person's
 * request under its own key) whole.
 */
export function rememberedEventId(orderId: string, eventId: string, format: OrderItemFormat): string {
  return format === 'packed' && eventId.startsWith(`${orderId}:`) ? eventId.slice(orderId.length) : eventId;
}

/**
 * Whether the saga applied this event before: 'last' when it was its latest step (its sender may
 * have died before sending that step's commands), 'earlier', or null. Items written before ids were
 * shortened hold whole ids; both forms are recognised.
 */
export function appliedBefore(
  saga: Pick<StoredSaga, 'orderId' | 'appliedEventIds'>,
  eventId: string,
): 'last' | 'earlier' | null {
  const forms = new Set([eventId, rememberedEventId(saga.orderId, eventId, 'packed')]);
  const ids = saga.appliedEventIds;
  if (ids.length > 0 && forms.has(ids[ids.length - 1])) return 'last';
  return ids.some((id) => forms.has(id)) ? 'earlier' : null;
}

/** Context fields that repeat the order item's top-level attributes of the same name. */
const SHARED_WITH_ORDER = ['orderId', 'customerId', 'eventId', 'items'] as const;

/** JSON with object keys sorted: DynamoDB does not keep a map's key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The snapshot as the order item stores it: `saga` without what the item already holds. */
export function packSaga(
  order: Pick<StoredSaga, (typeof SHARED_WITH_ORDER)[number] | 'totalAmountMinor' | 'currency'>,
  saga: PersistedSaga,
): Record<string, unknown> {
  const context: Record<string, unknown> = { ...saga.context };
  for (const field of SHARED_WITH_ORDER) if (same(context[field], order[field])) delete context[field];
  const reservation = saga.context.reservation;
  if (reservation) {
    const packed: Record<string, unknown> = { ...reservation };
    if (reservation.reservationId === order.orderId) delete packed.reservationId;
    if (reservation.amountMinor === order.totalAmountMinor && reservation.currency === order.currency) {
      delete packed.amountMinor;
      delete packed.currency;
    }
    context.reservation = packed;
  }
  return { ...saga, context };
}

/** Whether a packed item leaves `stateEnteredAt` out (see unpackOrderItem). */
export const omitsStateEnteredAt = (saga: Pick<StoredSaga, 'stateEnteredAt' | 'updatedAt'>): boolean =>
  saga.stateEnteredAt === saga.updatedAt;

/** The item a new saga is written as (PutItem), in `format`. */
export function packOrderItem(saga: StoredSaga, format: OrderItemFormat): Record<string, unknown> {
  if (format === 'full') return { ...saga };
  const { stateEnteredAt, ...rest } = saga;
  return {
    ...rest,
    ...(omitsStateEnteredAt(saga) ? {} : { stateEnteredAt }),
    saga: packSaga(saga, saga.saga),
  };
}

/**
 * A TicketOrders item as read (GetItem, BatchGetItem, Scan) → the StoredSaga, whole again.
 * Items written before the item was packed pass through unchanged.
 */
export function unpackOrderItem(item: Record<string, unknown>): StoredSaga {
  const stored = item as unknown as StoredSaga;
  const whole: StoredSaga = { ...stored, stateEnteredAt: stored.stateEnteredAt ?? stored.updatedAt };
  if (!stored.saga) return whole;
  const context: Record<string, unknown> = { ...stored.saga.context };
  for (const field of SHARED_WITH_ORDER) if (context[field] === undefined) context[field] = stored[field];
  const reservation = stored.saga.context.reservation as Record<string, unknown> | null | undefined;
  if (reservation)
    context.reservation = {
      ...reservation,
      reservationId: reservation.reservationId ?? stored.orderId,
      amountMinor: reservation.amountMinor ?? stored.totalAmountMinor,
      currency: reservation.currency ?? stored.currency,
    };
  return { ...whole, saga: { ...stored.saga, context: context as unknown as PersistedSaga['context'] } };
}
