/**
 * The console's saga listing on the real tables: newest first (by creation) over every status
 * partition, pages that together hold each saga once, and the filters (event, customer, state,
 * status, open, stuck, search) keeping exactly what they should.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SagaListing } from '../../src/console/saga-listing';
import { StuckSagas } from '../../src/ops/stuck-sagas';
import { OrderQueries } from '../../src/store/order-queries';
import { eventually, newEvent, placeOrder, startTestService, type TestService } from '../support/service';

jest.setTimeout(300_000);

let service: TestService;
let listing: SagaListing;

beforeAll(async () => {
  service = await startTestService({}, { label: 'cl' });
  const { store } = service.core;
  const orders = new OrderQueries(service.core.clients.doc, service.core.names.tables);
  listing = new SagaListing({
    store,
    stuck: new StuckSagas({ store, orders, stuckAfterMs: 60_000 }),
    stuckAfterMs: 60_000,
  });
});
afterAll(async () => {
  await service?.stop();
});

it('pages through every saga of a filter once, newest first, across statuses', async () => {
  const eventId = await newEvent(service.core, 20, 10);
  const ok = await Promise.all(
    [1, 2, 3].map(() => placeOrder(service.core, { eventId, paymentToken: 'tok_success', customerId: 'c-list' })),
  );
  const declined = await Promise.all(
    [1, 2].map(() => placeOrder(service.core, { eventId, paymentToken: 'tok_declined', customerId: 'c-other' })),
  );
  for (const id of [...ok, ...declined])
    await eventually(
      () => service.core.store.load(id),
      (s) => s?.status === 'COMPLETED' || s?.status === 'CANCELLED',
      90000,
    );

  const seen: string[] = [];
  const times: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await listing.list({ eventId }, 2, cursor);
    pages++;
    expect(page.rows.length).toBeLessThanOrEqual(2);
    for (const row of page.rows) {
      seen.push(row.saga.orderId);
      times.push(`${row.saga.createdAt}#${row.saga.orderId}`);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages < 10);
  expect(seen.sort()).toEqual([...ok, ...declined].sort());
  expect(pages).toBe(3);
  expect([...times]).toEqual([...times].sort().reverse());

  const byCustomer = await listing.list({ eventId, customerId: 'c-list' }, 25);
  expect(byCustomer.rows.map((r) => r.saga.orderId).sort()).toEqual([...ok].sort());
  const cancelled = await listing.list({ eventId, state: 'cancelled' }, 25);
  expect(cancelled.rows.map((r) => r.saga.orderId).sort()).toEqual([...declined].sort());
  expect((await listing.list({ eventId, status: 'COMPLETED' }, 25)).rows.map((r) => r.saga.orderId).sort()).toEqual(
    [...ok].sort(),
  );
  expect((await listing.list({ eventId, open: true }, 25)).rows).toEqual([]);
  expect((await listing.list({ eventId, maxAgeMs: 3_600_000 }, 25)).rows).toHaveLength(5);
  expect((await listing.list({ q: ok[0] }, 25)).rows.map((r) => r.saga.orderId)).toEqual([ok[0]]);
  expect((await listing.list({ q: 'ET-2026-999999' }, 25)).rows).toEqual([]);
  // Open sagas are counted from the overview's scan (none here: all ended), final ones on the index
  // (created within the window).
  const counts = await listing.countsByState([]);
  expect(counts.completed).toBeGreaterThanOrEqual(3);
  expect(counts.cancelled).toBeGreaterThanOrEqual(2);
});

it('stuck only: a saga held in a working state past the threshold is listed, and only it', async () => {
  const eventId = await newEvent(service.core, 5, 10);
  const orderId = await placeOrder(service.core, { eventId, paymentToken: 'tok_success', customerId: 'c-stuck' });
  const fine = await placeOrder(service.core, { eventId, paymentToken: 'tok_success', customerId: 'c-stuck' });
  for (const id of [orderId, fine])
    await eventually(
      () => service.core.store.load(id),
      (s) => s?.status === 'COMPLETED',
      90000,
    );
  // Put one back into confirming, entered two minutes ago: past the 60 s threshold.
  const past = new Date(Date.now() - 120_000).toISOString();
  await service.core.clients.doc.send(
    new UpdateCommand({
      TableName: service.core.names.tables.orders,
      Key: { orderId },
      UpdateExpression:
        'SET #status = :status, sagaState = :state, saga.#state = :state, updatedAt = :at, stateEnteredAt = :at',
      ExpressionAttributeNames: { '#status': 'status', '#state': 'state' },
      ExpressionAttributeValues: { ':status': 'CONFIRMED', ':state': 'confirming', ':at': past },
    }),
  );
  const page = await listing.list({ stuck: true, customerId: 'c-stuck' }, 25);
  expect(page.rows.map((r) => r.saga.orderId)).toEqual([orderId]);
  expect(page.rows[0].stuck?.reason).toContain('no progress in confirming');
  expect((await listing.list({ stuck: true, customerId: 'c-stuck', state: 'notifying' }, 25)).rows).toEqual([]);
});
