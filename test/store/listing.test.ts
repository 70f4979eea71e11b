/**
 * Listings on the emulator: a cursor walk returns every order that held the filter for the whole
 * walk exactly once, however often those orders take steps meanwhile (the sort key never moves).
 */
import { randomUUID } from 'node:crypto';
import { applyEvent, startSaga, type OrderStatus } from '../../machines/order-saga';
import { OrderQueries, type OrderSummary, type Page } from '../../src/store/order-queries';
import { SagaStore, type StoredSaga } from '../../src/store/saga-store';
import { createTestAws, type TestAws } from '../support/aws';

let aws: TestAws;
let store: SagaStore;
let queries: OrderQueries;

beforeAll(async () => {
  aws = await createTestAws('ls');
  store = new SagaStore(aws.clients.doc, aws.names.tables);
  queries = new OrderQueries(aws.clients.doc, aws.names.tables);
});
afterAll(async () => {
  await aws?.cleanup();
});

const reserved = {
  type: 'SEATS_RESERVED',
  reservationId: 'r',
  expiresAt: '2026-11-25T00:00:00.000Z',
  amountMinor: 1000,
  currency: 'EUR',
} as const;

/** An order created at `createdAt`, moved on to awaitingPayment (PROCESSING). */
async function processingOrder(customerId: string, createdAt: string): Promise<StoredSaga> {
  const orderId = randomUUID();
  const items = [{ ticketType: 'GA', quantity: 1 }];
  const decision = startSaga({ orderId, customerId, eventId: 'e', items, paymentToken: 'tok_slow', holdSeconds: 60 });
  const created = await store.create(
    {
      orderId,
      customerId,
      eventId: 'e',
      items,
      status: decision.status,
      totalAmountMinor: null,
      currency: null,
      createdAt,
      updatedAt: createdAt,
      correlationId: 'c',
      requestHash: 'h',
    },
    decision.saga,
    { eventId: `${orderId}:ORDER_PLACED`, eventType: 'ORDER_PLACED', payload: {} },
    createdAt,
  );
  return store.commit(
    created,
    applyEvent(created.saga, reserved),
    { eventId: `${orderId}:r`, eventType: 'SEATS_RESERVED', payload: {} },
    new Date().toISOString(),
  );
}

/** A step that keeps the saga PROCESSING but rewrites updatedAt (and the version). */
async function stepInPlace(saga: StoredSaga): Promise<StoredSaga> {
  const current = (await store.load(saga.orderId))!;
  const next = applyEvent(current.saga, { type: 'HOLD_EXPIRED' }); // awaitingPayment → releasingSeats: still PROCESSING
  return store.commit(
    current,
    next,
    { eventId: `${saga.orderId}:step-${randomUUID()}`, eventType: 'HOLD_EXPIRED', payload: {} },
    new Date().toISOString(),
  );
}

async function walk(
  list: (cursor?: string) => Promise<Page<OrderSummary>>,
  between: () => Promise<void> = async () => undefined,
): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    seen.push(...page.items.map((o) => o.orderId));
    cursor = page.nextCursor ?? undefined;
    await between();
  } while (cursor);
  return seen;
}

it('GET /sagas?status=PROCESSING&limit=1: A takes a step after page 1 and is still listed, exactly once', async () => {
  const status: OrderStatus = 'PROCESSING';
  const a = await processingOrder('c-a', '2026-11-30T10:00:00.000Z');
  const b = await processingOrder('c-b', '2026-11-30T10:00:01.000Z');
  const mine = new Set([a.orderId, b.orderId]);

  const page1 = await queries.listByStatus(status, 1);
  // Other suites' orders share no table with this one (own prefix), so B, the newest, comes first.
  expect(page1.items.map((o) => o.orderId)).toEqual([b.orderId]);
  const moved = await stepInPlace(a);
  expect(moved.status).toBe('PROCESSING');
  expect(moved.updatedAt > b.updatedAt).toBe(true);

  const rest = await walk((cursor) => queries.listByStatus(status, 1, cursor ?? page1.nextCursor ?? undefined));
  const all = [...page1.items.map((o) => o.orderId), ...rest].filter((id) => mine.has(id));
  expect(all).toEqual([b.orderId, a.orderId]);
  // The listing shows the current item, not the index's copy.
  expect((await queries.listByStatus(status, 10)).items.find((o) => o.orderId === a.orderId)?.sagaState).toBe(
    'releasingSeats',
  );
});

it('a customer walk with every order stepping between pages, and two orders created in the same millisecond: each once', async () => {
  const customerId = `c-${randomUUID()}`;
  const sameMs = '2026-11-30T11:00:00.000Z';
  const orders = [
    await processingOrder(customerId, '2026-11-30T10:59:59.000Z'),
    await processingOrder(customerId, sameMs),
    await processingOrder(customerId, sameMs),
    await processingOrder(customerId, '2026-11-30T11:00:01.000Z'),
  ];
  let stepped = false;
  const seen = await walk(
    (cursor) => queries.listByCustomer(customerId, 1, cursor),
    async () => {
      if (stepped) return;
      stepped = true;
      for (const o of orders) await stepInPlace(o);
    },
  );
  expect([...seen].sort()).toEqual(orders.map((o) => o.orderId).sort());
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen[0]).toBe(orders[3].orderId); // newest first
  expect(seen.at(-1)).toBe(orders[0].orderId);
});
