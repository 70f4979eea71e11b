/** /orders: place, read, list and cancel orders. */
import type { Request, Response } from 'express';
import { endsCancelled, startSaga } from '../../../machines/order-saga';
import { UnknownSagaError, type SagaRuntime } from '../../runtime/saga-runtime';
import type { SoldOutFlags } from '../../cache/sold-out';
import type { WaitingRoom } from '../../admission/waiting-room';
import type { OrderQueries } from '../../store/order-queries';
import { placeOrder, type PlaceOrderOutcome } from '../../orders/place-order';
import type { KeptOrderItems, SagaStore, StoredSaga } from '../../store/saga-store';
import { actorOf, hasRole, principalOf, type Principal } from '../../http/auth/principal';
import { mayRead } from '../../http/auth/require-role';
import { ctxOf } from '../../http/context';
import { newOrderId, orderIdForIdempotencyKey } from '../ids';
import { requestFingerprint } from '../../runtime/request-fingerprint';
import type { CachedInventory, EventCatalog } from '../inventory';
import { ProblemError, type FieldError } from '../../http/problem';
import {
  cancelOrderSchema,
  DEFAULT_PAGE_SIZE,
  emptyQuerySchema,
  ID_REGEX,
  IDEMPOTENCY_KEY_REGEX,
  listOrdersQuerySchema,
  placeOrderSchema,
  type CancelOrderBody,
  type ListOrdersQuery,
  type PlaceOrderBody,
} from '../schemas';
import { orderLinks, orderSummaryView, orderView, queuedView } from '../views';
import { routeOf, type Route, type RouteInput } from '../../http/route';
import { ORDER_ID_PARAM } from '../../http/schemas';

export interface OrdersRouteDeps {
  runtime: SagaRuntime;
  store: SagaStore;
  orders: OrderQueries;
  inventory: CachedInventory;
  /** Sold-out flags: a flagged ticket type is refused before any saga starts. */
  soldOut?: Pick<SoldOutFlags, 'flagged'>;
  /** The waiting room (src/admission/): past the event's limit an order waits its turn (202 QUEUED). */
  waitingRoom?: WaitingRoom;
  /** The order items this process read: a status poll then reads only the latest Events row (SagaStore.read). */
  keptOrders: KeptOrderItems;
}

/** The request's Idempotency-Key header (declared by the route), checked (1-128 visible ASCII characters), if any. */
export function idempotencyKeyOf(headers: RouteInput['headers']): string | undefined {
  const key = headers['Idempotency-Key'];
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_REGEX.test(key)) {
    throw new ProblemError('invalid-header', 'Idempotency-Key must be 1 to 128 visible ASCII characters', [
      { field: 'Idempotency-Key', message: 'must be 1 to 128 visible ASCII characters' },
    ]);
  }
  return key;
}

/** One line per ticket type (needs no catalog). */
function checkDistinctTypes(body: PlaceOrderBody): void {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  body.items.forEach((item, i) => {
    const first = seen.get(item.ticketType);
    if (first !== undefined)
      errors.push({ field: `/items/${i}/ticketType`, message: `duplicates /items/${first}/ticketType` });
    else seen.set(item.ticketType, i);
  });
  if (errors.length > 0)
    throw new ProblemError('unprocessable-order', 'each ticket type may appear once in items', errors);
}

