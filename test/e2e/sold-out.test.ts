/**
 * Sold out up front: once a ticket type has no seat left in any shard, POST /orders answers 409
 * sold-out from the Redis flag and starts no saga; the flag is set by the reservation that took
 * the last seat (or one that found none) and goes when seats come back.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { JsonCache } from '../../src/cache/json-cache';
import { closeRedis, createRedis } from '../../src/cache/redis';
import { SoldOutFlags, soldOutKey } from '../../src/cache/sold-out';
import { createLogger } from '../../src/observability/logger';
import { handleInventoryCommand } from '../../src/participants/inventory';
import { putEventInventory } from '../../src/participants/inventory-admin';
import { soldOutTruth } from '../../src/participants/sold-out-truth';
import { participantDeps, release, reserve } from '../participants/helpers';
import { as } from '../support/auth';
import { http, postOrder } from '../support/http';
import { eventually, startTestService, type TestService } from '../support/service';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({}, { label: 'so' });
});
afterAll(async () => {
  await service?.stop();
});

async function orderCount(): Promise<number> {
  const { Count } = await service.core.clients.doc.send(
    new ScanCommand({ TableName: service.aws.names.tables.orders, Select: 'COUNT', ConsistentRead: true }),
  );
  return Count ?? 0;
}

const post = (eventId: string, customerId: string, key?: string) =>
  postOrder(
    service.baseUrl,
    { customerId, eventId, paymentToken: 'tok_success' },
    key ? { 'Idempotency-Key': key } : {},
  );

const putInventory = (eventId: string, totalQuantity: number, shards: number) =>
  http(
    service.baseUrl,
    'PUT',
    `/events/${eventId}/inventory`,
    {
      eventName: 'Flash',
      ticketTypes: [{ ticketType: 'GA', totalQuantity, price: 10, currency: 'EUR', shards }],
    },
    as.organizer(),
  );

const settled = (orderId: string) =>
  eventually(
    () => service.core.store.load(orderId),
    (s) => s !== undefined && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s.status),
  );

function expectSoldOut(r: Awaited<ReturnType<typeof post>>): void {
  expect(r.status).toBe(409);
  expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(r.body).toMatchObject({
    type: 'https://eventticket.dev/problems/sold-out',
    status: 409,
    ticketTypes: ['GA'],
  });
}

// Issue 27: the reservation that takes the last seat flags the sell-out itself, so the very next
// order is refused at POST (before, only a reservation that FAILED set the flag: the next order got
// 202 and its saga failed with SEATS_UNAVAILABLE).
it.each([1, 2])(
  'shards %i: once an order took the last seats, the next order is 409 sold-out and starts no saga',
  async (shards) => {
    const eventId = `ev-${randomUUID()}`;
    expect((await putInventory(eventId, 2, shards)).status).toBe(200);
    const all = await postOrder(service.baseUrl, {
      customerId: 'both',
      eventId,
      paymentToken: 'tok_success',
      quantity: 2,
    });
    expect(all.status).toBe(202);
    expect((await settled(String(all.body.orderId)))!.status).toBe('COMPLETED');

    const before = await orderCount();
    const next = await post(eventId, `next-${shards}`, `next-key-${shards}`);
    expectSoldOut(next);
    expect(await orderCount()).toBe(before);
    // The same request again is refused the same way, still without an order.
    expectSoldOut(await post(eventId, `next-${shards}`, `next-key-${shards}`));
    expect(await orderCount()).toBe(before);
  },
);

it('answers sold-out at POST without starting a saga, and accepts orders again when seats come back', async () => {
  const eventId = `ev-${randomUUID()}`;
  expect((await putInventory(eventId, 1, 2)).status).toBe(200);

  const first = await post(eventId, 'early', 'early-key');
  expect(first.status).toBe(202);
  expect((await settled(String(first.body.orderId)))!.status).toBe('COMPLETED');

  const before = await orderCount();
  const refused = await Promise.all(Array.from({ length: 5 }, (_, i) => post(eventId, `rush-${i}`)));
  for (const r of refused) expectSoldOut(r);
  expect(await orderCount()).toBe(before);
  // A replay of an order accepted before the sell-out is still answered as that order.
  const replay = await post(eventId, 'early', 'early-key');
  expect(replay.status).toBe(202);
  expect(replay.body.orderId).toBe(first.body.orderId);

  // More seats: the flag goes, orders are accepted again.
  expect((await putInventory(eventId, 2, 2)).status).toBe(200);
  expect((await post(eventId, 'after-restock')).status).toBe(202);
});

it('a release or expiry clears the flag; the flag is verified against the store when set', async () => {
  const logger = createLogger('error');
  const redis = createRedis(service.config.redisUrl, logger);
  const cache = new JsonCache(redis, logger, { keyPrefix: `${service.aws.prefix}t2-` });
  try {
    await eventually(
      async () => cache.available,
      (up) => up,
      5000,
    );
    const base = participantDeps(service.aws);
    const flags = new SoldOutFlags(cache, soldOutTruth(base));
    const deps = { ...base, soldOut: flags };
    const eventId = `ev-${randomUUID()}`;
    await putEventInventory(deps, eventId, 'Flash', [
      { ticketType: 'GA', totalQuantity: 1, priceMinor: 1000, currency: 'EUR', shards: 3 },
    ]);
    const holder = randomUUID();
    expect(
      (await handleInventoryCommand(reserve(holder, eventId, [{ ticketType: 'GA', quantity: 1 }]), deps)).type,
    ).toBe('SEATS_RESERVED');
    // The reservation that took the last seat flagged it (issue 27).
    expect(await flags.flagged(eventId, ['GA'])).toEqual(['GA']);
    expect(
      (await handleInventoryCommand(reserve(randomUUID(), eventId, [{ ticketType: 'GA', quantity: 1 }]), deps)).type,
    ).toBe('SEATS_UNAVAILABLE');
    expect(await flags.flagged(eventId, ['GA'])).toEqual(['GA']);

    await handleInventoryCommand(release(holder, 'EXPIRED'), deps);
    expect(await flags.flagged(eventId, ['GA'])).toEqual([]);

    // A flag asked for while seats are there does not stay: the store says otherwise.
    await flags.soldOut(eventId, ['GA']);
    expect((await cache.get(soldOutKey(eventId, 'GA'))).status).toBe('MISS');
  } finally {
    await closeRedis(redis);
  }
});
