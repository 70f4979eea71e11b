/**
 * Placing an order, in one place: POST /orders (src/api/routes/orders.ts) and the admitter
 * (src/admission/admitter.ts) both come here. One replay rule: wherever the order's key is met
 * again (the placed saga's stored fingerprint, the waiting room's), the request is a replay when
 * its fingerprint is the first request's (sameRequest, src/runtime/request-fingerprint.ts), and
 * `key-reused` otherwise; SagaRuntime.place itself does not compare.
 *
 * The answers are outcomes, not HTTP: the handler maps them to 202/409/422.
 */
import type { SoldOutFlags } from '../cache/sold-out';
import { IdempotencyKeyReusedError, sameRequest } from '../runtime/request-fingerprint';
import type { PlaceOrder, SagaRuntime } from '../runtime/saga-runtime';
import type { StoredSaga } from '../store/saga-store';
import { EndedWithoutSagaError, type OrderWaitingRoom } from './waiting-room-port';

/** What placing an order needs; the API's and the admitter's deps give it as they are. */
export interface PlaceOrderDeps {
  runtime: Pick<SagaRuntime, 'place'>;
  store: { load(orderId: string): Promise<StoredSaga | undefined> };
  /** Sold-out flags (src/cache/sold-out.ts): a flagged ticket type is refused before any saga starts. */
  soldOut?: Pick<SoldOutFlags, 'flagged'>;
  /** The waiting room: past the event's limit an order waits its turn. */
  waitingRoom?: OrderWaitingRoom;
}

/** A request to place an order, as the HTTP layer checked it. */
export interface PlaceOrderRequest {
  /** The order, its id derived from the Idempotency-Key when there is one, `requestHash` its fingerprint. */
  order: PlaceOrder;
  /** An Idempotency-Key named the order id: the request may be a replay. */
  keyed: boolean;
  /**
   * False when the request does not fit the event as it is now (unknown event or ticket type,
   * mixed currencies): it is served only as a replay of an order placed or queued before.
   */
  fitsEvent: boolean;
}

export type PlaceOrderOutcome =
  /** A new saga started. */
  | { kind: 'placed'; saga: StoredSaga }
  /** The key's order exists and this is the same request: answered as the first request was. */
  | { kind: 'replayed'; saga: StoredSaga }
  /** The order waits in the room; `replayed`: the key's first request is the one waiting. */
  | { kind: 'queued'; orderId: string; position: number; estimatedWaitSeconds: number; replayed: boolean }
  /** The key's order was cancelled while it waited (no saga): a replay answered with that end. */
  | { kind: 'cancelled-while-queued'; orderId: string }
  /** These ticket types are sold out: no saga starts. */
  | { kind: 'sold-out'; ticketTypes: string[] }
  /** The key was used before for a different request: nothing was done. */
  | { kind: 'key-reused' }
  /** The request does not fit the event and is no replay: the caller answers with why it does not fit. */
  | { kind: 'does-not-fit' };

/** The one replay rule applied to a saga found under the key's order id. */
function replayOf(saga: StoredSaga, requestHash: string): PlaceOrderOutcome {
  return sameRequest(saga.requestHash, requestHash) ? { kind: 'replayed', saga } : { kind: 'key-reused' };
}

/** The ticket types of the order flagged sold out; none without flags. */
async function soldOutAmong(deps: Pick<PlaceOrderDeps, 'soldOut'>, order: PlaceOrder): Promise<string[]> {
  return deps.soldOut
    ? deps.soldOut.flagged(
        order.eventId,
        order.items.map((i) => i.ticketType),
      )
    : [];
}

/**
 * A keyed request that cannot be served as new (it no longer fits the event, or is sold out):
 * answered from the placed order, or from the waiting room while the order waits there, under the
 * one rule. Undefined when the key is unknown at both, or the order is admitted but not placed
 * yet: the caller answers as for a new request.
 */
async function replayFromPrior(deps: PlaceOrderDeps, order: PlaceOrder): Promise<PlaceOrderOutcome | undefined> {
  const existing = await deps.store.load(order.orderId);
  if (existing) return replayOf(existing, order.requestHash);
  const room = deps.waitingRoom;
  const fingerprint = await room?.fingerprintOf(order.orderId);
  if (!room || fingerprint === undefined) return undefined;
  if (!sameRequest(fingerprint, order.requestHash)) return { kind: 'key-reused' };
  const standing = await room.standing(order.orderId);
  if (standing.state !== 'waiting') return undefined;
  return {
    kind: 'queued',
    orderId: order.orderId,
    position: standing.position,
    estimatedWaitSeconds: standing.estimatedWaitSeconds,
    replayed: true,
  };
}

/**
 * Places an order (POST /orders): checks sold-out flags, lets the waiting room queue it past the
 * event's limit, starts its saga, and answers a key met again (queued, admitted, placed) as a
 * replay or `key-reused`. A request that does not fit the event or is sold out is looked up under
 * its key only then, so a first request pays no extra read.
 * @throws whatever the runtime, store or room throw beyond the outcomes (a 5xx).
 */