/** What `check` throws, or undefined when it passes. */
function refusalOf(check: () => void): unknown {
  try {
    check();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Checks what the schema cannot: one line per ticket type, and that the event sells them. */
function checkAgainstInventory(body: PlaceOrderBody, inventory: EventCatalog | undefined): void {
  checkDistinctTypes(body);
  const errors: FieldError[] = [];
  if (!inventory) {
    throw new ProblemError('unknown-event', `event ${body.eventId} has no tickets on sale`, [
      { field: '/eventId', message: 'unknown event' },
    ]);
  }
  const byType = new Map(inventory.ticketTypes.map((t) => [t.ticketType, t]));
  const currencies = new Set<string>();
  body.items.forEach((item, i) => {
    const type = byType.get(item.ticketType);
    if (!type)
      errors.push({
        field: `/items/${i}/ticketType`,
        message: `event ${body.eventId} has no ticket type ${item.ticketType}`,
      });
    else currencies.add(type.currency);
  });
  if (errors.length > 0) throw new ProblemError('unprocessable-order', 'unknown ticket type for this event', errors);
  if (currencies.size > 1) {
    throw new ProblemError(
      'unprocessable-order',
      'the ticket types ordered are priced in different currencies; order them separately',
      [{ field: '/items', message: 'mixed currencies' }],
    );
  }
}

/**
 * The customer an order is placed for: the caller. A body customerId must name the caller
 * (403 otherwise); a sub that cannot be a customer id is refused (403) rather than rewritten.
 */
function customerIdFor(principal: Principal, body: PlaceOrderBody): string {
  if (body.customerId !== undefined && body.customerId !== principal.sub) {
    throw new ProblemError(
      'forbidden',
      "a customer places orders only for itself: customerId must be your token's sub, or absent",
      [{ field: '/customerId', message: 'must equal the token subject' }],
    );
  }
  if (!ID_REGEX.test(principal.sub)) {
    throw new ProblemError(
      'forbidden',
      'your token subject cannot be used as a customer id (letters, digits and ._:@-, at most 128)',
    );
  }
  return principal.sub;
}

/** A saga the caller may see, or a 404 that reads the same whether it exists or belongs to someone else. */
export function visibleSaga<S extends Pick<StoredSaga, 'customerId'>>(
  principal: Principal,
  saga: S | undefined,
  orderId: string,
  what = 'order',
): S {
  if (!saga || !mayRead(principal, saga.customerId))
    throw new ProblemError('not-found', `${what} ${orderId} does not exist`);
  return saga;
}

/**
 * What the first POST of an order answered: the order as created, in the machine's initial state.
 * A replay answers exactly this, whatever happened to the order since (its links give the now).
 */
function firstAnswer(existing: StoredSaga) {
  const { orderId } = existing;
  const { saga, status } = startSaga({
    orderId,
    customerId: '',
    eventId: '',
    items: [],
    paymentToken: '',
    holdSeconds: 1,
  });
  // The order number and event name were given at creation: the first answer carried them.
  return {
    orderId,
    orderNumber: existing.orderNumber ?? null,
    eventName: existing.eventName ?? null,
    status,
    sagaState: saga.state,
    links: orderLinks(orderId),
  };
}

/** 409 sold-out: no seat left for these ticket types; no saga starts. */
function soldOutProblem(body: PlaceOrderBody, flagged: string[]): ProblemError {
  return new ProblemError(
    'sold-out',
    `sold out: no ${flagged.join(', ')} seats left for event ${body.eventId}`,
    undefined,
    {
      eventId: body.eventId,
      ticketTypes: flagged,
    },
  );
}

function accepted(saga: StoredSaga) {
  return {
    orderId: saga.orderId,
    orderNumber: saga.orderNumber ?? null,
    eventName: saga.eventName ?? null,
    status: saga.status,
    sagaState: saga.sagaState,
    links: orderLinks(saga.orderId),
  };
}

export function keyReused(): ProblemError {
  return new ProblemError(
    'idempotency-key-reused',
    'this Idempotency-Key was already used for a different order request',
    [{ field: 'Idempotency-Key', message: 'already used with a different body' }],
  );
}

/** POST /orders's answer for each outcome of placing an order (src/orders/place-order.ts). */
function answerPlaced(res: Response, body: PlaceOrderBody, outcome: PlaceOrderOutcome, unfit: unknown): void {
  const log = ctxOf(res).log;
  switch (outcome.kind) {
    case 'placed':
      res.status(202).location(`/orders/${outcome.saga.orderId}`).json(accepted(outcome.saga));
      return;
    case 'replayed': {
      const { orderId, sagaState } = outcome.saga;
      res.setHeader('Idempotent-Replayed', 'true');
      log.info('order request replayed', { orderId, sagaState });
      res.status(202).location(`/orders/${orderId}`).json(firstAnswer(outcome.saga));
      return;
    }
    case 'queued': {
      const { orderId, position, estimatedWaitSeconds, replayed } = outcome;
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      log.info(replayed ? 'queued order request replayed' : 'order queued', { orderId, position });
      res
        .status(202)
        .location(`/orders/${orderId}/queue`)
        .json(queuedView(orderId, { admitted: false, position, estimatedWaitSeconds }));
      return;
    }
    case 'cancelled-while-queued':
      res.setHeader('Idempotent-Replayed', 'true');
      res.status(202).json({ orderId: outcome.orderId, status: 'CANCELLED' });
      return;
    case 'sold-out':
      throw soldOutProblem(body, outcome.ticketTypes);
    case 'key-reused':
      throw keyReused();
    case 'does-not-fit':
      throw unfit;
  }
}

/** POST /orders: place an order (its saga starts, or it waits in the event's waiting room). */
async function postOrder(
  deps: OrdersRouteDeps,
  input: RouteInput<Record<string, never>, PlaceOrderBody>,
  req: Request,
  res: Response,
): Promise<void> {
  const ctx = ctxOf(res);
  const given = input.body;
  const body = { ...given, customerId: customerIdFor(principalOf(res), given) };
  const key = idempotencyKeyOf(input.headers);
  const orderId = key === undefined ? newOrderId() : orderIdForIdempotencyKey(body.customerId, key);
  const requestHash = requestFingerprint(body);
  const duplicate = refusalOf(() => checkDistinctTypes(body));
  let inventory = await deps.inventory.catalog(body.eventId);
  let unfit = duplicate ?? refusalOf(() => checkAgainstInventory(body, inventory));
  // The cached catalog may lag a write that did not drop it (it is dropped by the PUT only): an order
  // is refused on the catalog only after a fresh read. An unknown event was read fresh already
  // (absence is not cached); a duplicate line needs no catalog.
  if (duplicate === undefined && unfit !== undefined && inventory) {
    inventory = await deps.inventory.catalog(body.eventId, { fresh: true });
    unfit = refusalOf(() => checkAgainstInventory(body, inventory));
  }
  const order = {
    orderId,
    customerId: body.customerId,
    eventId: body.eventId,
    items: body.items,
    paymentToken: body.paymentToken,
    correlationId: ctx.correlationId,
    requestHash,
    eventName: inventory?.eventName,
  };
  const outcome = await placeOrder(deps, { order, keyed: key !== undefined, fitsEvent: unfit === undefined });
  // The item as this request wrote it: the buyer's first status poll here reads only the Events row.
  if (outcome.kind === 'placed') deps.keptOrders.remember(outcome.saga);
  answerPlaced(res, body, outcome, unfit);
}

/** GET /orders: a customer's orders, newest first (an operator names the customer). */
async function listOrders(
  deps: OrdersRouteDeps,
  { query }: RouteInput<ListOrdersQuery>,
  _req: Request,
  res: Response,
): Promise<void> {
  const principal = principalOf(res);
  let customerId = query.customerId;
  if (!hasRole(principal, 'operator')) {
    if (customerId !== undefined && customerId !== principal.sub) {
      throw new ProblemError(
        'forbidden',
        "a customer lists only its own orders: customerId must be your token's sub, or absent",
        [{ field: 'customerId', message: 'must equal the token subject' }],
      );
    }
    customerId = principal.sub;
  } else if (customerId === undefined) {
    throw new ProblemError('validation', 'the request query is invalid', [
      { field: '/customerId', message: 'is required' },
    ]);
  }
  const page = await deps.orders.listByCustomer(customerId, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  res.json({ items: page.items.map(orderSummaryView), nextCursor: page.nextCursor });
}

/** GET /orders/:orderId: one order, the caller's own (an operator: any). */
async function getOrder(deps: OrdersRouteDeps, { params }: RouteInput, _req: Request, res: Response): Promise<void> {
  const { orderId } = params;
  // Exact (docs/api.md, "Reads"): the latest Events row, over the order item this process kept.
  const saga = visibleSaga(principalOf(res), await deps.store.read(orderId, deps.keptOrders), orderId);
  res.json(orderView(saga));
}

/** POST /orders/:orderId/cancel: the customer cancels its order (or takes it out of the waiting room). */
async function postCancel(
  deps: OrdersRouteDeps,
  input: RouteInput<Record<string, never>, CancelOrderBody>,
  _req: Request,
  res: Response,
): Promise<void> {
  const ctx = ctxOf(res);
  const { orderId } = input.params;
  const body = input.body;
  const principal = principalOf(res);
  const current = await deps.store.load(orderId);
  // Only the customer who placed it cancels it; anyone else is told it does not exist.
  if (
    !current &&
    (await deps.waitingRoom?.ownerOf(orderId)) === principal.sub &&
    (await deps.waitingRoom?.leave(orderId))
  ) {
    ctx.log.info('queued order left the waiting room', { orderId });
    res.status(202).json({ orderId, status: 'CANCELLED', cancelRequested: true });
    return;
  }
  if (!current || current.customerId !== principal.sub)
    throw new ProblemError('not-found', `order ${orderId} does not exist`);
  const by = actorOf(principal, 'customer');
  let outcome: Awaited<ReturnType<SagaRuntime['request']>>;
  try {
    outcome = await deps.runtime.request(
      orderId,
      `${orderId}:CANCEL_REQUESTED`,
      { type: 'CANCEL_REQUESTED', by, reason: body.reason ?? 'cancelled by the customer' },
      by,
    );
  } catch (error) {
    if (error instanceof UnknownSagaError) throw new ProblemError('not-found', `order ${orderId} does not exist`);
    throw error;
  }
  const saga = outcome.saga;
  // Idempotent once the order is cancelled or bound to be, however it got there (the customer,
  // an expired hold, a declined card, an operator): the machine says which states those are.
  if (!outcome.accepted && !endsCancelled(saga.saga)) {
    throw new ProblemError(
      'too-late-to-cancel',
      `order ${orderId} can no longer be cancelled: its saga is ${saga.sagaState}`,
      undefined,
      {
        orderId,
        orderStatus: saga.status,
        sagaState: saga.sagaState,
      },
    );
  }
  ctx.log.info(outcome.accepted && !outcome.replayed ? 'cancel requested' : 'cancel already under way', {
    orderId,
    sagaState: saga.sagaState,
  });
  if (outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(202).json({ ...accepted(saga), cancelRequested: true });
}

const route = routeOf<OrdersRouteDeps>();

/** The /orders routes. */
export const ORDER_ROUTES: ReadonlyArray<Route<OrdersRouteDeps>> = [
  route<Record<string, never>, PlaceOrderBody>({
    method: 'post',
    path: '/orders',
    roles: ['customer'],
    // Orders per minute per customer (src/api/guards/rate-limits.ts), after the role check.
    limiter: 'orders',
    summary: 'Place an order: starts its saga',
    tag: 'orders',
    query: emptyQuerySchema,
    body: placeOrderSchema,
    headers: ['Idempotency-Key'],
    ok: { 202: { json: 'OrderPlaceAnswer' } },
    problems: [400, 409, 413, 415, 422],
    handle: postOrder,
  }),
  route<ListOrdersQuery>({
    method: 'get',
    path: '/orders',
    roles: ['customer', 'operator'],
    summary: "A customer's orders, newest first",
    tag: 'orders',
    query: listOrdersQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: listOrders,
  }),
  route({
    method: 'get',
    path: '/orders/:orderId',
    roles: ['customer', 'operator'],
    summary: 'One order',
    tag: 'orders',
    query: emptyQuerySchema,
    params: { orderId: ORDER_ID_PARAM },
    ok: { 200: { json: 'Order' } },
    problems: [400, 404],
    handle: getOrder,
  }),
  route<Record<string, never>, CancelOrderBody>({
    method: 'post',
    path: '/orders/:orderId/cancel',
    roles: ['customer'],
    summary: 'Cancel an order (customer)',
    tag: 'orders',
    query: emptyQuerySchema,
    body: cancelOrderSchema,
    bodyOptional: true,
    params: { orderId: ORDER_ID_PARAM },
    ok: { 202: 'json' },
    problems: [400, 404, 409],
    handle: postCancel,
  }),
];
