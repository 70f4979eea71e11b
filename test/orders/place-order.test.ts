/**
 * The one replay rule of the placeOrder use case (src/orders/place-order.ts), on the real engines
 * (DynamoDB, SQS, Redis through test/api/harness.ts): an order id met again is a replay only for
 * the first request's fingerprint, whichever path meets it — a request that no longer fits the
 * event, a new request racing onto a taken id, and the admitter placing an admitted request.
 */
import { WaitingRoom } from '../../src/admission/waiting-room';
import { createLogger } from '../../src/observability/logger';
import { placeAdmittedOrder, placeOrder } from '../../src/orders/place-order';
import { IdempotencyKeyReusedError } from '../../src/runtime/request-fingerprint';
import type { PlaceOrder } from '../../src/runtime/saga-runtime';
import { createApiHarness, uniqueId, type ApiHarness } from '../api/harness';

jest.setTimeout(120_000);

let h: ApiHarness;
let room: WaitingRoom;

beforeAll(async () => {
  h = await createApiHarness({ label: 'place' });
  room = new WaitingRoom(h.redis, createLogger('warn'), { keyPrefix: `${h.aws.prefix}po:`, defaultLimit: 0 });
});
afterAll(async () => {
  await h?.close();
});

function anOrder(requestHash: string, orderId = uniqueId('o')): PlaceOrder {
  return {
    orderId,
    customerId: 'c1',
    eventId: uniqueId('ev'),
    items: [{ ticketType: 'GA', quantity: 1 }],
    paymentToken: 'tok_visa',
    correlationId: uniqueId('corr'),
    requestHash,
  };
}

it('a keyed request met again is replayed for the same fingerprint and key-reused for another, on every path', async () => {
  const deps = { runtime: h.runtime, store: h.store };
  const first = anOrder('fp-1');
  const placed = await placeOrder(deps, { order: first, keyed: true, fitsEvent: true });
  expect(placed).toMatchObject({ kind: 'placed', saga: { orderId: first.orderId, requestHash: 'fp-1' } });
  const before = await h.writes();

  // No longer fits the event: answered from the placed order.
  expect(await placeOrder(deps, { order: first, keyed: true, fitsEvent: false })).toMatchObject({
    kind: 'replayed',
    saga: { orderId: first.orderId },
  });
  const other = { ...first, requestHash: 'fp-2' };
  expect(await placeOrder(deps, { order: other, keyed: true, fitsEvent: false })).toEqual({ kind: 'key-reused' });
  // Fits: the runtime finds the id taken and the same rule answers.
  expect(await placeOrder(deps, { order: first, keyed: true, fitsEvent: true })).toMatchObject({ kind: 'replayed' });
  expect(await placeOrder(deps, { order: other, keyed: true, fitsEvent: true })).toEqual({ kind: 'key-reused' });
  // Without a key nothing is looked up: the request's own answer.
  expect(await placeOrder(deps, { order: other, keyed: false, fitsEvent: false })).toEqual({ kind: 'does-not-fit' });
  expect(await h.writes()).toEqual(before);
});

it('the admitter places an admitted request under the same rule: a different request under a taken id is refused, the room keeps it', async () => {
  const deps = { runtime: h.runtime, store: h.store, waitingRoom: room };
  const holder = anOrder('fp-h');
  const queued = { ...anOrder('fp-b'), eventId: holder.eventId };
  await room.setLimit(holder.eventId, 1);
  expect(await room.enter(holder)).toEqual({ admitted: true });
  expect(await room.enter(queued)).toMatchObject({ admitted: false, position: 1 });
  await room.ended(holder.eventId, holder.orderId);
  expect(await room.admitNext(holder.eventId)).toEqual([queued]);

  // Meanwhile a saga was placed under the id by another request (its fingerprint fp-c).
  const other = { ...queued, requestHash: 'fp-c' };
  expect(
    await placeOrder({ runtime: h.runtime, store: h.store }, { order: other, keyed: true, fitsEvent: true }),
  ).toMatchObject({
    kind: 'placed',
  });
  await expect(placeAdmittedOrder(deps, queued)).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  expect(await room.pendingRequest(queued.orderId)).toEqual(queued);
  // The saga's own request: a replay, and the room forgets the request.
  expect(await placeAdmittedOrder(deps, other)).toBe('replayed');
  expect(await room.pendingRequest(queued.orderId)).toBeUndefined();
});