export async function placeOrder(deps: PlaceOrderDeps, request: PlaceOrderRequest): Promise<PlaceOrderOutcome> {
  const { order, keyed } = request;
  // A replay is answered from the stored order whatever changed since (the event's inventory, its
  // prices or currencies, sold out).
  if (!request.fitsEvent) return (keyed && (await replayFromPrior(deps, order))) || { kind: 'does-not-fit' };
  const flagged = await soldOutAmong(deps, order);
  if (flagged.length > 0)
    return (keyed && (await replayFromPrior(deps, order))) || { kind: 'sold-out', ticketTypes: flagged };

  const room = deps.waitingRoom;
  let admittedHere = false;
  // The key met again in the waiting room (queued, or admitted and maybe not placed yet): a replay.
  let replayed = false;
  // The room could not be asked (Redis trouble): the order is placed without it.
  let degradedEntry = false;
  if (room) {
    let entry: Awaited<ReturnType<OrderWaitingRoom['enter']>>;
    try {
      entry = await room.enter(order);
    } catch (error) {
      if (error instanceof IdempotencyKeyReusedError) return { kind: 'key-reused' };
      if (error instanceof EndedWithoutSagaError) {
        // The same request again: answered with how its order ended; nothing is queued or placed.
        return error.outcome === 'sold-out'
          ? { kind: 'sold-out', ticketTypes: order.items.map((i) => i.ticketType) }
          : { kind: 'cancelled-while-queued', orderId: order.orderId };
      }
      throw error;
    }
    admittedHere = entry.admitted && !entry.already;
    replayed = entry.already === true;
    degradedEntry = entry.admitted && entry.degraded === true;
    if (!entry.admitted) {
      // The room keeps a key's fingerprint only while its order waits or holds a place: a key whose
      // order was placed without waiting (no limit then) or whose saga has ended enters as new. So a
      // keyed request newly queued reads the store once: read after entering, so that a saga placed
      // under the key at any time before is seen; the entry is then taken back and the placed order
      // answers (replay or key-reused). The read cannot go without changing answers: the room alone
      // does not know the sagas placed outside it.
      const existing = keyed && !entry.already ? await deps.store.load(order.orderId) : undefined;
      if (existing) {
        await room.leave(order.orderId, true);
        return replayOf(existing, order.requestHash);
      }
      return {
        kind: 'queued',
        orderId: order.orderId,
        position: entry.position,
        estimatedWaitSeconds: entry.estimatedWaitSeconds,
        replayed,
      };
    }
  }
  let result: Awaited<ReturnType<SagaRuntime['place']>>;
  try {
    result = await deps.runtime.place(order);
  } catch (error) {
    // No saga started: give the place back at once.
    if (admittedHere) await room?.ended(order.eventId, order.orderId);
    // The key's first request began a create that never finished (SagaRuntime.place): another
    // request under the key is refused, as for a placed order.
    if (error instanceof IdempotencyKeyReusedError) return { kind: 'key-reused' };
    throw error;
  }
  // Two first requests with one key raced and the other created the order, or the key's first
  // request holds the place (this one may have placed it first): this one is met again.
  if (!result.created || replayed) {
    // The place it took is not its own: the saga holding it is the first request's.
    if (admittedHere) await room?.ended(order.eventId, order.orderId);
    return replayOf(result.saga, order.requestHash);
  }
  // An ENTER that timed out may still have run in Redis and queued the order: its saga now runs,
  // so take that entry back, or the admitter would pop it later and, after sell-out, tell this
  // buyer SOLD_OUT too (docs/flash-sale-bench.md, 2026-12-06). Never throws; nothing there: no-op.
  if (degradedEntry) await room?.leave(order.orderId, true, order.eventId);
  return { kind: 'placed', saga: result.saga };
}

/** What placing an admitted order needs: the room is there (it admitted the order). */
export type PlaceAdmittedDeps = Omit<PlaceOrderDeps, 'waitingRoom'> & {
  waitingRoom: Pick<OrderWaitingRoom, 'placed' | 'toldSoldOut'>;
};

/**
 * Places an order the waiting room admitted (the admitter): told sold out (no saga) when a ticket
 * type is flagged, else its saga starts (idempotent by order id) and the room forgets the request.
 * @throws IdempotencyKeyReusedError when a saga under the id is a different request's (the one
 * rule); the room keeps the request then, as for any failure (the admitter's check retries).
 */
export async function placeAdmittedOrder(
  deps: PlaceAdmittedDeps,
  order: PlaceOrder,
): Promise<'placed' | 'replayed' | 'sold-out'> {
  if ((await soldOutAmong(deps, order)).length > 0) {
    await deps.waitingRoom.toldSoldOut(order.eventId, order.orderId);
    return 'sold-out';
  }
  const result = await deps.runtime.place(order);
  if (!result.created && replayOf(result.saga, order.requestHash).kind === 'key-reused')
    throw new IdempotencyKeyReusedError();
  await deps.waitingRoom.placed(order.orderId);
  return result.created ? 'placed' : 'replayed';
}
