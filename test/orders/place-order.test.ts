/**
 * The one replay rule of the placeOrder use case (src/orders/place-order.ts), on the real engines
 * (DynamoDB, SQS, Redis through test/api/harness.ts): an order id met again is a replay only for
 * the first request's fingerprint, whichever path meets it — a request that no longer fits the
 * event, a new request racing onto a taken id, and the admitter placing an admitted request; and
 * a create that died after its Events row (issue 25: the create is plain writes), finished only by
 * the same request.
 */
import { WaitingRoom } from '../../src/admission/waiting-room';
import { createLogger } from '../../src/observability/logger';
import { placeAdmittedOrder, placeOrder } from '../../src/orders/place-order';
import { IdempotencyKeyReusedError } from '../../src/runtime/request-fingerprint';
import { Dispatcher } from '../../src/runtime/dispatcher';
import { SagaRuntime, type PlaceOrder } from '../../src/runtime/saga-runtime';
import { OrderNumbers } from '../../src/store/order-numbers';
import type { SagaStore, StoredSaga } from '../../src/store/saga-store';
import { checkInvariants } from '../../tools/invariants';
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

it('a create that died after its Events row (crash point create:after-row): invisible and unsent; the same request finishes it with the first number and time, another is refused', async () => {
  // A runtime whose writer dies at the crash point: everything before it is written for real.
  const died = new Error('killed at create:after-row');
  const dying = Object.assign(Object.create(h.store) as SagaStore, {
    finishCreate: () => Promise.reject(died),
  });
  const orderNumbers = new OrderNumbers(h.aws.clients.doc, h.aws.names.tables.orderNumbers);
  const runtimeOn = (store: SagaStore, now: Date) =>
    new SagaRuntime({
      store,
      dispatcher: new Dispatcher(h.aws.clients.sqs, h.queues),
      logger: createLogger('warn'),
      holdSeconds: h.config.holdSeconds,
      orderNumbers,
      now: () => now,
    });
  const first = anOrder('fp-1');
  const before = await h.writes();
  const firstAt = new Date('2026-12-06T08:00:00.000Z');
  await expect(
    placeOrder({ runtime: runtimeOn(dying, firstAt), store: h.store }, { order: first, keyed: true, fitsEvent: true }),
  ).rejects.toBe(died);
  // Nobody can see it and no command went out; the checker counts it, not as a violation.
  expect(await h.store.load(first.orderId)).toBeUndefined();
  expect(await h.writes()).toEqual({ ...before, events: before.events + 1 });
  // Checked as at the order's time: no worker runs here, so only what was written is judged.
  const asPlaced = { now: () => firstAt };
  const unfinished = await checkInvariants({ doc: h.aws.clients.doc, tables: h.aws.names.tables }, asPlaced);
  expect(unfinished.counts.unfinishedCreates).toBe(1);
  expect(unfinished.violations.filter((v) => v.subject.includes(first.orderId))).toEqual([]);

  // Another request under the key: refused, nothing written.
  const deps = { runtime: runtimeOn(h.store, new Date('2026-12-06T08:01:00.000Z')), store: h.store };
  expect(await placeOrder(deps, { order: { ...first, requestHash: 'fp-2' }, keyed: true, fitsEvent: true })).toEqual({
    kind: 'key-reused',
  });
  expect(await h.store.load(first.orderId)).toBeUndefined();

  // The same request again (the client's retry): the create is finished as the first would have.
  const placed = await placeOrder(deps, { order: first, keyed: true, fitsEvent: true });
  expect(placed).toMatchObject({ kind: 'placed', saga: { orderId: first.orderId, createdAt: firstAt.toISOString() } });
  const saga = (placed as { saga: StoredSaga }).saga;
  const history = await h.store.history(first.orderId);
  expect(history.map((r) => [r.version, r.eventType, r.timestamp])).toEqual([
    [1, 'ORDER_PLACED', firstAt.toISOString()],
  ]);
  // The number is the one the first create recorded (its claim may be written: it points here).
  expect(saga.orderNumber).toMatch(/^ET-2026-/);
  expect(await orderNumbers.find(saga.orderNumber!)).toBe(first.orderId);
  expect(await h.writes()).toEqual({
    orders: before.orders + 1,
    events: before.events + 1,
    reserveMessages: before.reserveMessages + 1,
  });
  expect(await placeOrder(deps, { order: first, keyed: true, fitsEvent: true })).toMatchObject({ kind: 'replayed' });
  const finished = await checkInvariants({ doc: h.aws.clients.doc, tables: h.aws.names.tables }, asPlaced);
  expect(finished.counts.unfinishedCreates).toBe(0);
  expect(finished.violations.filter((v) => v.subject.includes(first.orderId))).toEqual([]);
});
