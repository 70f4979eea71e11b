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
import type { PersistedSaga, SagaCommand } from '../../machines/order-saga';
import type { StoredSaga } from './stored-saga';

/**
 * How a build writes the order item. Every build since this one reads both.
 * - 'full' (the default): as every earlier build wrote it, and reads it: whole event ids, the whole
 *   snapshot, `stateEnteredAt` always. A build older than this one misreads a packed item (a
 *   snapshot without its order id issues commands for `undefined`), so packing is switched on only
 *   once no such build runs any more: the expand/contract rule of a rolling deploy.
 * - 'packed': nothing stored twice, as described above (ORDER_ITEM_FORMAT=packed).
 * - 'compact' (issue 25, ORDER_ITEM_FORMAT=compact): 'packed', and the outbox's commands without
 *   what the order gives back (packCommand), the context without its null fields (restored as
 *   null, NULLABLE_CONTEXT). Builds before it read such an outbox wrong (commands without their
 *   order id), so it is switched on only once none of them runs, as 'packed' was.
 */
export type OrderItemFormat = 'full' | 'packed' | 'compact';

/** Whether `format` stores what the item holds twice only once (both 'packed' and 'compact'). */
export const packs = (format: OrderItemFormat): boolean => format !== 'full';

/** How many applied event ids a saga remembers to recognise a redelivery. */
export const REMEMBERED_EVENT_IDS = 25;

/**
 * An applied event id as the order item remembers it: `:<step>` for the saga's own ids
 * (`<orderId>:<step>`: a participant's reply, a timer, ORDER_PLACED), other ids (a person's
 * request under its own key) whole.
 */
export function rememberedEventId(orderId: string, eventId: string, format: OrderItemFormat): string {
  if (packs(format)) return eventId.startsWith(`${orderId}:`) ? eventId.slice(orderId.length) : eventId;
  return eventId.startsWith(':') ? `${orderId}${eventId}` : eventId;
}

/**
 * The applied event ids in `format`'s form (rememberedEventId): a saga read from an Events row
 * holds the short form whatever the item's format; the item is written in its own.
 */
export function rememberedEventIds(orderId: string, ids: readonly string[], format: OrderItemFormat): string[] {
  return ids.map((id) => rememberedEventId(orderId, id, format));
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

/** What a command may leave out because the order gives it back (packCommand). */
type CommandOrder = Partial<Pick<StoredSaga, 'customerId' | 'eventId' | 'items' | 'totalAmountMinor' | 'currency'>> &
  Pick<StoredSaga, 'orderId'>;

/** The commands whose amount is the order's total (a charge, a refund of it). */
const CHARGES_TOTAL = new Set(['ChargePayment', 'RefundPayment']);

/**
 * A command without what its order gives back: `orderId` (the order's), `commandId` when it is the
 * machine's rule `<orderId>:<kind>` (machines/order-saga/machine.ts `command`), and a
 * ReserveSeats' `eventId` and `items`, a SendNotification's or SendHoldReminder's `customerId`,
 * when they are the order's (given in `order`). `unpackCommand` puts them back. Any other value is
 * kept as it is.
 */
export function packCommand(order: CommandOrder, command: SagaCommand): Record<string, unknown> {
  const packed: Record<string, unknown> = { ...command };
  if (command.orderId === order.orderId) delete packed.orderId;
  if (command.commandId === `${order.orderId}:${command.kind}`) delete packed.commandId;
  for (const field of ['eventId', 'items', 'customerId'] as const)
    if (field in packed && order[field] !== undefined && same(packed[field], order[field])) delete packed[field];
  // A reservation is named after its order (the inventory participant).
  if (packed.reservationId === order.orderId) delete packed.reservationId;
  if (
    CHARGES_TOTAL.has(command.kind) &&
    order.totalAmountMinor != null &&
    packed.amountMinor === order.totalAmountMinor &&
    packed.currency === order.currency
  ) {
    delete packed.amountMinor;
    delete packed.currency;
  }
  return packed;
}

/** The command whole again (packCommand's inverse); a whole command passes through unchanged. */
export function unpackCommand(order: CommandOrder, packed: Record<string, unknown>): SagaCommand {
  const kind = String(packed.kind);
  const whole: Record<string, unknown> = {
    ...packed,
    orderId: packed.orderId ?? order.orderId,
    commandId: packed.commandId ?? `${order.orderId}:${kind}`,
  };
  if (kind === 'ReserveSeats') {
    whole.eventId ??= order.eventId;
    whole.items ??= order.items;
  }
  if (kind === 'SendNotification' || kind === 'SendHoldReminder') whole.customerId ??= order.customerId;
  if (kind === 'ConfirmSeats' || kind === 'ReleaseSeats') whole.reservationId ??= order.orderId;
  if (CHARGES_TOTAL.has(kind) && whole.amountMinor === undefined) {
    whole.amountMinor = order.totalAmountMinor;
    whole.currency = order.currency;
  }
  return whole as unknown as SagaCommand;
}

/**
 * The context fields every machine version holds as `T | null` (machines/order-saga/types.ts):
 * 'compact' leaves them out while null, and the reader puts the null back.
 */
const NULLABLE_CONTEXT = ['reservation', 'refund', 'cancelRequested', 'outcome', 'failureReason'] as const;

/**
 * The snapshot as the order item stores it: `saga` without what the item already holds. With
 * `compact` (format 'compact', and every Events row since issue 25's size cut), also the outbox's
 * commands packed (packCommand) and the null fields of NULLABLE_CONTEXT left out.
 */
export function packSaga(
  order: Pick<StoredSaga, (typeof SHARED_WITH_ORDER)[number] | 'totalAmountMinor' | 'currency'>,
  saga: PersistedSaga,
  compact = false,
): Record<string, unknown> {
  const context: Record<string, unknown> = { ...saga.context };
  for (const field of SHARED_WITH_ORDER) if (same(context[field], order[field])) delete context[field];
  if (compact) for (const field of NULLABLE_CONTEXT) if (context[field] === null) delete context[field];
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
  return compact ? { ...saga, context, outbox: saga.outbox.map((c) => packCommand(order, c)) } : { ...saga, context };
}

/**
 * The `saga` attribute of an item in a packing `format`: packSaga's, and in 'compact' without the
 * state, which is the item's `sagaState`.
 */
export function itemSaga(saga: StoredSaga, format: Exclude<OrderItemFormat, 'full'>): Record<string, unknown> {
  if (format === 'packed') return packSaga(saga, saga.saga);
  const { state: _state, ...rest } = packSaga(saga, saga.saga, true);
  return rest;
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
    saga: itemSaga(saga, format),
  };
}

/**
 * A TicketOrders item as read (GetItem, BatchGetItem, Scan) → the StoredSaga, whole again.
 * Items written before the item was packed pass through unchanged.
 */
export function unpackOrderItem(item: Record<string, unknown>): StoredSaga {
  const stored = item as unknown as StoredSaga;
  const whole: StoredSaga = {
    ...stored,
    stateEnteredAt: stored.stateEnteredAt ?? stored.updatedAt,
    // A 'compact' item past version 1 leaves them to its Events row (event-snapshot.ts exactSaga).
    appliedEventIds: stored.appliedEventIds ?? [],
  };
  if (!stored.saga) return whole;
  const context: Record<string, unknown> = { ...stored.saga.context };
  for (const field of SHARED_WITH_ORDER) if (context[field] === undefined) context[field] = stored[field];
  for (const field of NULLABLE_CONTEXT) if (context[field] === undefined) context[field] = null;
  const reservation = stored.saga.context.reservation as Record<string, unknown> | null | undefined;
  if (reservation)
    context.reservation = {
      ...reservation,
      reservationId: reservation.reservationId ?? stored.orderId,
      amountMinor: reservation.amountMinor ?? stored.totalAmountMinor,
      currency: reservation.currency ?? stored.currency,
    };
  const outbox = (stored.saga.outbox ?? []).map((c) => unpackCommand(stored, c as unknown as Record<string, unknown>));
  return {
    ...whole,
    saga: {
      ...stored.saga,
      state: stored.saga.state ?? stored.sagaState,
      context: context as unknown as PersistedSaga['context'],
      outbox,
    },
  };
}
